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
 * So a cancelled get leaves an item's delivery count unchanged and never
 * sends it to the dead letters. If the record cannot be stored (the server
 * does not answer within the put timeout), the message is handed back all
 * the same and that delivery counts: +1.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const RECORD = /^[1-9][0-9]{0,9}( [1-9][0-9]{0,9})*$/;

/** The delivery counts a record lists; none for anything that is not a record. */
export function parseRecord(data: Uint8Array | undefined): number[] {
  if (data === undefined) return [];
  const text = decoder.decode(data);
  return RECORD.test(text) ? text.split(' ').map(Number) : [];
}

/** The record listing `counts` (sorted, each once). */
export function encodeRecord(counts: Iterable<number>): Uint8Array {
  return encoder.encode([...new Set(counts)].sort((a, b) => a - b).join(' '));
}

/** The count of the delivery the server numbered `count`, less the earlier ones in `handedBack`. */
export function effectiveCount(count: number, handedBack: readonly number[]): number {
  let wasted = 0;
  for (const c of handedBack) if (c < count) wasted++;
  return Math.max(1, count - wasted);
}
