/**
 * `Delivery`: one item as a consumer received it, with its delivery count
 * and the ways to settle it.
 *
 * @module
 */

import type { JsMsg } from '@nats-io/jetstream';

/**
 * One delivery of an item of a `DistributedQueue` (from `receive()`). The
 * item stays in the queue until it is settled: `done()` removes it (same as
 * `taskDone()` for this item), `retry()` gives it back for another delivery
 * at once, and if neither happens within the queue's `ackWait` (the consumer
 * died, say) the server delivers it again. `deliveryCount` is 1 on the first
 * delivery. Same role as a Celery task's `request.retries` plus its ack.
 *
 * @example
 * ```ts
 * import { connect, DistributedQueue } from 'tsaio/nats';
 * await using conn = await connect();
 * const q = await DistributedQueue.open<string>(conn, `doc-delivery-${process.pid}`);
 * await q.put('hello');
 * const d = await q.receive();
 * console.log(d.value, d.deliveryCount); // hello 1
 * d.done();
 * await q.destroy();
 * ```
 */
export class Delivery<T> {
  private _settled = false;

  /** @internal Made by the queue. */
  constructor(
    readonly value: T,
    private readonly _msg: JsMsg,
    private readonly _count: number,
    private readonly _onSettle: (delivery: Delivery<T>, done: boolean) => void,
  ) {}

  /**
   * How many times the item has been delivered, this delivery included (1
   * the first time). A delivery that reached no getter (its get was
   * cancelled as it arrived) does not count.
   */
  get deliveryCount(): number {
    return this._count;
  }

  /** The item's sequence number in the queue's stream (unique per item, in put order). */
  get seq(): number {
    return this._msg.seq;
  }

  /** True once `done()` or `retry()` was called. */
  get settled(): boolean {
    return this._settled;
  }

  /** Marks the item processed: the server removes it from the queue. Calling it again does nothing. */
  done(): void {
    if (this._settle(true)) this._msg.ack();
  }

  /**
   * Gives the item back for another delivery, after `delayMs` (default 0),
   * as if its consumer had died; its delivery count grows by one.
   *
   * @param delayMs How long the server waits before delivering it again.
   * @throws {RangeError} If `delayMs` is negative or not a number.
   */
  retry(delayMs = 0): void {
    if (typeof delayMs !== 'number' || !(delayMs >= 0)) {
      throw new RangeError(
        `Delivery.retry: delayMs must be a non-negative number, received ${String(delayMs)}`,
      );
    }
    if (this._settle(false)) this._msg.nak(delayMs);
  }

  /** Tells the server the item is still being worked on: its `ackWait` starts again. */
  working(): void {
    if (!this._settled) this._msg.working();
  }

  /** @internal The message, for the queue. */
  get _raw(): JsMsg {
    return this._msg;
  }

  /** @internal Marks it settled without answering the server: the queue moves it to the dead letters. */
  _detach(): void {
    this._settled = true;
  }

  private _settle(done: boolean): boolean {
    if (this._settled) return false;
    this._settled = true;
    this._onSettle(this, done);
    return true;
  }

  toString(): string {
    return `<Delivery seq=${this.seq} deliveries=${this.deliveryCount}${this._settled ? ' settled' : ''}>`;
  }
}
