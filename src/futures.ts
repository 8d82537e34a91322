/**
 * `Future`: a result that will exist later, after `asyncio.Future`.
 *
 * @module
 */

import { CancelledError, InvalidStateError } from './exceptions.js';
import { debugState, hooks } from './_debug.js';
import { markRetrieved, reportError } from './_report.js';

/** States of a future (private). */
export const PENDING = 0;
export const FULFILLED = 1;
export const REJECTED = 2;
export const CANCELLED = 3;

/** A done-callback: called with the future once it is done. */
export type DoneCallback<T> = (future: Future<T>) => void;

/**
 * Private: tsaio's own listeners (gather, wait, task groups). They run
 * synchronously when the future settles, before the public done-callbacks,
 * which always run in a microtask.
 */
export interface Observer {
  _futureDone(future: Future<any>): void;
}

type AnyCallback = DoneCallback<any> | Observer;

const inspect = Symbol.for('nodejs.util.inspect.custom');

// Done-callbacks of every future that settled run from one shared microtask.
let callbackQueue: Future<any>[] = [];
let callbacksScheduled = false;

function scheduleCallbacks(future: Future<any>): void {
  callbackQueue.push(future);
  if (!callbacksScheduled) {
    callbacksScheduled = true;
    queueMicrotask(runCallbacks);
  }
}

function runCallbacks(): void {
  const queue = callbackQueue;
  try {
    for (let i = 0; i < queue.length; i++) {
      const future = queue[i]!;
      const cbs = future._cbs;
      future._cbs = null;
      if (Array.isArray(cbs)) for (const cb of cbs) callSafely(cb, future);
      else if (cbs !== null) callSafely(cbs, future);
    }
  } finally {
    callbackQueue = [];
    callbacksScheduled = false;
  }
}

/** Calls a done-callback or an observer; what it throws goes to the loop's exception handler. */
function callSafely(cb: AnyCallback, future: Future<any>): void {
  try {
    if (typeof cb === 'function') cb(future);
    else cb._futureDone(future);
  } catch (exception) {
    try {
      reportError({ message: `Exception in done-callback of ${String(future)}`, exception, future });
    } catch {
      // The handler and its fallback failed too: nowhere left to report to.
    }
  }
}

/**
 * A value that will be set later: by `setResult`, `setException` or `cancel`.
 * Awaitable, like a promise. Same as `asyncio.Future`. Done-callbacks run
 * asynchronously (in a microtask), in the order they were added.
 *
 * @example A future settled by a timer
 * ```ts
 * import { Future, getRunningLoop } from 'tsaio';
 * const f = new Future<string>();
 * getRunningLoop().callLater(10, () => f.setResult('ready'));
 * console.log(await f); // ready
 * ```
 */
export class Future<T = unknown> implements PromiseLike<T> {
  /** @internal */ _state: number = PENDING;
  /** @internal */ _value: unknown = undefined;
  /** @internal */ _cbs: AnyCallback | AnyCallback[] | null = null;
  /** @internal */ _promise: Promise<T> | null = null;

  /** True once the future has a result, an exception, or was cancelled. */
  done(): boolean {
    return this._state !== PENDING;
  }

  /** True if the future was cancelled. */
  cancelled(): boolean {
    return this._state === CANCELLED;
  }

  /**
   * The result. Throws `InvalidStateError` while pending, the `CancelledError`
   * if cancelled, and the error if it failed.
   */
  result(): T {
    if (this._state === REJECTED) markRetrieved(this);
    switch (this._state) {
      case FULFILLED:
        return this._value as T;
      case PENDING:
        throw new InvalidStateError(`${this._kind()} result is not set yet: ${String(this)}`);
      default:
        throw this._value;
    }
  }

  /**
   * The error the future failed with, or `null` if it has a result. Throws
   * `InvalidStateError` while pending and the `CancelledError` if cancelled.
   */
  exception(): unknown {
    if (this._state === REJECTED) markRetrieved(this);
    switch (this._state) {
      case FULFILLED:
        return null;
      case REJECTED:
        return this._value;
      case PENDING:
        throw new InvalidStateError(`${this._kind()} exception is not set yet: ${String(this)}`);
      default:
        throw this._value;
    }
  }

  /** Marks the future done with `value`; `InvalidStateError` if it is done already. */
  setResult(value: T): void {
    this._checkPending('setResult');
    this._settle(FULFILLED, value);
  }

  /** Marks the future failed with `error`; `InvalidStateError` if it is done already. */
  setException(error: unknown): void {
    this._checkPending('setException');
    this._settle(REJECTED, error);
  }

  /**
   * Cancels the future: it becomes done, and awaiting it rejects with a
   * `CancelledError` carrying `msg`. Returns false if it was done already.
   */
  cancel(msg?: string): boolean {
    if (this._state !== PENDING) return false;
    this._settle(CANCELLED, new CancelledError(msg ?? ''));
    return true;
  }

  /** Calls `cb(future)` once the future is done (soon, if it is done already). */
  addDoneCallback(cb: DoneCallback<T>): void {
    if (typeof cb !== 'function') throw new TypeError('addDoneCallback: the callback must be a function');
    this._addCallback(cb);
  }

  /** Removes every registration of `cb`; returns how many were removed. */
  removeDoneCallback(cb: DoneCallback<T>): number {
    const cbs = this._cbs;
    if (cbs === cb) {
      this._cbs = null;
      return 1;
    }
    if (!Array.isArray(cbs)) return 0;
    const kept = cbs.filter((c) => c !== cb);
    this._cbs = kept.length === 0 ? null : kept;
    return cbs.length - kept.length;
  }

  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    this._awaited();
    return this._asPromise().then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: any) => R | PromiseLike<R>) | null): Promise<T | R> {
    this._awaited();
    return this._asPromise().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    this._awaited();
    return this._asPromise().finally(onfinally);
  }

  /** Makes a future usable wherever a `Promise` is expected (same shape). */
  get [Symbol.toStringTag](): string {
    return this.constructor.name;
  }

  toString(): string {
    return `<${this.constructor.name} ${this._describeState()}>`;
  }

  [inspect](): string {
    return this.toString();
  }

  /** @internal */
  _describeState(): string {
    switch (this._state) {
      case PENDING:
        return 'pending';
      case CANCELLED:
        return 'cancelled';
      case FULFILLED:
        return `finished result=${short(this._value)}`;
      default:
        return `finished exception=${short(this._value)}`;
    }
  }

  /** @internal */
  _kind(): string {
    return this.constructor.name;
  }

  /**
   * @internal The one way to settle. Observers run now; done-callbacks in a
   * microtask, in the order they were added.
   */
  _settle(state: number, value: unknown): void {
    this._state = state;
    this._value = value;
    const cbs = this._cbs;
    if (cbs === null) return;
    if (typeof cbs === 'function') {
      scheduleCallbacks(this);
    } else if (!Array.isArray(cbs)) {
      this._cbs = null;
      callSafely(cbs, this);
    } else {
      const functions = cbs.filter((cb) => typeof cb === 'function');
      this._cbs = functions.length === 0 ? null : functions;
      for (const cb of cbs) if (typeof cb !== 'function') callSafely(cb, this);
      if (functions.length > 0) scheduleCallbacks(this);
    }
  }

  /**
   * @internal Someone awaits this future and will read its outcome: a failed
   * task is not reported (one still pending is not watched once it fails,
   * as its promise exists); debug mode checks for a task awaiting itself.
   */
  _awaited(): void {
    if (debugState.watching) hooks.awaited(this);
    if (this._state === REJECTED) markRetrieved(this);
  }

  /** @internal Whoever observes this future reads its outcome (gather, a task group, shield). */
  _retrieved(): void {
    if (this._state === REJECTED) markRetrieved(this);
  }

  /** @internal Adds a done-callback or an observer; on a done future, both run in a microtask. */
  _addCallback(cb: AnyCallback): void {
    if (debugState.watching && typeof cb !== 'function') hooks.awaited(this);
    const cbs = this._cbs;
    if (cbs === null) this._cbs = cb;
    else if (Array.isArray(cbs)) cbs.push(cb);
    else this._cbs = [cbs, cb];
    if (this._state !== PENDING && cbs === null) scheduleCallbacks(this);
  }

  /** @internal Removes one registration of `cb`. */
  _removeCallback(cb: AnyCallback): void {
    const cbs = this._cbs;
    if (cbs === cb) this._cbs = null;
    else if (Array.isArray(cbs)) {
      const i = cbs.indexOf(cb);
      if (i >= 0) cbs.splice(i, 1);
    }
  }

  /** @internal A native promise settled with this future (made once). */
  _asPromise(): Promise<T> {
    if (this._promise === null) {
      this._promise = new Promise<T>((resolve, reject) => {
        this._addCallback((f: Future<T>) => {
          if (f._state === FULFILLED) resolve(f._value as T);
          else reject(f._value);
        });
      });
    }
    return this._promise;
  }

  /** @internal */
  _checkPending(what: string): void {
    if (this._state !== PENDING) {
      throw new InvalidStateError(`${what}: ${String(this)} is already done`);
    }
  }
}

function short(value: unknown): string {
  if (value instanceof Error) return `${value.name}(${JSON.stringify(value.message)})`;
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Resolves once `future` is done, whatever its outcome (never rejects). */
export function whenDone(future: Future<unknown>): Promise<void> {
  if (future._state !== PENDING) return Promise.resolve();
  return new Promise((resolve) => future._addCallback(() => resolve()));
}

/** True for anything with a callable `then` (a promise or a future). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A future settled by a promise (which cannot itself be cancelled). */
export function futureFromThenable<T>(thenable: PromiseLike<T>): Future<T> {
  const future = new Future<T>();
  thenable.then(
    (value) => {
      if (future._state === PENDING) future._settle(FULFILLED, value);
    },
    (error) => {
      if (future._state !== PENDING) return;
      if (error instanceof CancelledError) future._settle(CANCELLED, error);
      else future._settle(REJECTED, error);
    },
  );
  return future;
}
