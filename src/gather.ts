/**
 * `gather`, after `asyncio.gather`.
 *
 * @module
 */

import { CancelledError, cancelledFrom } from './exceptions.js';
import { FULFILLED, Future, isThenable, type Observer } from './futures.js';
import { createSharedSiteTask, ensureFuture, type TaskBody } from './tasks.js';
import { debugState, type SharedSite } from './_debug.js';
import { linkSignal, unlinkSignal } from './_cancel.js';
import { checkSignal, describe } from './_validate.js';

/** Options of `gather`. */
export interface GatherOptions {
  /** Put errors among the results instead of rejecting on the first one. */
  returnExceptions?: boolean;
  /** Aborting it cancels every child, waits for them, and rejects with `CancelledError`. */
  signal?: AbortSignal;
}

/** The result type of one input of `gather`: a body's awaited return, or the awaited value. */
export type GatherResult<E> = E extends (...args: any[]) => infer R ? Awaited<R> : Awaited<E>;

/** The result tuple of `gather`. */
export type GatherResults<T extends readonly unknown[]> = { -readonly [K in keyof T]: GatherResult<T[K]> };

/**
 * Runs every input concurrently and resolves to their results, in input
 * order. Same as `asyncio.gather`. Inputs are promises, futures, tasks, or
 * task bodies `(signal) => ...` (which become tasks).
 *
 * The first failure rejects the gather and does not cancel the others (as in
 * Python); with `returnExceptions` errors are results instead. Aborting
 * `signal` cancels every child that is a future or task, waits for all of them
 * to finish, then rejects with `CancelledError`.
 *
 * @throws {TypeError} (as a rejection) if `aws` is not an array.
 *
 * @example Five fetches at once
 * ```ts
 * import { gather, sleep } from 'tsaio';
 * const fetch = async (url: string) => { await sleep(100); return `Data from ${url}`; };
 * const results = await gather(['url1', 'url2', 'url3'].map((u) => () => fetch(u)));
 * console.log(results); // [ 'Data from url1', 'Data from url2', 'Data from url3' ] after ~100 ms
 * ```
 */
export function gather<const T extends readonly unknown[]>(
  aws: T,
  opts?: GatherOptions & { returnExceptions?: false },
): Promise<GatherResults<T>>;
export function gather<const T extends readonly unknown[]>(
  aws: T,
  opts: GatherOptions & { returnExceptions: true },
): Promise<{ -readonly [K in keyof T]: GatherResult<T[K]> | Error }>;
export function gather(aws: readonly unknown[], opts?: GatherOptions): Promise<unknown[]> {
  let signal: AbortSignal | undefined;
  try {
    if (!Array.isArray(aws))
      throw new TypeError(`gather: expected an array of awaitables, received ${describe(aws)}`);
    signal = checkSignal(opts?.signal, 'gather');
  } catch (error) {
    return Promise.reject(error);
  }
  const children = toFutures(aws);
  if (signal?.aborted) for (const child of children) child.cancel(cancelMessage(signal));
  if (children.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    new Gathering(children, opts?.returnExceptions === true, signal, resolve, reject).start();
  });
}

/**
 * One future per input. The same promise given twice shares one future, as
 * CPython's gather shares one per awaitable (plain sleeps due in the same ms
 * share a promise, so a hundred thousand of them need only a few futures).
 * The bodies become tasks made at one place, the caller of `gather`: in debug
 * mode they share one capture of it.
 */
function toFutures(aws: readonly unknown[]): Future<unknown>[] {
  let seen: Map<unknown, Future<unknown>> | null = null;
  let shared: SharedSite | null = null;
  const children = new Array<Future<unknown>>(aws.length);
  for (let i = 0; i < aws.length; i++) {
    const aw = aws[i];
    if (typeof aw === 'function') {
      if (debugState.watching) shared ??= { cut: gather, site: undefined };
      children[i] = createSharedSiteTask(aw as TaskBody<unknown>, shared);
      continue;
    }
    if (aw instanceof Future || !isThenable(aw)) {
      children[i] = ensureFuture<unknown>(aw);
      continue;
    }
    seen ??= new Map();
    let future = seen.get(aw);
    if (future === undefined) seen.set(aw, (future = ensureFuture<unknown>(aw)));
    children[i] = future;
  }
  return children;
}

/** The message of the cancellation that aborted `signal`, if it was a `CancelledError`. */
function cancelMessage(signal: AbortSignal): string | undefined {
  const reason: unknown = signal.reason;
  return reason instanceof CancelledError ? reason.message : undefined;
}

/** The state of one `gather` call: one callback shared by every child. */
class Gathering implements Observer {
  private _remaining: number;
  private _settled = false;
  private _cancelling = false;

  constructor(
    private readonly _children: Future<unknown>[],
    private readonly _returnExceptions: boolean,
    private readonly _signal: AbortSignal | undefined,
    private readonly _resolve: (values: unknown[]) => void,
    private readonly _reject: (error: unknown) => void,
  ) {
    this._remaining = _children.length;
  }

  start(): void {
    if (this._signal !== undefined) {
      if (this._signal.aborted) this._cancelling = true;
      else linkSignal(this._signal, this);
    }
    for (const child of this._children) child._addCallback(this);
  }

  /**
   * The gather's signal aborted: cancel every child with the message of that
   * cancellation (as CPython's gather passes it on), then wait for them.
   */
  handleEvent(): void {
    if (this._settled) return;
    this._cancelling = true;
    const msg = cancelMessage(this._signal!);
    for (const child of this._children) child.cancel(msg);
  }

  /** @internal A child is done. */
  _futureDone(child: Future<unknown>): void {
    this._remaining--;
    child._retrieved();
    if (this._settled) return;
    if (this._cancelling) {
      if (this._remaining === 0) this._finish(() => this._reject(cancelledFrom(this._signal!.reason)));
      return;
    }
    if (child._state !== FULFILLED && !this._returnExceptions) {
      this._finish(() => this._reject(child._value));
      return;
    }
    if (this._remaining === 0) this._finish(() => this._resolve(this._results()));
  }

  private _results(): unknown[] {
    const children = this._children;
    const values = new Array<unknown>(children.length);
    // A result, an error or a CancelledError: each child's settled value.
    for (let i = 0; i < children.length; i++) values[i] = children[i]!._value;
    return values;
  }

  private _finish(settle: () => void): void {
    this._settled = true;
    if (this._signal !== undefined) unlinkSignal(this._signal, this);
    settle();
  }
}
