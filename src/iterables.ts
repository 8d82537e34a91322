/**
 * Helpers for async iterables: `map` and `filter` with a concurrency limit,
 * `take`, `batch`/`chunk` (by size and by time), `merge`, `buffer`,
 * `toArray` and `timeoutEach`. asyncio has none of these; p-map,
 * streaming-iterables and Deno's `std/async` are the references.
 *
 * The rule they share: work started for the iteration belongs to it. Leaving
 * a `for await` early, an error, or the `signal` aborting cancels the work
 * still in flight, waits until it has stopped, and closes the source — no
 * mapper runs on after the loop that wanted it is gone.
 *
 * @module
 */

import { TimeoutError, cancelledFrom } from './exceptions.js';
import { FULFILLED, futureFromThenable, type Future, type Observer } from './futures.js';
import { createTask, type Task } from './tasks.js';
import { now } from './_timers.js';
import { checkFunction, checkSignal, describe } from './_validate.js';
import { ABORTED, DONE, TIMEOUT, Waiter } from './_waiter.js';
import { cancelAndWait, waitFor } from './waitfor.js';

/** Anything `for await` accepts. */
export type AnyIterable<T> = AsyncIterable<T> | Iterable<T>;

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

function iteratorOf<T>(source: AnyIterable<T>, where: string): AsyncIterator<T> | Iterator<T> {
  const s = source as Partial<AsyncIterable<T> & Iterable<T>> | null;
  if (s !== null && typeof s === 'object' && typeof s[Symbol.asyncIterator] === 'function') {
    return s[Symbol.asyncIterator]!();
  }
  if (s !== null && s !== undefined && typeof s[Symbol.iterator] === 'function') return s[Symbol.iterator]!();
  throw new TypeError(`${where}: expected an iterable or async iterable, received ${describe(source)}`);
}

/**
 * Reads a source one `next()` at a time, so that a wait for the next item can
 * be abandoned (deadline, signal) without losing the item: the read stays
 * pending and the following call takes it. `close()` never waits for a
 * source stuck in `next()`; it asks it to return in the background.
 */
class Reader<T> {
  private readonly _it: AsyncIterator<T> | Iterator<T>;
  private _read: Future<IteratorResult<T>> | null = null;
  private _ended = false;

  constructor(source: AnyIterable<T>, where: string) {
    this._it = iteratorOf(source, where);
  }

  /** The read under way, started if there is none. */
  request(): Future<IteratorResult<T>> {
    if (this._read === null) {
      let step: IteratorResult<T> | PromiseLike<IteratorResult<T>>;
      try {
        step = this._it.next();
      } catch (error) {
        step = Promise.reject(error);
      }
      this._read = futureFromThenable(Promise.resolve(step));
    }
    return this._read;
  }

  /** The result of the read, once it is done; throws what the source threw. */
  take(): IteratorResult<T> {
    const read = this._read!;
    this._read = null;
    if (read._state !== FULFILLED) this._ended = true;
    const result = read.result();
    if (result.done === true) this._ended = true;
    return result;
  }

  /**
   * The next result. Rejects with `CancelledError` when `signal` aborts and
   * `TimeoutError` past `deadline`; a read cut short stays pending.
   */
  async next(signal?: AbortSignal, deadline: number | null = null): Promise<IteratorResult<T>> {
    const read = this.request();
    if (!read.done()) {
      const waiter = new Waiter(deadline, signal);
      read._addCallback(waiter);
      await waiter.promise;
      read._removeCallback(waiter);
      if (waiter.outcome === ABORTED) throw cancelledFrom(signal!.reason);
      if (waiter.outcome === TIMEOUT) throw new TimeoutError(`no item within the time limit`);
    }
    return this.take();
  }

  /**
   * Closes the source unless it ended. Waits for its `return()` unless a read
   * is stuck: an async generator queues `return()` behind its pending
   * `next()`, so then the close finishes in the background.
   */
  async close(): Promise<void> {
    if (this._ended) return;
    this._ended = true;
    const it = this._it;
    if (typeof it.return !== 'function') return;
    const closing = Promise.resolve(it.return());
    const read = this._read;
    if (read !== null && !read.done()) closing.catch(() => undefined);
    else await closing;
  }
}

function checkPositive(value: unknown, where: string, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 1) || (!Number.isInteger(value) && value !== Infinity)) {
    throw new RangeError(
      `${where}: ${what} must be a positive integer or Infinity, received ${describe(value)}`,
    );
  }
  return value;
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
  const concurrency = checkPositive(opts?.concurrency, 'map', 'concurrency', 1);
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

/**
 * Yields the items for which `predicate(item, signal, index)` is truthy,
 * with the same concurrency, order and cancellation rules as `map`.
 *
 * @example
 * ```ts
 * import { filter, toArray } from 'tsaio';
 * console.log(await toArray(filter([1, 2, 3, 4], async (x) => x % 2 === 0))); // [ 2, 4 ]
 * ```
 */
export async function* filter<T>(
  source: AnyIterable<T>,
  predicate: (item: T, signal: AbortSignal, index: number) => unknown,
  opts?: MapOptions,
): AsyncGenerator<T, void, undefined> {
  checkFunction(predicate, 'filter', 'the predicate');
  const tested = map(source, async (item: T, s, i) => [item, await predicate(item, s, i)] as const, opts);
  for await (const [item, keep] of tested) if (keep) yield item;
}

/**
 * Yields the first `n` items, then closes the source.
 *
 * @example
 * ```ts
 * import { take, toArray } from 'tsaio';
 * async function* naturals() { for (let i = 0; ; i++) yield i; }
 * console.log(await toArray(take(naturals(), 3))); // [ 0, 1, 2 ]
 * ```
 */
export async function* take<T>(source: AnyIterable<T>, n: number): AsyncGenerator<T, void, undefined> {
  if (typeof n !== 'number' || Number.isNaN(n) || n < 0) {
    throw new RangeError(`take: n must be a non-negative number, received ${describe(n)}`);
  }
  if (n === 0) return;
  let count = 0;
  for await (const item of source) {
    yield item;
    if (++count >= n) return;
  }
}

/** Options of `batch`. */
export interface BatchOptions {
  /** Emit a partial batch once this many ms passed since its first item. */
  timeout?: number | null;
  /** Aborting it ends the iteration with `CancelledError` and closes the source. */
  signal?: AbortSignal;
}

/**
 * Groups items into arrays of up to `size`; with `timeout`, a batch is also
 * emitted once `timeout` ms passed since its first item arrived (batching by
 * size and by time). The last batch may be shorter.
 *
 * @example
 * ```ts
 * import { batch, toArray } from 'tsaio';
 * console.log(await toArray(batch([1, 2, 3, 4, 5], 2))); // [ [ 1, 2 ], [ 3, 4 ], [ 5 ] ]
 * ```
 */
export async function* batch<T>(
  source: AnyIterable<T>,
  size: number,
  opts?: BatchOptions,
): AsyncGenerator<T[], void, undefined> {
  checkPositive(size, 'batch', 'size', 1);
  const ms = opts?.timeout ?? null;
  if (ms !== null && (typeof ms !== 'number' || !(ms >= 0))) {
    throw new RangeError(
      `batch: timeout must be a non-negative number of ms or null, received ${describe(ms)}`,
    );
  }
  const signal = checkSignal(opts?.signal, 'batch');
  const reader = new Reader(source, 'batch');
  let items: T[] = [];
  let deadline: number | null = null;
  try {
    for (;;) {
      let next: IteratorResult<T> | null = null;
      try {
        next = await reader.next(signal, deadline);
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
      }
      if (next !== null && next.done !== true) {
        if (items.length === 0 && ms !== null) deadline = now() + ms;
        items.push(next.value);
      }
      const ended = next !== null && next.done === true;
      if (items.length >= size || (items.length > 0 && (ended || next === null))) {
        const full = items;
        items = [];
        deadline = null;
        yield full;
      }
      if (ended) return;
    }
  } finally {
    await reader.close();
  }
}

/**
 * Same as `batch`: groups items into arrays of up to `size` (and by time with `timeout`).
 *
 * @example Batching by time
 * ```ts
 * import { chunk, sleep, toArray } from 'tsaio';
 * async function* ticks() { yield 1; yield 2; await sleep(50); yield 3; }
 * console.log(await toArray(chunk(ticks(), 10, { timeout: 20 }))); // [ [ 1, 2 ], [ 3 ] ]
 * ```
 */
export const chunk = batch;

/**
 * Interleaves several sources into one, yielding each item as it arrives.
 * Ends when every source has ended; an error in any source ends the merge
 * and closes the others.
 *
 * @example
 * ```ts
 * import { merge, sleep, toArray } from 'tsaio';
 * async function* every(ms: number, label: string) { for (let i = 0; i < 2; i++) { await sleep(ms); yield label; } }
 * console.log(await toArray(merge(every(10, 'fast'), every(25, 'slow')))); // [ 'fast', 'fast', 'slow', 'slow' ]
 * ```
 */
export async function* merge<T>(...sources: AnyIterable<T>[]): AsyncGenerator<T, void, undefined> {
  const readers = sources.map((source) => new Reader(source, 'merge'));
  const open = new Set(readers);
  try {
    while (open.size > 0) {
      const waiter = new Waiter(null, undefined);
      for (const reader of open) reader.request()._addCallback(waiter);
      await waiter.promise;
      for (const reader of open) reader.request()._removeCallback(waiter);
      for (const reader of [...open]) {
        if (!reader.request().done()) continue;
        const next = reader.take();
        if (next.done === true) open.delete(reader);
        else yield next.value;
      }
    }
  } finally {
    await Promise.all(readers.map((reader) => reader.close()));
  }
}

/**
 * Reads up to `size` items ahead of the consumer, so that a slow consumer and
 * a slow producer overlap. Leaving the loop early stops the read-ahead and
 * closes the source.
 *
 * @example
 * ```ts
 * import { buffer, toArray } from 'tsaio';
 * console.log(await toArray(buffer([1, 2, 3], 2))); // [ 1, 2, 3 ]
 * ```
 */
export async function* buffer<T>(source: AnyIterable<T>, size: number): AsyncGenerator<T, void, undefined> {
  checkPositive(size, 'buffer', 'size', 1);
  const it = iteratorOf(source, 'buffer');
  const ahead: Promise<IteratorResult<T>>[] = [];
  let ended = false;
  const fill = (): void => {
    while (!ended && ahead.length < size) {
      const read = Promise.resolve(it.next());
      // Stop asking once a read says the source ended or failed.
      read.then(
        (r) => void (r.done === true && (ended = true)),
        () => void (ended = true),
      );
      ahead.push(read);
    }
  };
  let finished = false;
  try {
    for (;;) {
      fill();
      const next = await ahead.shift()!;
      if (next.done === true) {
        finished = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!finished && !ended) {
      const last = ahead.at(-1);
      const close = (): void => void Promise.resolve(it.return?.()).catch(() => undefined);
      if (last === undefined) close();
      else last.then(close, close);
    }
  }
}

/**
 * Collects every item into an array. Same as `[x async for x in it]`.
 *
 * @example
 * ```ts
 * import { toArray } from 'tsaio';
 * async function* gen() { yield 1; yield 2; }
 * console.log(await toArray(gen())); // [ 1, 2 ]
 * ```
 */
export async function toArray<T>(source: AnyIterable<T>, opts?: { signal?: AbortSignal }): Promise<T[]> {
  const signal = checkSignal(opts?.signal, 'toArray');
  if (signal?.aborted) throw cancelledFrom(signal.reason);
  const reader = new Reader(source, 'toArray');
  const items: T[] = [];
  try {
    for (let next = await reader.next(signal); next.done !== true; next = await reader.next(signal)) {
      items.push(next.value);
    }
    return items;
  } finally {
    await reader.close();
  }
}

/**
 * Passes items through, failing with `TimeoutError` (and closing the source)
 * if the next item takes longer than `ms` to arrive: a per-item timeout.
 *
 * @example
 * ```ts
 * import { timeoutEach, sleep, TimeoutError } from 'tsaio';
 * async function* slow() { yield 1; await sleep(100); yield 2; }
 * try { for await (const x of timeoutEach(slow(), 20)) console.log(x); } // 1
 * catch (e) { console.log(e instanceof TimeoutError); } // true
 * ```
 */
export async function* timeoutEach<T>(
  source: AnyIterable<T>,
  ms: number,
  opts?: { signal?: AbortSignal },
): AsyncGenerator<T, void, undefined> {
  if (typeof ms !== 'number' || !(ms >= 0)) {
    throw new RangeError(`timeoutEach: ms must be a non-negative number, received ${describe(ms)}`);
  }
  const signal = checkSignal(opts?.signal, 'timeoutEach');
  const reader = new Reader(source, 'timeoutEach');
  try {
    for (;;) {
      let next: IteratorResult<T>;
      try {
        next = await reader.next(signal, now() + ms);
      } catch (error) {
        if (error instanceof TimeoutError) throw new TimeoutError(`timeoutEach: no item within ${ms} ms`);
        throw error;
      }
      if (next.done === true) return;
      yield next.value;
    }
  } finally {
    await reader.close();
  }
}
