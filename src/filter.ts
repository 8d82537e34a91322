/**
 * `filter`: the items a predicate keeps, with `map`'s concurrency, order and
 * cancellation.
 *
 * @module
 */

import { map, type MapOptions } from './map.js';
import { checkFunction } from './_validate.js';
import type { AnyIterable } from './_reader.js';

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
