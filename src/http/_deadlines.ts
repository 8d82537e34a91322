/**
 * Private: the deadlines of requests (total and sockRead timeouts), kept in
 * one queue per duration.
 *
 * Entries of one duration are scheduled in clock order, so their deadlines
 * come in order too: a queue is a doubly linked list whose head is due first,
 * and it needs one tsaio timer, for its head. Scheduling, moving an entry to
 * the tail (a new chunk restarts sockRead) and removing it cost no timer and
 * no allocation; a request that ends leaves nothing behind for the garbage
 * collector to trace. (A timer per request would stay in its timer bucket,
 * with everything it references, until every request of that bucket ends.)
 * When the timer fires, every entry due is expired and the timer is set for
 * the new head; when the queue empties, its timer is cancelled.
 *
 * @module
 */

import { addTimer, cancelTimer, now, type Bucket, type Runnable } from '../_lowlevel.js';

/** Something with a deadline. */
export abstract class Deadline {
  /** @internal */ _prev: Deadline | null = null;
  /** @internal */ _next: Deadline | null = null;
  /** @internal When it is due (`loop.time()` ms). */ _at = 0;
  /** @internal */ _queue: DeadlineQueue | null = null;

  /** Runs once the deadline passed (the entry is out of its queue by then). */
  abstract _expire(): void;
}

/** The entries of one duration, due first at the head. */
class DeadlineQueue implements Runnable {
  private _head: Deadline | null = null;
  private _tail: Deadline | null = null;
  private _bucket: Bucket | null = null;

  constructor(readonly ms: number) {}

  push(entry: Deadline): void {
    entry._queue = this;
    entry._at = now() + this.ms;
    entry._prev = this._tail;
    entry._next = null;
    if (this._tail === null) this._head = entry;
    else this._tail._next = entry;
    this._tail = entry;
    this._bucket ??= addTimer(this._head!._at, this);
  }

  /** Restarts `entry`'s duration: it goes to the tail (the queue's timer stays as it is). */
  moveToTail(entry: Deadline): void {
    this._unlink(entry);
    this.push(entry);
  }

  remove(entry: Deadline): void {
    this._unlink(entry);
    entry._queue = null;
    if (this._head === null) {
      if (this._bucket !== null) cancelTimer(this._bucket);
      this._bucket = null;
      queues.delete(this.ms);
    }
  }

  private _unlink(entry: Deadline): void {
    const { _prev: prev, _next: next } = entry;
    if (prev === null) this._head = next;
    else prev._next = next;
    if (next === null) this._tail = prev;
    else next._prev = prev;
    entry._prev = entry._next = null;
  }

  _fire(): void {
    this._bucket = null;
    const time = now();
    let entry: Deadline | null;
    while ((entry = this._head) !== null && entry._at <= time) {
      this.remove(entry);
      entry._expire();
    }
    if (this._head !== null) this._bucket ??= addTimer(this._head._at, this);
  }
}

const queues = new Map<number, DeadlineQueue>();

/** (Re)schedules `entry` to expire `ms` from now. */
export function schedule(entry: Deadline, ms: number): void {
  const current = entry._queue;
  if (current !== null) {
    if (current.ms === ms) return current.moveToTail(entry);
    current.remove(entry);
  }
  let queue = queues.get(ms);
  if (queue === undefined) {
    queue = new DeadlineQueue(ms);
    queues.set(ms, queue);
  }
  queue.push(entry);
}

/** Takes `entry` out of its queue: it will not expire. */
export function unschedule(entry: Deadline): void {
  if (entry._queue !== null) entry._queue.remove(entry);
}
