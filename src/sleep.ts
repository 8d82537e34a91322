/**
 * `sleep`, after `asyncio.sleep`.
 *
 * @module
 */

import { cancelledFrom } from './exceptions.js';
import { CancelScope } from './_cancelscope.js';
import { addTimer, nextTurnPromise, now, scheduleReady, timerPromise } from './_timers.js';
import { checkDelay, checkSignal } from './_validate.js';
import { debugState, hooks } from './_debug.js';

/** Options of `sleep`. */
export interface SleepOptions {
  /** Aborting it ends the sleep with `CancelledError`. */
  signal?: AbortSignal;
}

/**
 * A sleep that a signal can cancel: a cancel scope whose deadline resolves
 * the sleep and whose signal rejects it. It never reschedules and no one
 * cancels it, so its timer entry (or ready-queue entry, for a delay of 0)
 * needs no check but `_ended`.
 */
class Sleeper<T> extends CancelScope {
  constructor(
    readonly _value: T,
    readonly _resolve: (value: T) => void,
    readonly _reject: (error: unknown) => void,
  ) {
    super();
  }

  override _fire(): void {
    this._bucket = null;
    if (!this._ended) this._onDeadline();
  }

  override _onDeadline(): void {
    this.end();
    this._resolve(this._value);
  }

  override _onSignal(reason: unknown): void {
    this.end();
    this._reject(cancelledFrom(reason));
  }
}

/**
 * Resolves with `value` after `ms` milliseconds without blocking the loop.
 * Same as `asyncio.sleep` (in ms). `sleep(0)` yields one turn of the event
 * loop, in which I/O callbacks may run; a negative delay is 0; `Infinity`
 * sleeps until the signal aborts.
 *
 * @param ms the delay in milliseconds.
 * @param value what the promise resolves to.
 * @param opts `signal`: aborting it rejects the sleep with `CancelledError`.
 * @throws {RangeError} (as a rejection) for a NaN delay; {TypeError} for a non-number.
 *
 * @example
 * ```ts
 * import { sleep } from 'tsaio';
 * const start = performance.now();
 * console.log(await sleep(50, 'woke')); // woke
 * console.log(performance.now() - start >= 50); // true
 * ```
 */
export function sleep<T>(ms: number, value: T, opts?: SleepOptions): Promise<T>;
export function sleep(ms: number): Promise<void>;
export function sleep<T>(ms: number, value?: T, opts?: SleepOptions): Promise<T | undefined> {
  const slept = sleeping(ms, value, opts);
  if (debugState.tracing) hooks.wait(slept, `sleep ${ms} ms`, 'sleep');
  return slept;
}

function sleeping<T>(
  ms: number,
  value: T | undefined,
  opts: SleepOptions | undefined,
): Promise<T | undefined> {
  let delay: number;
  let signal: AbortSignal | undefined;
  try {
    delay = checkDelay(ms, 'sleep');
    signal = checkSignal(opts?.signal, 'sleep');
  } catch (error) {
    return Promise.reject(error);
  }
  if (signal === undefined) {
    if (delay === Infinity) return new Promise(() => {});
    if (value === undefined) {
      return (delay === 0 ? nextTurnPromise() : timerPromise(now() + delay)) as Promise<undefined>;
    }
    return new Promise((resolve) => {
      const entry = (): void => resolve(value);
      if (delay === 0) scheduleReady(entry);
      else addTimer(now() + delay, entry);
    });
  }
  if (signal.aborted) return Promise.reject(cancelledFrom(signal.reason));
  return new Promise((resolve, reject) => {
    const sleeper = new Sleeper(value, resolve, reject);
    sleeper.open(signal, delay === 0 || delay === Infinity ? null : now() + delay);
    if (delay === 0) scheduleReady(sleeper);
  });
}
