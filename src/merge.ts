/**
 * `merge`: several sources interleaved into one, each item as it arrives.
 *
 * @module
 */

import { Waiter } from './_waiter.js';
import { Reader, type AnyIterable } from './_reader.js';

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
