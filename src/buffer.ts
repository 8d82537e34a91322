/**
 * `buffer`: a read-ahead of up to `size` items, so that a slow consumer and a
 * slow producer overlap.
 *
 * @module
 */

import { checkLimit } from './_validate.js';
import { iteratorOf, type AnyIterable } from './_reader.js';

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
  checkLimit(size, 'buffer', 'size', 1);
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
