/**
 * Private: the one fair, cancellable wait-queue under every primitive (Lock,
 * Semaphore, Event, Condition, Barrier, the queues, the rate limiter), after
 * Trio's `ParkingLot`.
 *
 * - Waiters are served first-come first-served.
 * - A waiter whose signal aborts leaves the queue at once (O(1), a doubly
 *   linked list) and rejects with `CancelledError`: it never takes a grant.
 * - A grant is handed to a waiter with `unparkOne(value)`; the caller decides
 *   what a grant is (a lock, a permit, an item, a notification).
 * - `rejectAll(error)` ends every wait, so no promise is left unsettled.
 *
 * A signal aborted *after* a waiter was granted but before its code resumed
 * is the primitive's business: it hands the grant on (see `resumeCheck`).
 *
 * @module
 */

import { cancelledFrom } from './exceptions.js';
import { linkSignal, unlinkSignal } from './_cancel.js';

/** One parked caller. */
export class Parked<T> {
  /** @internal */ _prev: Parked<T> | null = null;
  /** @internal */ _next: Parked<T> | null = null;
  /** @internal */ _lot: ParkingLot<T> | null;
  /** What the waiter brings (a queue putter's item), for the primitive's use. */
  payload: unknown;

  constructor(
    lot: ParkingLot<T>,
    readonly _resolve: (value: T) => void,
    readonly _reject: (error: unknown) => void,
    readonly _signal: AbortSignal | undefined,
    payload: unknown,
  ) {
    this._lot = lot;
    this.payload = payload;
  }

  /** The signal aborted: leave the queue and reject. */
  handleEvent(): void {
    const lot = this._lot;
    if (lot === null) return;
    lot._remove(this);
    this._reject(cancelledFrom(this._signal!.reason));
  }
}

/** A FIFO of parked callers. */
export class ParkingLot<T> {
  private _head: Parked<T> | null = null;
  private _tail: Parked<T> | null = null;
  private _size = 0;

  /** Number of callers parked. */
  get size(): number {
    return this._size;
  }

  /**
   * Parks the caller until a grant arrives. The caller checks
   * `signal.aborted` first. `payload` rides along (see `first`).
   */
  park(signal: AbortSignal | undefined, payload?: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const waiter = new Parked<T>(this, resolve, reject, signal, payload);
      const tail = this._tail;
      waiter._prev = tail;
      if (tail === null) this._head = waiter;
      else tail._next = waiter;
      this._tail = waiter;
      this._size++;
      if (signal !== undefined) linkSignal(signal, waiter);
    });
  }

  /** The longest-parked waiter, or `null`. */
  first(): Parked<T> | null {
    return this._head;
  }

  /** Hands `value` to the longest-parked waiter; false if none is parked. */
  unparkOne(value: T): boolean {
    const waiter = this._head;
    if (waiter === null) return false;
    this._remove(waiter);
    waiter._resolve(value);
    return true;
  }

  /** Hands `value` to every parked waiter, in order; returns how many. */
  unparkAll(value: T): number {
    let n = 0;
    while (this.unparkOne(value)) n++;
    return n;
  }

  /** Rejects every parked waiter with `error()`; returns how many. */
  rejectAll(error: () => unknown): number {
    let n = 0;
    for (let waiter = this._head; waiter !== null; waiter = this._head) {
      this._remove(waiter);
      waiter._reject(error());
      n++;
    }
    return n;
  }

  /** The parked waiters, oldest first (for `statistics()` and tests). */
  *[Symbol.iterator](): IterableIterator<Parked<T>> {
    for (let waiter = this._head; waiter !== null; waiter = waiter._next) yield waiter;
  }

  /** @internal Unlinks `waiter` and its signal hook. */
  _remove(waiter: Parked<T>): void {
    const prev = waiter._prev;
    const next = waiter._next;
    if (prev === null) this._head = next;
    else prev._next = next;
    if (next === null) this._tail = prev;
    else next._prev = prev;
    waiter._prev = waiter._next = null;
    waiter._lot = null;
    this._size--;
    if (waiter._signal !== undefined) unlinkSignal(waiter._signal, waiter);
  }
}

/**
 * Wraps a granted wait so that, if `signal` aborted between the grant and
 * the moment the caller resumes, the grant is handed back (`giveBack(value)`)
 * and the wait rejects with `CancelledError` instead: nothing is lost and
 * nothing is held by a task that is gone.
 */
export function resumeCheck<T>(
  granted: Promise<T>,
  signal: AbortSignal | undefined,
  giveBack: (value: T) => void,
): Promise<T> {
  if (signal === undefined) return granted;
  return granted.then((value) => {
    if (!signal.aborted) return value;
    giveBack(value);
    throw cancelledFrom(signal.reason);
  });
}
