/**
 * Private: a first-in first-out queue — an array and the index of its head,
 * so that taking the head costs no shift of the rest. The taken part is
 * dropped when the queue empties, or copied away once it is most of the array.
 *
 * @module
 */

/** A FIFO queue with O(1) `push` and `shift`. */
export class Queue<V> {
  private _items: (V | undefined)[] = [];
  private _head = 0;

  get length(): number {
    return this._items.length - this._head;
  }

  push(value: V): void {
    this._items.push(value);
  }

  /** The head, or `undefined` if the queue is empty. */
  peek(): V | undefined {
    return this._items[this._head];
  }

  /** Removes and returns the head (the caller checks that there is one). */
  shift(): V {
    const items = this._items;
    const value = items[this._head]!;
    items[this._head++] = undefined;
    if (this._head === items.length) {
      items.length = 0;
      this._head = 0;
    } else if (this._head >= 1024 && this._head * 2 >= items.length) {
      this._items = items.slice(this._head);
      this._head = 0;
    }
    return value;
  }
}
