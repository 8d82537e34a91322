/**
 * Private: the JetStream objects behind a queue named `name`.
 *
 * - stream `TSAIO_Q_<name>` (work-queue retention, explicit acks) holds the
 *   items on subject `tsaio.q.<name>`; every handle pulls from its one
 *   durable consumer `tsaio`, so each item goes to one consumer at a time;
 * - stream `TSAIO_Q_<name>_DLQ` keeps the dead letters, subject `tsaio.q.<name>.dead`;
 * - stream `TSAIO_Q_<name>_CTL` keeps the queue's state (shut down or not),
 *   subject `tsaio.q.<name>.ctl`, one message;
 * - stream `TSAIO_Q_<name>_HB` keeps, per item, the deliveries that reached
 *   nobody (see `_handback.ts`), subjects `tsaio.q.<name>.handback.<seq>`.
 *
 * @module
 */

/** Names of the streams, subjects and consumer of one queue. */
export interface Layout {
  readonly name: string;
  readonly stream: string;
  readonly subject: string;
  readonly consumer: string;
  readonly deadStream: string;
  readonly deadSubject: string;
  readonly ctlStream: string;
  readonly ctlSubject: string;
  readonly handBackStream: string;
  readonly handBackSubjects: string;
  /** The subject of the hand-back record of item `seq`. */
  handBackSubject(seq: number): string;
}

const NAME = /^[A-Za-z0-9_-]{1,200}$/;

/** The layout of queue `name`; a `TypeError` unless it is 1-200 letters, digits, `_` or `-`. */
export function layoutOf(name: unknown, where: string): Layout {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(
      `${where}: a queue name must be 1 to 200 letters, digits, '_' or '-', received ${JSON.stringify(name)}`,
    );
  }
  return {
    name,
    stream: `TSAIO_Q_${name}`,
    subject: `tsaio.q.${name}`,
    consumer: 'tsaio',
    deadStream: `TSAIO_Q_${name}_DLQ`,
    deadSubject: `tsaio.q.${name}.dead`,
    ctlStream: `TSAIO_Q_${name}_CTL`,
    ctlSubject: `tsaio.q.${name}.ctl`,
    handBackStream: `TSAIO_Q_${name}_HB`,
    handBackSubjects: `tsaio.q.${name}.handback.*`,
    handBackSubject: (seq) => `tsaio.q.${name}.handback.${seq}`,
  };
}
