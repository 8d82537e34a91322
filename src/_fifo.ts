/**
 * Private: a first-in first-out ring, the storage of `Queue` and the order
 * of `map`'s calls.
 *
 * @module
 */

/** The first capacity of a FIFO ring (a power of two). */
const FIFO_START = 16;
/** A FIFO ring emptied after a burst lets go of its array above this capacity. */
const FIFO_RETAIN = 1024;

/** An empty ring of `n` slots, each set to `undefined`. */
function emptyRing<T>(n: number): (T | undefined)[] {
  return new Array<T | undefined>(n).fill(undefined);
}

/**
 * FIFO storage: a ring buffer whose capacity is a power of two, doubled when
 * full, and let go of once a burst has drained. A bounded queue's ring stops
 * growing once it can hold `maxsize`: puts and gets then never allocate, copy
 * or compact.
 */
export class Fifo<T> {
  private _buf: (T | undefined)[] = emptyRing<T>(FIFO_START);
  private _mask = FIFO_START - 1;
  private _head = 0;
  private _size = 0;
  size(): number {
    return this._size;
  }
  push(item: T): void {
    if (this._size > this._mask) this._grow();
    this._buf[(this._head + this._size) & this._mask] = item;
    this._size++;
  }
  /** The head, or `undefined` if the ring is empty. */
  peek(): T | undefined {
    return this._size === 0 ? undefined : this._buf[this._head];
  }
  /** Removes and returns the head (the caller checks that there is one). */
  pop(): T {
    const head = this._head;
    const item = this._buf[head] as T;
    this._buf[head] = undefined;
    this._head = (head + 1) & this._mask;
    if (--this._size === 0 && this._mask >= FIFO_RETAIN) this.clear();
    return item;
  }
  clear(): void {
    this._buf = emptyRing<T>(FIFO_START);
    this._mask = FIFO_START - 1;
    this._head = 0;
    this._size = 0;
  }
  /** Doubles the ring, the items moved to its start in order. */
  private _grow(): void {
    const old = this._buf;
    const n = old.length;
    const buf = emptyRing<T>(n * 2);
    for (let i = 0; i < n; i++) buf[i] = old[(this._head + i) & this._mask];
    this._buf = buf;
    this._mask = n * 2 - 1;
    this._head = 0;
  }
}
