/**
 * `asCompleted`, after `asyncio.as_completed`.
 *
 * @module
 */

import { TimeoutError, cancelledFrom } from './exceptions.js';
import { Future, type Observer } from './futures.js';
import { ensureFuture, type AwaitableLike } from './tasks.js';
import { now } from './_timers.js';
import { checkSignal, checkTimeout, describe } from './_validate.js';
import { ABORTED, TIMEOUT, Waiter } from './_waiter.js';

/** Options of `asCompleted`. */
export interface AsCompletedOptions {
  /** Total time allowed, from the call; the iterator then throws `TimeoutError`. */
  timeout?: number | null;
  /** Aborting it makes the iterator throw `CancelledError`. */
  signal?: AbortSignal;
}

/**
 * Iterates over the inputs as they finish: yields each one, once, as a done
 * `Future`/`Task` (read it with `await f` or `f.result()`). Same as
 * `asyncio.as_completed`. Bodies become tasks at the call; if the loop is left
 * early, the tasks made from bodies are cancelled (nobody else holds them),
 * while tasks and futures passed in run on.
 *
 * TypeScript types the loop variable of `for await` as the awaited value,
 * since a `Future` is awaitable; `await f` reads it with the right type (the
 * object itself is the done `Future`/`Task`).
 *
 * @throws {TypeError} at the call, if `aws` is not iterable.
 *
 * @example
 * ```ts
 * import { asCompleted, sleep } from 'tsaio';
 * for await (const f of asCompleted([30, 10, 20].map((ms) => () => sleep(ms, ms)))) {
 *   console.log(await f); // 10, then 20, then 30
 * }
 * ```
 */
export function asCompleted<T>(
  aws: Iterable<AwaitableLike<T> | Future<T>>,
  opts?: AsCompletedOptions,
): AsyncIterableIterator<Future<Awaited<T>>> {
  if (aws === null || typeof (aws as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
    throw new TypeError(`asCompleted: expected an iterable of awaitables, received ${describe(aws)}`);
  }
  const ms = checkTimeout(opts?.timeout, 'asCompleted');
  const signal = checkSignal(opts?.signal, 'asCompleted');
  const owned = new Set<Future<Awaited<T>>>();
  const futures = new Set<Future<Awaited<T>>>();
  for (const aw of aws) {
    if (aw instanceof Future) futures.add(aw as Future<Awaited<T>>);
    else {
      const f = ensureFuture<Awaited<T>>(aw);
      if (typeof aw === 'function') owned.add(f);
      futures.add(f);
    }
  }
  return new Completion(futures, owned, ms === null ? null : now() + ms, signal);
}

class Completion<T> implements AsyncIterableIterator<Future<T>>, Observer {
  private readonly _done: Future<T>[] = [];
  private _left: number;
  private _waiter: Waiter | null = null;
  private _closed = false;

  constructor(
    private readonly _pending: Set<Future<T>>,
    private readonly _owned: Set<Future<T>>,
    private readonly _deadline: number | null,
    private readonly _signal: AbortSignal | undefined,
  ) {
    this._left = _pending.size;
    for (const f of _pending) f._addCallback(this);
  }

  /** @internal An input is done. */
  _futureDone(f: Future<T>): void {
    this._done.push(f);
    this._waiter?.wake(0);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Future<T>>> {
    while (!this._closed && this._left > 0) {
      const f = this._done.shift();
      if (f !== undefined) {
        this._left--;
        this._pending.delete(f);
        return { value: f, done: false };
      }
      this._waiter = new Waiter(this._deadline, this._signal);
      const outcome = await this._waiter.promise;
      this._waiter = null;
      if (outcome === TIMEOUT) {
        this._close();
        throw new TimeoutError('asCompleted: timed out before every input finished');
      }
      if (outcome === ABORTED) {
        this._close();
        throw cancelledFrom(this._signal!.reason);
      }
    }
    this._close();
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<Future<T>>> {
    this._close();
    return { value: undefined, done: true };
  }

  private _close(): void {
    if (this._closed) return;
    this._closed = true;
    this._waiter?.wake(0);
    for (const f of this._pending) {
      f._removeCallback(this);
      if (this._owned.has(f)) f.cancel();
    }
  }
}
