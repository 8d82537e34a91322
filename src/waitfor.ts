/**
 * `waitFor`, after `asyncio.wait_for`.
 *
 * @module
 */

import { TimeoutError, cancelledFrom } from './exceptions.js';
import { CANCELLED, whenDone, type Future } from './futures.js';
import { ensureFuture, type AwaitableLike } from './tasks.js';
import { now } from './_timers.js';
import { checkSignal, checkTimeout } from './_validate.js';
import { ABORTED, DONE, Waiter } from './_waiter.js';

/** Options of `waitFor`. */
export interface WaitForOptions {
  /** Aborting it cancels `aw`, waits for it, and rejects with `CancelledError`. */
  signal?: AbortSignal;
}

/**
 * Waits for `aw` with a time limit. On timeout it cancels `aw` (a task, a
 * body or a future), waits until it has finished cancelling, and rejects with
 * `TimeoutError`; if `aw` ignores the cancellation and returns a value, that
 * value is the result. Aborting `signal` also cancels `aw` and waits for it,
 * then rejects with `CancelledError` whatever `aw` did — also when it aborts
 * after the timeout, while `aw` is still stopping. A plain promise cannot be cancelled: the wait for it is
 * abandoned. `ms` of `null` waits without a limit; `0` cancels a task that has
 * not started before it runs, and gives a done future's result. Same as
 * `asyncio.wait_for`.
 *
 * @throws {RangeError} (as a rejection) for a NaN or -Infinity `ms`.
 *
 * @example
 * ```ts
 * import { waitFor, sleep, TimeoutError } from 'tsaio';
 * try {
 *   await waitFor(async (signal) => { await sleep(5000, undefined, { signal }); }, 50);
 * } catch (e) {
 *   if (e instanceof TimeoutError) console.log('Timed out!');
 * }
 * ```
 */
export async function waitFor<T>(
  aw: AwaitableLike<T> | Future<T>,
  ms: number | null,
  opts?: WaitForOptions,
): Promise<Awaited<T>> {
  const delay = checkTimeout(ms, 'waitFor');
  const signal = checkSignal(opts?.signal, 'waitFor');
  const future = ensureFuture<Awaited<T>>(aw);
  if (future.done()) return future.result();
  // The waiter cancels `future` the moment it times out or is aborted (see `Waiter`).
  const waiter = new Waiter(delay === null ? null : now() + Math.max(0, delay), signal, future);
  if (!waiter.settled) {
    // Not yet timed out or aborted: a task not started by now is cancelled before it runs.
    future._addCallback(waiter);
    await waiter.promise;
    if (waiter.outcome === DONE) return future.result();
    future._removeCallback(waiter);
  }
  await whenDone(future);
  // Aborted, first or while the timeout was still cancelling the work (CPython: a second
  // cancel request wins over the timeout): the inner work was cancelled with the message
  // of the cancellation, as in CPython.
  if (waiter.outcome === ABORTED || signal?.aborted === true) throw cancelledFrom(signal!.reason);
  if (future._state !== CANCELLED) return future.result();
  throw new TimeoutError(`waitFor: timed out after ${delay} ms`, { cause: future._value });
}

/** Cancels `future` and resolves once it is done (a task may take a while to stop). */
export function cancelAndWait(future: Future<unknown>): Promise<void> {
  future.cancel();
  return whenDone(future);
}
