/**
 * `wait`, after `asyncio.wait`.
 *
 * @module
 */

import { cancelledFrom } from './exceptions.js';
import { REJECTED, type Future } from './futures.js';
import { ensureFuture } from './tasks.js';
import { addTimer, cancelTimer, now, type Bucket, type Runnable } from './_timers.js';
import { checkSignal, checkTimeout, describe } from './_validate.js';
import { ABORTED, TIMEOUT, Waiter } from './_waiter.js';

/**
 * `wait` returns when every input is done (the default). Same as `asyncio.ALL_COMPLETED`.
 *
 * @example
 * ```ts
 * import { wait, sleep, ALL_COMPLETED } from 'tsaio';
 * const { done } = await wait([sleep(10), sleep(20)], { returnWhen: ALL_COMPLETED });
 * console.log(done.size); // 2
 * ```
 */
export const ALL_COMPLETED = 'ALL_COMPLETED';

/**
 * `wait` returns when any input is done. Same as `asyncio.FIRST_COMPLETED`.
 *
 * @example
 * ```ts
 * import { wait, sleep, FIRST_COMPLETED } from 'tsaio';
 * const { done, pending } = await wait([sleep(10), sleep(50)], { returnWhen: FIRST_COMPLETED });
 * console.log(done.size, pending.size); // 1 1
 * ```
 */
export const FIRST_COMPLETED = 'FIRST_COMPLETED';

/**
 * `wait` returns when any input fails, or when all are done. Same as `asyncio.FIRST_EXCEPTION`.
 *
 * @example
 * ```ts
 * import { wait, sleep, FIRST_EXCEPTION } from 'tsaio';
 * const failing = (async () => { await sleep(10); throw new Error('boom'); })();
 * const { done, pending } = await wait([failing, sleep(50)], { returnWhen: FIRST_EXCEPTION });
 * console.log(done.size, pending.size); // 1 1
 * ```
 */
export const FIRST_EXCEPTION = 'FIRST_EXCEPTION';

/** When `wait` returns. */
export type ReturnWhen = typeof ALL_COMPLETED | typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION;

/** Options of `wait`. */
export interface WaitOptions {
  /** Return after this many ms even if the condition is not met (the unfinished stay pending). */
  timeout?: number | null;
  /** `ALL_COMPLETED` (default), `FIRST_COMPLETED` or `FIRST_EXCEPTION`. */
  returnWhen?: ReturnWhen;
  /** Aborting it rejects the wait with `CancelledError` (the inputs run on). */
  signal?: AbortSignal;
}

/** What `wait` resolves to: the done and the pending futures/tasks. */
export interface WaitResult<T> {
  done: Set<Future<T>>;
  pending: Set<Future<T>>;
}

/**
 * Waits until the inputs meet `returnWhen` or the timeout passes, and splits
 * them into done and pending. Same as `asyncio.wait`: it never cancels
 * anything and never rejects because an input failed. Bodies become tasks,
 * promises futures; the sets hold those futures.
 * A timeout of 0 (or less) expires on the loop's next pass over its timers,
 * after the tasks ready now have run their step, as asyncio's does.
 *
 * @throws {RangeError} (as a rejection) for an empty input, a bad `returnWhen` or a NaN timeout.
 *
 * @example First to finish, then cancel the rest
 * ```ts
 * import { wait, createTask, sleep, FIRST_COMPLETED } from 'tsaio';
 * const tasks = [30, 10, 20].map((ms) => createTask(async (signal) => sleep(ms, ms, { signal })));
 * const { done, pending } = await wait(tasks, { returnWhen: FIRST_COMPLETED });
 * for (const t of done) console.log('Done:', t.result()); // Done: 10
 * for (const t of pending) t.cancel();
 * ```
 */
export async function wait<T>(
  aws: Iterable<PromiseLike<T> | ((signal: AbortSignal) => T | PromiseLike<T>)>,
  opts?: WaitOptions,
): Promise<WaitResult<T>> {
  if (aws === null || typeof (aws as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
    throw new TypeError(`wait: expected an iterable of awaitables, received ${describe(aws)}`);
  }
  const returnWhen = opts?.returnWhen ?? ALL_COMPLETED;
  if (returnWhen !== ALL_COMPLETED && returnWhen !== FIRST_COMPLETED && returnWhen !== FIRST_EXCEPTION) {
    throw new RangeError(`wait: invalid returnWhen value: ${describe(returnWhen)}`);
  }
  const ms = checkTimeout(opts?.timeout, 'wait');
  const signal = checkSignal(opts?.signal, 'wait');
  const futures = new Set<Future<T>>();
  for (const aw of aws) futures.add(ensureFuture<T>(aw));
  if (futures.size === 0) throw new RangeError('wait: the set of awaitables is empty');

  const deadline = ms === null ? null : now() + ms;
  // A timeout already due fires on the loop's next pass over its timers, as CPython's
  // `call_later(0)` does: the tasks ready now (just made, just woken) run their step first.
  const due = deadline !== null && deadline <= now();
  const waiter = new Waiter(due ? null : deadline, signal);
  const late = due ? new LateTimeout(waiter, deadline) : null;
  let counter = futures.size;
  const onDone = (f: Future<T>): void => {
    counter--;
    if (
      counter <= 0 ||
      returnWhen === FIRST_COMPLETED ||
      (returnWhen === FIRST_EXCEPTION && f._state === REJECTED)
    ) {
      waiter.wake(0);
    }
  };
  for (const f of futures) f._addCallback(onDone);
  const outcome = await waiter.promise;
  late?.cancel();
  for (const f of futures) f._removeCallback(onDone);
  if (outcome === ABORTED) throw cancelledFrom(signal!.reason);

  const done = new Set<Future<T>>();
  const pending = new Set<Future<T>>();
  for (const f of futures) (f.done() ? done : pending).add(f);
  return { done, pending };
}

/** A timeout that was due when `wait` began: a timer entry that times the waiter out when it fires. */
class LateTimeout implements Runnable {
  private readonly _bucket: Bucket;
  private _cancelled = false;

  constructor(
    private readonly _waiter: Waiter,
    when: number,
  ) {
    this._bucket = addTimer(when, this);
  }

  _fire(): void {
    if (!this._cancelled) this._waiter.wake(TIMEOUT);
  }

  cancel(): void {
    if (this._cancelled) return;
    this._cancelled = true;
    cancelTimer(this._bucket);
  }
}
