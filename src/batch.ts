/**
 * `batch` (and its alias `chunk`): items grouped into arrays, by size and by
 * time.
 *
 * @module
 */

import { TimeoutError } from './exceptions.js';
import { now } from './_timers.js';
import { checkLimit, checkSignal, describe } from './_validate.js';
import { Reader, type AnyIterable } from './_reader.js';

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
  checkLimit(size, 'batch', 'size', 1);
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
 * Same as `batch` — the very same function (`chunk === batch`): groups items
 * into arrays of up to `size`, and by time with `timeout`.
 *
 * Why two names: `chunk` is what lodash (`_.chunk`), Deno's
 * `@std/collections` and most array libraries call this; `batch` is the name
 * in the async-iterable libraries (streaming-iterables, it-batch) and close to
 * Python's `itertools.batched`. Both have been public since the helpers came
 * (the README's table of asyncio equivalents lists `batch`/`chunk`), so
 * `chunk` stays, as an alias rather than a second implementation.
 *
 * @example Batching by time
 * ```ts
 * import { chunk, sleep, toArray } from 'tsaio';
 * async function* ticks() { yield 1; yield 2; await sleep(50); yield 3; }
 * console.log(await toArray(chunk(ticks(), 10, { timeout: 20 }))); // [ [ 1, 2 ], [ 3 ] ]
 * ```
 */
export const chunk = batch;
