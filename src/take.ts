/**
 * `take`: the first `n` items of a source, which is then closed.
 *
 * @module
 */

import { describe } from './_validate.js';
import type { AnyIterable } from './_reader.js';

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
