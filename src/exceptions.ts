/**
 * The errors tsaio raises, after `asyncio.exceptions`.
 *
 * Each class has `name` equal to its class name, a stable `code`, and a
 * `Symbol.for` brand so that `instanceof` holds across two installed copies of
 * tsaio (as undici's errors do; see `_brand.ts`).
 *
 * @module
 */

import { brand } from './_brand.js';

/**
 * The operation was cancelled: a task was cancelled, or the signal given to a
 * wait was aborted. Same as `asyncio.CancelledError`. Its `cause` is the
 * signal's reason when a signal caused it.
 *
 * @example Catching a cancelled wait
 * ```ts
 * import { sleep, CancelledError } from 'tsaio';
 * const ac = new AbortController();
 * setTimeout(() => ac.abort(), 10);
 * try { await sleep(1000, undefined, { signal: ac.signal }); }
 * catch (e) { console.log(e instanceof CancelledError); } // true
 * ```
 */
export class CancelledError extends Error {
  declare readonly code: 'TSAIO_ERR_CANCELLED';
  constructor(message = '', options?: ErrorOptions) {
    super(message, options);
  }
}
brand(CancelledError, 'TSAIO_ERR_CANCELLED');

/**
 * A deadline passed: `timeout`, `timeoutAt`, `waitFor` or a wait with a
 * `timeout` option ran out of time. Same as `asyncio.TimeoutError` (the
 * builtin `TimeoutError` since Python 3.11). Its `cause` is the cancellation
 * the deadline caused, when there was one.
 *
 * @example
 * ```ts
 * import { waitFor, sleep, TimeoutError } from 'tsaio';
 * try { await waitFor(() => sleep(1000), 10); }
 * catch (e) { console.log(e instanceof TimeoutError); } // true
 * ```
 */
export class TimeoutError extends Error {
  declare readonly code: 'TSAIO_ERR_TIMEOUT';
  constructor(message = 'the operation timed out', options?: ErrorOptions) {
    super(message, options);
  }
}
brand(TimeoutError, 'TSAIO_ERR_TIMEOUT');

/**
 * An object was used in a state that does not allow it: reading the result of
 * a pending future, settling a done one, releasing an unlocked lock.
 * Same as `asyncio.InvalidStateError`.
 *
 * @example
 * ```ts
 * import { Future, InvalidStateError } from 'tsaio';
 * const f = new Future<number>();
 * try { f.result(); } catch (e) { console.log(e instanceof InvalidStateError); } // true
 * ```
 */
export class InvalidStateError extends Error {
  declare readonly code: 'TSAIO_ERR_INVALID_STATE';
  constructor(message = 'invalid state', options?: ErrorOptions) {
    super(message, options);
  }
}
brand(InvalidStateError, 'TSAIO_ERR_INVALID_STATE');

/**
 * Several errors at once, as a `TaskGroup` raises them. Same as Python's
 * `ExceptionGroup`; an `AggregateError`, so `.errors` lists them.
 *
 * @example
 * ```ts
 * import { taskGroup, ExceptionGroup } from 'tsaio';
 * try {
 *   await taskGroup(async (tg) => { tg.createTask(async () => { throw new Error('boom'); }); });
 * } catch (e) { if (e instanceof ExceptionGroup) console.log(e.errors.length); } // 1
 * ```
 */
export class ExceptionGroup extends AggregateError {
  declare readonly code: 'TSAIO_ERR_EXCEPTION_GROUP';
  constructor(message: string, errors: Iterable<unknown>, options?: ErrorOptions) {
    const list = [...errors];
    super(list, `${message} (${list.length} sub-exception${list.length === 1 ? '' : 's'})`, options);
  }
}
brand(ExceptionGroup, 'TSAIO_ERR_EXCEPTION_GROUP');

/** True for the errors that mean "cancelled": `CancelledError` and DOM `AbortError`s. */
export function isCancellation(err: unknown): boolean {
  if (err instanceof CancelledError) return true;
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

/**
 * The `CancelledError` a wait rejects with when `reason` aborted its signal:
 * the reason is its `cause`, and a `CancelledError` reason lends its message.
 */
export function cancelledFrom(reason: unknown): CancelledError {
  if (reason instanceof CancelledError) return new CancelledError(reason.message, { cause: reason });
  return new CancelledError('', { cause: reason });
}

/**
 * `getNowait()` found the queue empty. Same as `asyncio.QueueEmpty`.
 *
 * @example
 * ```ts
 * import { Queue, QueueEmpty } from 'tsaio';
 * try { new Queue<number>().getNowait(); } catch (e) { console.log(e instanceof QueueEmpty); } // true
 * ```
 */
export class QueueEmpty extends Error {
  declare readonly code: 'TSAIO_ERR_QUEUE_EMPTY';
  constructor(message = 'the queue is empty', options?: ErrorOptions) {
    super(message, options);
  }
}
brand(QueueEmpty, 'TSAIO_ERR_QUEUE_EMPTY');

/**
 * `putNowait()` found the queue full. Same as `asyncio.QueueFull`.
 *
 * @example
 * ```ts
 * import { Queue, QueueFull } from 'tsaio';
 * const q = new Queue<number>(1);
 * q.putNowait(1);
 * try { q.putNowait(2); } catch (e) { console.log(e instanceof QueueFull); } // true
 * ```
 */
export class QueueFull extends Error {
  declare readonly code: 'TSAIO_ERR_QUEUE_FULL';
  constructor(message = 'the queue is full', options?: ErrorOptions) {
    super(message, options);
  }
}
brand(QueueFull, 'TSAIO_ERR_QUEUE_FULL');

/**
 * The queue was shut down: puts fail at once, gets once it is drained.
 * Same as `asyncio.QueueShutDown` (3.13).
 *
 * @example
 * ```ts
 * import { Queue, QueueShutDown } from 'tsaio';
 * const q = new Queue<number>();
 * q.shutdown();
 * try { await q.put(1); } catch (e) { console.log(e instanceof QueueShutDown); } // true
 * ```
 */
export class QueueShutDown extends Error {
  declare readonly code: 'TSAIO_ERR_QUEUE_SHUT_DOWN';
  constructor(message = 'the queue was shut down', options?: ErrorOptions) {
    super(message, options);
  }
}
brand(QueueShutDown, 'TSAIO_ERR_QUEUE_SHUT_DOWN');

/**
 * A `Barrier` was reset or aborted while it was waited on, or is broken.
 * Same as `asyncio.BrokenBarrierError`.
 *
 * @example
 * ```ts
 * import { Barrier, BrokenBarrierError } from 'tsaio';
 * const b = new Barrier(2);
 * b.abort();
 * try { await b.wait(); } catch (e) { console.log(e instanceof BrokenBarrierError); } // true
 * ```
 */
export class BrokenBarrierError extends Error {
  declare readonly code: 'TSAIO_ERR_BROKEN_BARRIER';
  constructor(message = 'the barrier is broken', options?: ErrorOptions) {
    super(message, options);
  }
}
brand(BrokenBarrierError, 'TSAIO_ERR_BROKEN_BARRIER');
