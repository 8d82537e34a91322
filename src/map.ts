/**
 * `map`: an async iterable of `fn`'s results over a source, with at most
 * `concurrency` calls at once (as p-map). The work started for the iteration
 * belongs to it: see `_reader.ts`.
 *
 * @module
 */

import { cancelledFrom } from './exceptions.js';
import { FULFILLED, type Future, type Observer } from './futures.js';
import { createTask, type Task } from './tasks.js';
import { checkFunction, checkLimit, checkSignal } from './_validate.js';
import { ABORTED, DONE, Waiter } from './_waiter.js';
import { cancelAndWait, waitFor } from './waitfor.js';
import { Reader, type AnyIterable } from './_reader.js';

/** Options of `map` and `filter`. */
export interface MapOptions {
  /** How many calls may run at once (default 1). */
  concurrency?: number;
  /** Yield in input order (default) or as calls finish (`false`). */
  ordered?: boolean;
  /** A time limit per call, in ms: a call that exceeds it is cancelled and the iteration fails with `TimeoutError`. */
  timeout?: number | null;
  /** Aborting it cancels the calls in flight and ends the iteration with `CancelledError`. */
  signal?: AbortSignal;
}

/** Cancels `tasks` and waits until every one has stopped. */
async function cancelAll(tasks: Iterable<Task<unknown>>): Promise<void> {
  await Promise.all([...tasks].map(cancelAndWait));
}

/** The calls of one `map`, in the order they finish. */
class Finishing<R> implements Observer {
  readonly order: Task<R>[] = [];
  failed: Task<R> | null = null;
  waiter: Waiter | null = null;
  _futureDone(future: Future<unknown>): void {
    const task = future as Task<R>;
    this.order.push(task);
    if (task._state !== FULFILLED) this.failed ??= task;
    this.waiter?.wake(DONE);
  }
  /** The next call to hand out: a failure first, else the head (ordered) or the first finished. */
  next(window: Task<R>[], ordered: boolean): Task<R> | null {
    if (this.failed !== null) return this.failed;
    if (!ordered) return this.order[0] ?? null;
    return window[0]!.done() ? window[0]! : null;
  }
  remove(task: Task<R>): void {
    const at = this.order.indexOf(task);
    if (at >= 0) this.order.splice(at, 1);
  }
}

/**
 * Calls `fn(item, signal, index)` for each item with at most `concurrency`
 * calls at once, and yields the results — in input order, or as they finish
 * with `ordered: false`. The first failure cancels the calls in flight and is
 * thrown by the iteration. Like p-map, as an async iterable.
 *
 * @throws {RangeError} for a bad `concurrency`; {TypeError} for a bad source or `fn`.
 *
 * @example Three at a time
 * ```ts
 * import { map, sleep } from 'tsaio';
 * for await (const n of map([1, 2, 3, 4, 5], async (x, signal) => sleep(10, x * 2, { signal }), { concurrency: 3 })) {
 *   console.log(n); // 2, 4, 6, 8, 10
 * }
 * ```
 */
export async function* map<T, R>(
  source: AnyIterable<T>,
  fn: (item: T, signal: AbortSignal, index: number) => R | PromiseLike<R>,
  opts?: MapOptions,
): AsyncGenerator<Awaited<R>, void, undefined> {
  checkFunction(fn, 'map', 'the mapper');
  const concurrency = checkLimit(opts?.concurrency, 'map', 'concurrency', 1);
  const ordered = opts?.ordered ?? true;
  const signal = checkSignal(opts?.signal, 'map');
  const limit = opts?.timeout ?? null;
  const reader = new Reader(source, 'map');
  const apply = async (item: T, s: AbortSignal, i: number): Promise<Awaited<R>> => await fn(item, s, i);
  const call =
    (item: T, i: number) =>
    (s: AbortSignal): Promise<Awaited<R>> =>
      limit === null
        ? apply(item, s, i)
        : waitFor((inner: AbortSignal) => apply(item, inner, i), limit, { signal: s });
  const window: Task<Awaited<R>>[] = []; // started, not yet yielded, in input order
  const finishing = new Finishing<Awaited<R>>();
  let index = 0;
  let exhausted = false;
  try {
    for (;;) {
      // Start calls while there is room; a read still in flight does not hold back finished results.
      let read: Future<IteratorResult<T>> | null = null;
      while (!exhausted && window.length < concurrency && finishing.failed === null) {
        read = reader.request();
        if (!read.done()) break;
        read = null;
        const next = reader.take();
        if (next.done === true) exhausted = true;
        else {
          const task = createTask(call(next.value, index++), { signal });
          task._addCallback(finishing);
          window.push(task);
        }
      }
      if (window.length === 0 && read === null) return;
      // The first failure ends the map at once, even behind a slower head (p-map #42).
      const ready = window.length === 0 ? null : finishing.next(window, ordered);
      if (ready === null) {
        const waiter = new Waiter(null, signal);
        finishing.waiter = waiter;
        read?._addCallback(waiter);
        await waiter.promise;
        finishing.waiter = null;
        read?._removeCallback(waiter);
        if (waiter.outcome === ABORTED) throw cancelledFrom(signal!.reason);
        continue;
      }
      if (ready._state !== FULFILLED && signal?.aborted) throw cancelledFrom(signal.reason);
      window.splice(window.indexOf(ready), 1);
      finishing.remove(ready);
      yield ready.result();
    }
  } finally {
    await cancelAll(window);
    await reader.close();
  }
}
