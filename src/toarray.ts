/**
 * `toArray`: every item of a source in an array (`[x async for x in it]`).
 *
 * @module
 */

import { cancelledFrom } from './exceptions.js';
import { checkSignal } from './_validate.js';
import { Reader, type AnyIterable } from './_reader.js';

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
