/**
 * Private: what the async-iterable helpers (`map.ts`, `filter.ts`,
 * `take.ts`, `batch.ts`, `merge.ts`, `buffer.ts`, `toarray.ts`,
 * `timeouteach.ts`) share: the `AnyIterable` type and the `Reader`, which
 * reads a source one `next()` at a time so that a wait for an item can be cut
 * short without losing the item. asyncio has none of these helpers; p-map,
 * streaming-iterables and Deno's `std/async` are the references.
 *
 * The rule every iterable helper follows: work started for the iteration
 * belongs to it. Leaving a `for await` early, an error, or the `signal`
 * aborting cancels the work still in flight, waits until it has stopped, and
 * closes the source — no mapper runs on after the loop that wanted it is gone.
 *
 * @module
 */

import { TimeoutError, cancelledFrom } from './exceptions.js';
import { FULFILLED, futureFromThenable, type Future } from './futures.js';
import { describe } from './_validate.js';
import { ABORTED, TIMEOUT, Waiter } from './_waiter.js';

/** Anything `for await` accepts. */
export type AnyIterable<T> = AsyncIterable<T> | Iterable<T>;

/** The iterator of `source`, async or not; a `TypeError` naming `where` for anything else. */
export function iteratorOf<T>(source: AnyIterable<T>, where: string): AsyncIterator<T> | Iterator<T> {
  const s = source as Partial<AsyncIterable<T> & Iterable<T>> | null;
  if (s !== null && typeof s === 'object' && typeof s[Symbol.asyncIterator] === 'function') {
    return s[Symbol.asyncIterator]!();
  }
  if (s !== null && s !== undefined && typeof s[Symbol.iterator] === 'function') return s[Symbol.iterator]!();
  throw new TypeError(`${where}: expected an iterable or async iterable, received ${describe(source)}`);
}

/**
 * Reads a source one `next()` at a time, so that a wait for the next item can
 * be abandoned (deadline, signal) without losing the item: the read stays
 * pending and the following call takes it. `close()` never waits for a
 * source stuck in `next()`; it asks it to return in the background.
 */
export class Reader<T> {
  private readonly _it: AsyncIterator<T> | Iterator<T>;
  private _read: Future<IteratorResult<T>> | null = null;
  private _ended = false;
  /** The source is a sync iterable: a read needs no wait. */
  private readonly _sync: boolean;

  constructor(source: AnyIterable<T>, where: string) {
    this._it = iteratorOf(source, where);
    this._sync = typeof (source as Partial<AsyncIterable<T>>)[Symbol.asyncIterator] !== 'function';
  }

  /**
   * The next result if it is there at once, else `null` with a read under way
   * (`request()` gives it). A sync source is read on the spot, without a
   * promise; what its `next()` throws is thrown.
   */
  poll(): IteratorResult<T> | null {
    if (!this._sync || this._read !== null) return this.request().done() ? this.take() : null;
    let result: IteratorResult<T>;
    try {
      result = (this._it as Iterator<T>).next();
      if (result === null || typeof result !== 'object') {
        throw new TypeError(`Iterator result ${String(result)} is not an object`);
      }
    } catch (error) {
      this._ended = true;
      throw error;
    }
    if (result.done === true) this._ended = true;
    return result;
  }

  /** The read under way, started if there is none. */
  request(): Future<IteratorResult<T>> {
    if (this._read === null) {
      let step: IteratorResult<T> | PromiseLike<IteratorResult<T>>;
      try {
        step = this._it.next();
      } catch (error) {
        step = Promise.reject(error);
      }
      this._read = futureFromThenable(Promise.resolve(step));
    }
    return this._read;
  }

  /** The result of the read, once it is done; throws what the source threw. */
  take(): IteratorResult<T> {
    const read = this._read!;
    this._read = null;
    if (read._state !== FULFILLED) this._ended = true;
    const result = read.result();
    if (result.done === true) this._ended = true;
    return result;
  }

  /**
   * The next result. Rejects with `CancelledError` when `signal` aborts and
   * `TimeoutError` past `deadline`; a read cut short stays pending.
   */
  async next(signal?: AbortSignal, deadline: number | null = null): Promise<IteratorResult<T>> {
    const read = this.request();
    if (!read.done()) {
      const waiter = new Waiter(deadline, signal);
      read._addCallback(waiter);
      await waiter.promise;
      read._removeCallback(waiter);
      if (waiter.outcome === ABORTED) throw cancelledFrom(signal!.reason);
      if (waiter.outcome === TIMEOUT) throw new TimeoutError(`no item within the time limit`);
    }
    return this.take();
  }

  /**
   * Closes the source unless it ended. Waits for its `return()` unless a read
   * is stuck: an async generator queues `return()` behind its pending
   * `next()`, so then the close finishes in the background.
   */
  async close(): Promise<void> {
    if (this._ended) return;
    this._ended = true;
    const it = this._it;
    if (typeof it.return !== 'function') return;
    const closing = Promise.resolve(it.return());
    const read = this._read;
    if (read !== null && !read.done()) closing.catch(() => undefined);
    else await closing;
  }
}
