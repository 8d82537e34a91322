/**
 * Private: the deliveries of a queue's items that reached no getter, so
 * that they do not count.
 *
 * JetStream counts a delivery when it sends a message, and cannot un-count
 * it. When a handle receives a message nobody there can take any more (the
 * get it was sent for was cancelled as it arrived; a prefetched item when
 * the handle closes), it hands it back (`nak`), and the server's count for
 * the item's next delivery has grown by one. So before the `nak` the handle
 * stores a record on the queue's hand-back stream (`TSAIO_Q_<name>_HB`,
 * subject `tsaio.q.<name>.handback.<seq>`, one message per item): the
 * delivery counts of the item's deliveries that reached nobody. The record is
 * stored (the server confirmed it) before the `nak` is sent, so every later
 * delivery, to any handle of any process, finds it. A delivery whose count is
 * above 1 looks its record up; its `deliveryCount`, and the `maxDeliveries`
 * check, are the server's count less the deliveries recorded there. The
 * record is deleted once the item is done or dead-lettered.
 *
 * nats-server before 2.11 can count a delivery it never made when a message
 * is handed back while another handle has just stopped a pull (see
 * `_receiver.ts`); the count then jumps by two. So a record also names the
 * delivery after the last hand-back as a "maybe": it does not count unless a
 * get takes it, and then the record drops it.
 *
 * So a cancelled get leaves an item's delivery count unchanged and never
 * sends it to the dead letters. If the record cannot be stored (the server
 * does not answer within the put timeout), the message is handed back all
 * the same and that delivery counts: +1.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const COUNTS = /^[1-9][0-9]{0,9}( [1-9][0-9]{0,9})*$/;
const COUNT = /^[1-9][0-9]{0,9}$/;

/** The hand-back record of one item. */
export interface HandBackRecord {
  /** Delivery counts of the deliveries that reached nobody. */
  readonly handedBack: readonly number[];
  /**
   * The delivery right after the last hand-back, which nats-server before
   * 2.11 may count without making (see `_receiver.ts`): it does not count
   * unless it is taken (then the record drops it).
   */
  readonly maybe: number | null;
}

export const NO_RECORD: HandBackRecord = { handedBack: [], maybe: null };

/** Reads a record (`1 3` or `1 3/4`: handed back, then the maybe); `NO_RECORD` for anything else. */
export function parseRecord(data: Uint8Array | undefined): HandBackRecord {
  if (data === undefined) return NO_RECORD;
  const [counts = '', maybe, extra] = decoder.decode(data).split('/');
  if (extra !== undefined || !COUNTS.test(counts)) return NO_RECORD;
  if (maybe !== undefined && !COUNT.test(maybe)) return NO_RECORD;
  return { handedBack: counts.split(' ').map(Number), maybe: maybe === undefined ? null : Number(maybe) };
}

/** The bytes of `record`. */
export function encodeRecord(record: HandBackRecord): Uint8Array {
  const counts = [...new Set(record.handedBack)].sort((a, b) => a - b).join(' ');
  return encoder.encode(record.maybe === null ? counts : `${counts}/${record.maybe}`);
}

/** The count of the delivery the server numbered `count`, less the earlier ones that reached nobody. */
export function effectiveCount(count: number, record: HandBackRecord): number {
  let wasted = 0;
  for (const c of record.handedBack) if (c < count) wasted++;
  if (record.maybe !== null && record.maybe < count && !record.handedBack.includes(record.maybe)) wasted++;
  return Math.max(1, count - wasted);
}

/** The record once delivery `count` was handed back: it, and the delivery after it as a maybe. */
export function afterHandBack(record: HandBackRecord, count: number): HandBackRecord {
  const handedBack = [...record.handedBack, count];
  // A maybe below `count` was not taken (else the record would have dropped it): it never happened.
  if (record.maybe !== null && record.maybe < count) handedBack.push(record.maybe);
  return { handedBack, maybe: count + 1 };
}

/** The record once delivery `count` was taken by a get: without its maybe if that was this delivery, else `null` (unchanged). */
export function afterTaken(record: HandBackRecord, count: number): HandBackRecord | null {
  return record.maybe === count ? { handedBack: record.handedBack, maybe: null } : null;
}
