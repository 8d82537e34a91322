/**
 * `timeoutEach`: a per-item timeout — the iteration fails with `TimeoutError`
 * when the next item takes too long.
 *
 * @module
 */

import { TimeoutError } from './exceptions.js';
import { now } from './_timers.js';
import { checkSignal, describe } from './_validate.js';
import { Reader, type AnyIterable } from './_reader.js';

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
