/**
 * `timeout`, `timeoutAt` and the `Timeout` scope, after `asyncio.timeouts`.
 *
 * @module
 */

import {
  CancelledError,
  InvalidStateError,
  TimeoutError,
  cancelledFrom,
  isCancellation,
} from './exceptions.js';
import { abortNode, linkSignal, signalOf, unlinkSignal, type CancelNode, type Hook } from './_cancel.js';
import { addTimer, cancelTimer, now, type Bucket, type Runnable } from './_timers.js';
import { checkDeadline, checkFunction, checkSignal, checkTimeout } from './_validate.js';
import { readsArgument } from './_signature.js';

/** Options of `timeout` and `timeoutAt`. */
export interface TimeoutOptions {
  /** The outer signal: aborting it cancels the body (and is not turned into `TimeoutError`). */
  signal?: AbortSignal;
}

/** The body of a timeout scope. */
export type TimeoutBody<T> = (signal: AbortSignal, scope: Timeout) => T | PromiseLike<T>;

const ENTERED = 0;
const EXPIRING = 1;
const EXITED = 2;
const EXPIRED = 3;

/** One scheduling of a scope's deadline (a reschedule makes a new one). */
class Deadline implements Runnable {
  _cancelled = false;
  _bucket: Bucket | null = null;
  constructor(readonly _scope: Timeout) {}
  _fire(): void {
    this._bucket = null;
    if (!this._cancelled) this._scope._expire();
  }
  cancel(): void {
    this._cancelled = true;
    if (this._bucket !== null) cancelTimer(this._bucket);
    this._bucket = null;
  }
}

/**
 * A cancel scope with a deadline, as `timeout` and `timeoutAt` hand it to
 * their body. Same as `asyncio.Timeout`. Its `signal` aborts at the deadline
 * or when the outer signal aborts.
 *
 * @example Moving the deadline from inside the body
 * ```ts
 * import { timeout, sleep, getRunningLoop } from 'tsaio';
 * await timeout(10, async (signal, scope) => {
 *   scope.reschedule(getRunningLoop().time() + 100); // more time
 *   await sleep(50, undefined, { signal });
 * });
 * ```
 */
export class Timeout implements CancelNode {
  /** @internal */ _aborted = false;
  /** @internal */ _reason: unknown = undefined;
  /** @internal */ _hooks: Hook | Set<Hook> | null = null;
  /** @internal */ _ctl: AbortController | null = null;
  /** @internal */ _state = ENTERED;
  /** @internal */ _when: number | null;
  /** @internal */ _deadline: Deadline | null = null;
  /** @internal */ _parent: AbortSignal | undefined;
  /** @internal */ _parentAborted = false;

  /** @internal Use `timeout` or `timeoutAt`. */
  constructor(when: number | null, parent: AbortSignal | undefined) {
    this._when = when;
    this._parent = parent;
    if (parent !== undefined) {
      if (parent.aborted) this.handleEvent();
      else linkSignal(parent, this);
    }
    this._schedule();
  }

  /** The scope's signal: aborted at the deadline or by the outer signal. */
  get signal(): AbortSignal {
    return signalOf(this);
  }

  /** The deadline in `loop.time()` ms, or `null` for none. */
  when(): number | null {
    return this._when;
  }

  /**
   * Moves the deadline (`null`: none). A deadline already past expires the
   * scope at once. `InvalidStateError` once the scope has expired or exited.
   */
  reschedule(when: number | null): void {
    if (this._state !== ENTERED) {
      const state = this._state === EXITED ? 'exited' : 'expired';
      throw new InvalidStateError(`reschedule: cannot change the deadline of an ${state} timeout scope`);
    }
    this._when = checkDeadline(when, 'reschedule');
    this._deadline?.cancel();
    this._deadline = null;
    this._schedule();
  }

  /** True if the deadline passed while the scope was open. */
  expired(): boolean {
    return this._state === EXPIRING || this._state === EXPIRED;
  }

  toString(): string {
    const state = ['active', 'expiring', 'finished', 'expired'][this._state];
    return `<Timeout [${state}] when=${this._when === null ? 'null' : this._when.toFixed(3)}>`;
  }

  /** @internal The outer signal aborted. */
  handleEvent(): void {
    this._parentAborted = true;
    abortNode(this, cancelledFrom(this._parent!.reason));
  }

  /** @internal The deadline passed. */
  _expire(): void {
    if (this._state !== ENTERED) return;
    this._state = EXPIRING;
    this._deadline = null;
    abortNode(this, new CancelledError(`deadline of ${String(this)} passed`));
  }

  /** @internal */
  _schedule(): void {
    if (this._when === null) return;
    if (this._when <= now()) {
      this._expire();
      return;
    }
    const deadline = new Deadline(this);
    deadline._bucket = addTimer(this._when, deadline);
    this._deadline = deadline;
  }

  /** @internal Closes the scope; turns its own expiry into `TimeoutError`. */
  _exit(error: unknown, failed: boolean): void {
    this._deadline?.cancel();
    this._deadline = null;
    if (this._parent !== undefined) unlinkSignal(this._parent, this);
    const expired = this._state === EXPIRING;
    this._state = expired ? EXPIRED : EXITED;
    if (!failed) return;
    if (expired && !this._parentAborted && isCancellation(error)) {
      throw new TimeoutError('the timeout scope expired', { cause: error });
    }
    throw error;
  }
}

/**
 * Runs `body(signal, scope)` with a deadline `ms` from now (`null`: none).
 * At the deadline the signal aborts, so every wait given it rejects with
 * `CancelledError`; once the body has settled, that cancellation becomes a
 * `TimeoutError` — only the one this scope caused. The scope settles only
 * after its body did: the work has stopped when `TimeoutError` arrives.
 * Same as `async with asyncio.timeout(delay):`. A deadline already past still
 * runs the body, with its signal already aborted.
 *
 * @throws {RangeError} (as a rejection) for a NaN or -Infinity `ms`; {TypeError} for a non-function body.
 *
 * @example
 * ```ts
 * import { timeout, sleep, TimeoutError } from 'tsaio';
 * try {
 *   await timeout(50, async (signal) => { await sleep(5000, undefined, { signal }); });
 * } catch (e) {
 *   if (e instanceof TimeoutError) console.log('Timed out!');
 * }
 * ```
 */
export async function timeout<T>(ms: number | null, body: TimeoutBody<T>, opts?: TimeoutOptions): Promise<T> {
  const delay = checkTimeout(ms, 'timeout');
  return runScope(delay === null ? null : now() + delay, body, opts, 'timeout');
}

/**
 * Like `timeout`, with an absolute deadline in `loop.time()` ms. Same as
 * `asyncio.timeout_at`.
 *
 * @example
 * ```ts
 * import { timeoutAt, getRunningLoop, sleep } from 'tsaio';
 * const when = getRunningLoop().time() + 1000;
 * console.log(await timeoutAt(when, () => sleep(10, 'in time'))); // in time
 * ```
 */
export async function timeoutAt<T>(
  when: number | null,
  body: TimeoutBody<T>,
  opts?: TimeoutOptions,
): Promise<T> {
  return runScope(checkDeadline(when, 'timeoutAt'), body, opts, 'timeoutAt');
}

async function runScope<T>(
  when: number | null,
  body: TimeoutBody<T>,
  opts: TimeoutOptions | undefined,
  where: string,
): Promise<T> {
  checkFunction(body, where, 'the body');
  const scope = new Timeout(when, checkSignal(opts?.signal, where));
  let value: T;
  try {
    value = await (readsArgument(body, 0) ? body(scope.signal, scope) : body(undefined as never, scope));
  } catch (error) {
    scope._exit(error, true);
    throw error;
  }
  scope._exit(undefined, false);
  return value;
}
