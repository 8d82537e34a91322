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
import { CancelScope } from './_cancelscope.js';
import { now } from './_timers.js';
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

/**
 * The cancel scope under a `Timeout`: the outer signal cancels it (and is
 * remembered, so that its cancellation never becomes `TimeoutError`), the
 * deadline cancels it once while the scope is open and marks it expiring.
 */
class TimeoutScope extends CancelScope {
  _state = ENTERED;
  _parentAborted = false;

  override _onSignal(reason: unknown): void {
    this._parentAborted = true;
    this.cancel(cancelledFrom(reason));
  }

  override _onDeadline(): void {
    if (this._state !== ENTERED) return;
    this._state = EXPIRING;
    // No message, as CPython's timeout cancels its task with none.
    this.cancel(new CancelledError());
  }
}

function describeScope(scope: TimeoutScope): string {
  const state = ['active', 'expiring', 'finished', 'expired'][scope._state];
  const when = scope.when();
  return `<Timeout [${state}] when=${when === null ? 'null' : when.toFixed(3)}>`;
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
export class Timeout {
  /** @internal The core cancel scope it stands on. */
  readonly _scope: TimeoutScope;

  /** @internal Use `timeout` or `timeoutAt`. */
  constructor(when: number | null, parent: AbortSignal | undefined) {
    this._scope = new TimeoutScope().open(parent, when);
  }

  /** The scope's signal: aborted at the deadline or by the outer signal. */
  get signal(): AbortSignal {
    return this._scope.signal;
  }

  /** The deadline in `loop.time()` ms, or `null` for none. */
  when(): number | null {
    return this._scope.when();
  }

  /**
   * Moves the deadline (`null`: none). A deadline already past expires the
   * scope at once. `InvalidStateError` once the scope has expired or exited.
   */
  reschedule(when: number | null): void {
    const state = this._scope._state;
    if (state !== ENTERED) {
      const name = state === EXITED ? 'exited' : 'expired';
      throw new InvalidStateError(`reschedule: cannot change the deadline of an ${name} timeout scope`);
    }
    this._scope.reschedule(checkDeadline(when, 'reschedule'));
  }

  /** True if the deadline passed while the scope was open. */
  expired(): boolean {
    const state = this._scope._state;
    return state === EXPIRING || state === EXPIRED;
  }

  toString(): string {
    return describeScope(this._scope);
  }

  /** @internal Closes the scope; turns its own expiry into `TimeoutError`. */
  _exit(error: unknown, failed: boolean): void {
    const scope = this._scope;
    scope.end();
    const expired = scope._state === EXPIRING;
    scope._state = expired ? EXPIRED : EXITED;
    if (!failed) return;
    if (expired && !scope._parentAborted && isCancellation(error)) {
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
