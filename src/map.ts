/**
 * `map`: an async iterable of `fn`'s results over a source, with at most
 * `concurrency` calls at once (as p-map). The work started for the iteration
 * belongs to it: see `_reader.ts`.
 *
 * @module
 */

import { cancelledFrom } from './exceptions.js';
import type { Future } from './futures.js';
import { checkFunction, checkLimit, checkSignal } from './_validate.js';
import { Reader, type AnyIterable } from './_reader.js';
import { Calls } from './_mapcalls.js';

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
  const signal = checkSignal(opts?.signal, 'map');
  const reader = new Reader(source, 'map');
  if (signal?.aborted) {
    await reader.close();
    throw cancelledFrom(signal.reason);
  }
  const calls = new Calls(fn, opts?.ordered ?? true, opts?.timeout ?? null, signal);
  let index = 0;
  let exhausted = false;
  try {
    for (;;) {
      if (signal?.aborted) throw cancelledFrom(signal.reason);
      // Start calls while there is room; a read still in flight does not hold back finished results.
      let read: Future<IteratorResult<T>> | null = null;
      while (!exhausted && calls.held < concurrency && calls.failed === null) {
        const next = reader.poll();
        if (next === null) {
          read = reader.request();
          break;
        }
        if (next.done === true) exhausted = true;
        else calls.start(next.value, index++);
      }
      const ready = calls.ready();
      if (ready !== null) {
        if (ready === calls.failed) throw ready.value;
        yield calls.take() as Awaited<R>;
      } else if (calls.held === 0 && read === null) {
        return;
      } else {
        await calls.wait(read);
        read?._removeCallback(calls);
      }
    }
  } finally {
    await calls.close();
    await reader.close();
  }
}
