/**
 * Queues, after `asyncio.queues`: `Queue` (FIFO), `PriorityQueue`
 * (smallest first, stable) and `LifoQueue`, with 3.13's `shutdown`.
 *
 * Getters and putters wait on the one fair wait-queue, and each put wakes
 * one getter, each freed slot one putter, longest-waiting first. What a
 * waiter takes depends on whether it can still be cancelled:
 *
 * - A waiter without a signal cannot be: an item goes straight from the
 *   putter to it, and its own item straight into a freed slot.
 * - A waiter with a signal does what asyncio's does: a getter is woken and
 *   takes an item when it resumes (until then the item is in the queue, and
 *   `qsize()` counts it); a putter is woken and puts its item when it
 *   resumes. Cancelled before it resumed, it takes or puts nothing, and the
 *   item or the slot goes to the next waiter. If a caller that did not wait
 *   took the item or the slot meanwhile (as asyncio allows), it waits again,
 *   at the head of the line.
 *
 * @module
 */

import { QueueEmpty, QueueFull, QueueShutDown } from './exceptions.js';
import { abortedRejection } from './_cancel.js';
import { checkSignal, describe } from './_validate.js';
import { Fifo } from './_fifo.js';
import { ParkingLot, RETRY } from './_waitqueue.js';

/** Options of every wait of a queue. */
export interface QueueWaitOptions {
  /** Aborting it ends the wait with `CancelledError`; nothing is taken or put. */
  signal?: AbortSignal;
}

/** The storage a queue kind keeps its items in. */
interface Store<T> {
  size(): number;
  push(item: T): void;
  pop(): T;
  clear(): void;
}

/** LIFO storage. */
class Lifo<T> implements Store<T> {
  private _items: T[] = [];
  size(): number {
    return this._items.length;
  }
  push(item: T): void {
    this._items.push(item);
  }
  pop(): T {
    return this._items.pop()!;
  }
  clear(): void {
    this._items = [];
  }
}

/** Compares like Python: numbers, strings and bigints by value, arrays (tuples) element by element. */
export function defaultCompare(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = defaultCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string' && typeof a !== 'bigint')) {
    throw new TypeError(
      `PriorityQueue: cannot compare ${describe(a)} with ${describe(b)}; pass a compare function`,
    );
  }
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/** A binary min-heap, stable: equal items come out in insertion order. */
class Heap<T> implements Store<T> {
  private readonly _items: { item: T; seq: number }[] = [];
  private _seq = 0;
  constructor(private readonly _compare: (a: T, b: T) => number) {}
  size(): number {
    return this._items.length;
  }
  private _before(a: { item: T; seq: number }, b: { item: T; seq: number }): boolean {
    const c = this._compare(a.item, b.item);
    return c < 0 || (c === 0 && a.seq < b.seq);
  }
  push(item: T): void {
    const entry = { item, seq: this._seq };
    const items = this._items;
    // Find the place first: a comparator that throws leaves the heap as it was.
    let at = items.length;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this._before(entry, items[parent]!)) break;
      at = parent;
    }
    let i = items.push(entry) - 1;
    while (i > at) {
      const parent = (i - 1) >> 1;
      items[i] = items[parent]!;
      i = parent;
    }
    items[at] = entry;
    this._seq++;
  }
  pop(): T {
    const items = this._items;
    const top = items[0]!.item;
    const n = items.length - 1;
    if (n === 0) {
      items.pop();
      return top;
    }
    // Find where the last entry settles first: a comparator that throws leaves the heap as it was.
    const last = items[n]!;
    let at = 0;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && this._before(items[r]!, items[l]!) ? r : l;
      if (!this._before(items[m]!, last)) break;
      at = m;
    }
    // Then move each entry on the path from the root to there up one level.
    items.pop();
    const depth = 31 - Math.clz32(at + 1);
    let i = 0;
    for (let level = depth - 1; level >= 0; level--) {
      const child = ((at + 1) >> level) - 1;
      items[i] = items[child]!;
      i = child;
    }
    items[at] = last;
    return top;
  }
  clear(): void {
    this._items.length = 0;
  }
}

/**
 * A FIFO queue for producers and consumers. Same as `asyncio.Queue`:
 * `maxsize` (0: unbounded) makes `put` wait while the queue is full;
 * `taskDone()`/`join()` track unfinished items; `shutdown()` ends it (3.13).
 * `for await (const item of queue)` takes items until the queue is shut down
 * and drained.
 *
 * @example Producer and consumers (the seed's section 7)
 * ```ts
 * import { Queue, gather, sleep } from 'tsaio';
 * const queue = new Queue<number | null>(5);
 * const producer = async () => { for (let i = 0; i < 6; i++) await queue.put(i); await queue.put(null); await queue.put(null); };
 * const consumer = (name: string) => async () => {
 *   for (;;) {
 *     const item = await queue.get();
 *     queue.taskDone();
 *     if (item === null) break;
 *     await sleep(1);
 *     console.log(`[${name}] Consumed: ${item}`);
 *   }
 * };
 * await gather([producer, consumer('A'), consumer('B')]);
 * ```
 */
export class Queue<T> implements AsyncIterable<T> {
  readonly maxsize: number;
  /** @internal */ readonly _store: Store<T>;
  // A getter with a signal takes its item when it resumes; cancelled before, it wakes the next getter.
  private readonly _getters = new ParkingLot<T>('Queue.get', {
    resume: () => this._resumeGetter(),
    giveBack: () => this._wakeGetter(),
  });
  // A putter with a signal puts its item (the payload) when it resumes; cancelled before, its slot goes on.
  private readonly _putters = new ParkingLot<void>('Queue.put', {
    resume: (_, item) => this._resumePutter(item as T),
    giveBack: () => this._admitPutters(),
  });
  private readonly _joiners = new ParkingLot<void>('Queue.join');
  private _unfinished = 0;
  private _shutdown = false;

  constructor(maxsize = 0) {
    if (typeof maxsize !== 'number' || Number.isNaN(maxsize)) {
      throw new RangeError(`${new.target.name}: maxsize must be a number, received ${describe(maxsize)}`);
    }
    this.maxsize = maxsize;
    this._store = this._makeStore();
  }

  /** @internal The storage of this kind of queue. */
  _makeStore(): Store<T> {
    return new Fifo<T>();
  }

  /** Number of items in the queue. */
  qsize(): number {
    return this._store.size();
  }

  /** True if the queue holds no item. */
  empty(): boolean {
    return this._store.size() === 0;
  }

  /** True if the queue holds `maxsize` items (never, when `maxsize` ≤ 0). */
  full(): boolean {
    return this.maxsize > 0 && this._store.size() >= this.maxsize;
  }

  /**
   * Puts `item`, waiting while the queue is full. `QueueShutDown` once shut
   * down. A `PriorityQueue` comparator that throws on `item` rejects this put.
   */
  put(item: T, opts?: QueueWaitOptions): Promise<void> {
    const signal = checkSignal(opts?.signal, 'put', this);
    if (this._shutdown) return Promise.reject(new QueueShutDown());
    const aborted = abortedRejection(signal);
    if (aborted !== null) return aborted;
    if (!this.full()) {
      try {
        this._add(item);
      } catch (error) {
        return Promise.reject(error);
      }
      return Promise.resolve();
    }
    return this._putters.park(signal, item);
  }

  /** Puts `item` now; `QueueFull` if full, `QueueShutDown` if shut down. */
  putNowait(item: T): void {
    if (this._shutdown) throw new QueueShutDown();
    if (this.full()) throw new QueueFull();
    this._add(item);
  }

  /** Takes the next item, waiting while the queue is empty. `QueueShutDown` once shut down and empty. */
  get(opts?: QueueWaitOptions): Promise<T> {
    const signal = checkSignal(opts?.signal, 'get', this);
    const aborted = abortedRejection(signal);
    if (aborted !== null) return aborted;
    if (this._store.size() > 0) return Promise.resolve(this._take());
    if (this._shutdown) return Promise.reject(new QueueShutDown());
    return this._getters.park(signal);
  }

  /** Takes the next item now; `QueueEmpty` if empty, `QueueShutDown` if shut down and empty. */
  getNowait(): T {
    if (this._store.size() > 0) return this._take();
    if (this._shutdown) throw new QueueShutDown();
    throw new QueueEmpty();
  }

  /** Marks one item taken earlier as processed. `RangeError` if called more often than items were put. */
  taskDone(): void {
    if (this._unfinished <= 0) {
      throw new RangeError(`${this.constructor.name}.taskDone: called more times than there were items`);
    }
    if (--this._unfinished === 0) this._joiners.unparkAll();
  }

  /** Waits until every item put has been marked done with `taskDone()`. */
  join(opts?: QueueWaitOptions): Promise<void> {
    const signal = checkSignal(opts?.signal, 'join', this);
    const aborted = abortedRejection(signal);
    if (aborted !== null) return aborted;
    if (this._unfinished === 0) return Promise.resolve();
    return this._joiners.park(signal);
  }

  /**
   * Shuts the queue down: puts fail with `QueueShutDown` from now on, and
   * gets once the queue is empty. With `immediate`, the items still queued
   * are dropped (and counted done, so `join()` returns). Every blocked
   * caller is woken. Same as `asyncio.Queue.shutdown` (3.13).
   */
  shutdown(immediate = false): void {
    this._shutdown = true;
    if (immediate) {
      const dropped = this._store.size();
      this._store.clear();
      this._unfinished = Math.max(0, this._unfinished - dropped);
      if (this._unfinished === 0) this._joiners.unparkAll();
    }
    this._getters.rejectAll(() => new QueueShutDown());
    this._putters.rejectAll(() => new QueueShutDown());
  }

  /** Yields items until the queue is shut down and drained. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return untilShutDown(() => this.get());
  }

  statistics(): { qsize: number; maxsize: number; unfinished: number; getters: number; putters: number } {
    return {
      qsize: this.qsize(),
      maxsize: this.maxsize,
      unfinished: this._unfinished,
      getters: this._getters.size,
      putters: this._putters.size,
    };
  }

  toString(): string {
    const parts = [`maxsize=${this.maxsize}`, `qsize=${this.qsize()}`];
    if (this._getters.size > 0) parts.push(`getters=${this._getters.size}`);
    if (this._putters.size > 0) parts.push(`putters=${this._putters.size}`);
    if (this._unfinished > 0) parts.push(`tasks=${this._unfinished}`);
    if (this._shutdown) parts.push('shutdown');
    return `<${this.constructor.name} ${parts.join(' ')}>`;
  }

  /**
   * An item enters: straight to the longest-waiting getter if it has no
   * signal; else into the store, waking the longest-waiting getter (it takes
   * an item when it resumes). A comparator that throws changes nothing.
   */
  private _add(item: T): void {
    const getters = this._getters;
    if (getters.size === 0 || !getters.unparkPlain(item)) {
      this._store.push(item);
      if (getters.size > 0) getters.unparkOne(undefined as T);
    }
    this._unfinished++;
  }

  /** An item leaves the store; a freed slot goes to the longest-waiting putter. */
  private _take(): T {
    const item = this._store.pop();
    this._admitPutters();
    return item;
  }

  /**
   * Fills the free slots from the waiting putters, oldest first: a putter
   * without a signal puts its item now, one with a signal is woken and
   * keeps the slot until it resumes. A putter whose item the comparator
   * refuses is rejected with that error.
   */
  private _admitPutters(): void {
    const putters = this._putters;
    while (putters.size > 0 && this._freeSlots() > 0) {
      if (putters.headHasSignal()) {
        putters.unparkOne();
        continue;
      }
      try {
        this._add(putters.headPayload() as T);
      } catch (error) {
        putters.rejectOne(error);
        continue;
      }
      putters.unparkOne();
    }
  }

  /** Slots neither filled nor promised to a woken putter. */
  private _freeSlots(): number {
    if (this.maxsize <= 0) return Infinity;
    return this.maxsize - this._store.size() - this._putters.woken;
  }

  /** A woken getter with a signal resumes: it takes an item, or waits again if one was taken meanwhile. */
  private _resumeGetter(): T | typeof RETRY {
    if (this._store.size() > 0) return this._take();
    if (this._shutdown) throw new QueueShutDown();
    return RETRY;
  }

  /** A woken putter with a signal resumes: it puts its item, or waits again if its slot was taken meanwhile. */
  private _resumePutter(item: T): void | typeof RETRY {
    if (this._shutdown) throw new QueueShutDown();
    if (this.full()) return RETRY;
    try {
      this._add(item);
    } catch (error) {
      this._admitPutters(); // the slot it was woken for goes on
      throw error;
    }
  }

  /** A woken getter was cancelled before it resumed: if an item is there, the next getter gets it. */
  private _wakeGetter(): void {
    if (this._store.size() === 0 || this._getters.size === 0) return;
    if (this._getters.headHasSignal()) this._getters.unparkOne(undefined as T);
    else this._getters.unparkOne(this._take());
  }
}

/**
 * @internal Yields what `get()` gives until it rejects with `QueueShutDown`:
 * the `for await` of every queue with the `Queue` surface.
 */
export async function* untilShutDown<T>(get: () => Promise<T>): AsyncGenerator<T, void, undefined> {
  for (;;) {
    let item: T;
    try {
      item = await get();
    } catch (error) {
      if (error instanceof QueueShutDown) return;
      throw error;
    }
    yield item;
  }
}

/**
 * A queue that gives the smallest item first; equal items come out in the
 * order they were put. Same as `asyncio.PriorityQueue`. Without `compare`,
 * items compare as Python would: numbers, strings, bigints, and arrays as
 * tuples (`[priority, data]`).
 *
 * @example
 * ```ts
 * import { PriorityQueue } from 'tsaio';
 * const q = new PriorityQueue<[number, string]>();
 * q.putNowait([2, 'low']); q.putNowait([1, 'high']);
 * console.log(q.getNowait()); // [ 1, 'high' ]
 * ```
 */
export class PriorityQueue<T> extends Queue<T> {
  private _compare: (a: T, b: T) => number = defaultCompare;

  constructor(maxsize = 0, compare: (a: T, b: T) => number = defaultCompare) {
    super(maxsize);
    if (typeof compare !== 'function') {
      throw new TypeError(`PriorityQueue: compare must be a function, received ${describe(compare)}`);
    }
    this._compare = compare;
  }

  /** @internal The heap reads the comparator set after `super()` returns. */
  override _makeStore(): Store<T> {
    return new Heap<T>((a, b) => this._compare(a, b));
  }
}

/**
 * A queue that gives the most recently put item first. Same as
 * `asyncio.LifoQueue`.
 *
 * @example
 * ```ts
 * import { LifoQueue } from 'tsaio';
 * const q = new LifoQueue<number>();
 * q.putNowait(1); q.putNowait(2);
 * console.log(q.getNowait()); // 2
 * ```
 */
export class LifoQueue<T> extends Queue<T> {
  /** @internal */
  override _makeStore(): Store<T> {
    return new Lifo<T>();
  }
}
