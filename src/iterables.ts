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
import { FULFILLED, PENDING, futureFromThenable, type Future } from './futures.js';
import { createTask, type Task } from './tasks.js';
import { checkSignal, describe } from './_cancel.js';
import { now } from './_timers.js';
import { checkFunction } from './_validate.js';
import { ABORTED, TIMEOUT, Waiter } from './_waiter.js';
import { waitFor } from './waitfor.js';

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

function checkPositive(value: unknown, where: string, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 1) || (!Number.isInteger(value) && value !== Infinity)) {
    throw new RangeError(
      `${where}: ${what} must be a positive integer or Infinity, received ${describe(value)}`,
    );
  }
  return value;
}

/** Resolves once `future` is done, whatever its outcome. */
function settled(future: Future<unknown>): Promise<void> {
  if (future._state !== PENDING) return Promise.resolve();
  return new Promise((resolve) => future._addCallback(() => resolve()));
}

/** Cancels `tasks` and waits until every one has stopped. */
async function cancelAll(tasks: Iterable<Task<unknown>>): Promise<void> {
  const list = [...tasks];
  for (const task of list) task.cancel();
  await Promise.all(list.map(settled));
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
  const it = iteratorOf(source, 'map');
  const inFlight = new Set<Task<Awaited<R>>>();
  const window: Task<Awaited<R>>[] = [];
  let index = 0;
  let exhausted = false;
  const apply = async (item: T, s: AbortSignal, i: number): Promise<Awaited<R>> => await fn(item, s, i);
  const call =
    (item: T, i: number) =>
    (s: AbortSignal): Promise<Awaited<R>> =>
      limit === null
        ? apply(item, s, i)
        : waitFor((inner: AbortSignal) => apply(item, inner, i), limit, { signal: s });
  try {
    for (;;) {
      while (!exhausted && inFlight.size < concurrency) {
        if (signal?.aborted) throw cancelledFrom(signal.reason);
        const next = await it.next();
        if (next.done === true) exhausted = true;
        else {
          const task = createTask(call(next.value, index++), { signal });
          inFlight.add(task);
          window.push(task);
        }
      }
      if (window.length === 0) return;
      const at = ordered ? 0 : await firstDone(window, signal);
      const done = window[at]!;
      await settled(done);
      window.splice(at, 1);
      inFlight.delete(done);
      if (done._state !== FULFILLED && signal?.aborted) throw cancelledFrom(signal.reason);
      yield done.result();
    }
  } finally {
    await cancelAll(inFlight);
    if (!exhausted) await it.return?.();
  }
}

/**
 * The index of the first task of `tasks` to finish (or a rejection once
 * `signal` aborts). An index, not the task: an async function returning a
 * task would resolve to the task's result, since tasks are awaitable.
 */
async function firstDone<T>(tasks: Task<T>[], signal: AbortSignal | undefined): Promise<number> {
  const ready = tasks.findIndex((t) => t.done());
  if (ready >= 0) return ready;
  const waiter = new Waiter(null, signal);
  for (const task of tasks) task._addCallback(waiter);
  await waiter.promise;
  for (const task of tasks) task._removeCallback(waiter);
  if (waiter.outcome === ABORTED) throw cancelledFrom(signal!.reason);
  return tasks.findIndex((t) => t.done());
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
  const it = iteratorOf(source, 'batch');
  let pending: Future<IteratorResult<T>> | null = null;
  let exhausted = false;
  let items: T[] = [];
  let deadline: number | null = null;
  try {
    while (!exhausted) {
      pending ??= futureFromThenable(Promise.resolve(it.next()));
      const waiter = new Waiter(deadline, signal);
      pending._addCallback(waiter);
      await waiter.promise;
      pending._removeCallback(waiter);
      if (waiter.outcome === ABORTED) throw cancelledFrom(signal!.reason);
      if (waiter.outcome !== TIMEOUT) {
        const next = pending.result();
        pending = null;
        if (next.done === true) exhausted = true;
        else {
          if (items.length === 0 && ms !== null) deadline = now() + ms;
          items.push(next.value);
        }
      }
      if (items.length >= size || (items.length > 0 && (exhausted || waiter.outcome === TIMEOUT))) {
        const full = items;
        items = [];
        deadline = null;
        yield full;
      }
    }
  } finally {
    if (!exhausted) await it.return?.();
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
  const iterators = sources.map((s) => iteratorOf(s, 'merge'));
  const pending = new Map<Future<IteratorResult<T>>, number>();
  const pull = (i: number): void => {
    pending.set(futureFromThenable(Promise.resolve(iterators[i]!.next())), i);
  };
  const open = new Set(iterators.keys());
  try {
    for (const i of open) pull(i);
    while (pending.size > 0) {
      const waiter = new Waiter(null, undefined);
      for (const f of pending.keys()) f._addCallback(waiter);
      await waiter.promise;
      for (const f of pending.keys()) f._removeCallback(waiter);
      for (const [f, i] of [...pending]) {
        if (!f.done()) continue;
        pending.delete(f);
        const next = f.result();
        if (next.done === true) open.delete(i);
        else {
          pull(i);
          yield next.value;
        }
      }
    }
  } finally {
    await Promise.all([...open].map(async (i) => iterators[i]!.return?.()));
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
  const ahead: Future<IteratorResult<T>>[] = [];
  let exhausted = false;
  const fill = (): void => {
    while (!exhausted && ahead.length < size) {
      const f = futureFromThenable(Promise.resolve(it.next()));
      ahead.push(f);
      // Stop asking once a result says the source ended or failed.
      f._addCallback((done: Future<IteratorResult<T>>) => {
        if (done._state !== FULFILLED || done.result().done === true) exhausted = true;
      });
    }
  };
  try {
    for (;;) {
      fill();
      const head = ahead.shift();
      if (head === undefined) return;
      const next = await head;
      if (next.done === true) {
        exhausted = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!exhausted) await it.return?.();
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
  const items: T[] = [];
  for await (const item of source) {
    if (signal?.aborted) throw cancelledFrom(signal.reason);
    items.push(item);
  }
  return items;
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
  const it = iteratorOf(source, 'timeoutEach');
  let exhausted = false;
  try {
    for (;;) {
      const next = futureFromThenable(Promise.resolve(it.next()));
      const waiter = new Waiter(now() + ms, signal);
      next._addCallback(waiter);
      await waiter.promise;
      next._removeCallback(waiter);
      if (waiter.outcome === ABORTED) throw cancelledFrom(signal!.reason);
      if (waiter.outcome === TIMEOUT) throw new TimeoutError(`timeoutEach: no item within ${ms} ms`);
      const result = next.result();
      if (result.done === true) {
        exhausted = true;
        return;
      }
      yield result.value;
    }
  } finally {
    if (!exhausted) await it.return?.();
  }
}
