/**
 * `shield`, after `asyncio.shield`.
 *
 * @module
 */

import { Future, PENDING } from './futures.js';
import { ensureFuture, type AwaitableLike } from './tasks.js';

/**
 * Protects `aw` from cancellation: returns an outer `Future` that follows the
 * inner task or future. Cancelling the outer future (or a `waitFor` on it
 * timing out) cancels only the outer one; the inner work runs on. A done
 * input gives its result at once. Same as `asyncio.shield`.
 *
 * @example A save that a timeout must not interrupt
 * ```ts
 * import { shield, waitFor, createTask, sleep, TimeoutError } from 'tsaio';
 * const save = createTask(async () => { await sleep(50); return 'saved'; });
 * try { await waitFor(shield(save), 10); } catch (e) { console.log(e instanceof TimeoutError); } // true
 * console.log(await save); // saved: the task itself was not cancelled
 * ```
 */
export function shield<T>(aw: AwaitableLike<T> | Future<T>): Future<Awaited<T>> {
  const inner = ensureFuture<Awaited<T>>(aw);
  const outer = new Future<Awaited<T>>();
  // The inner outcome passes to the outer future: whoever reads that one has read it.
  if (inner.done()) {
    inner._retrieved();
    outer._settle(inner._state, inner._value);
    return outer;
  }
  inner._addCallback((done: Future<Awaited<T>>) => {
    done._retrieved();
    if (outer._state === PENDING) outer._settle(done._state, done._value);
  });
  return outer;
}
