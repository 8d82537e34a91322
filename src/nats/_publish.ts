/**
 * Private: one JetStream publish that waits for the server's acknowledgement
 * (a `PubAck`) and fails at once, with a typed error, when the connection is
 * lost or the caller's signal aborts meanwhile.
 *
 * A NATS message is written whole or not at all, so a failed publish has
 * either stored the message or not. Every publish carries a message id
 * (`Nats-Msg-Id`); publishing again with the same id within the stream's
 * duplicate window stores it at most once.
 *
 * @module
 */

import type { MsgHdrs } from '@nats-io/transport-node';
import type { PubAck } from '@nats-io/jetstream';
import { InvalidStateError, TimeoutError } from '../exceptions.js';
import { CancelScope } from '../_lowlevel.js';
import type { Connection } from './connection.js';
import { ConnectionLostError, NatsError } from './errors.js';

/** JetStream's error code for a publish refused because the stream holds its `max_msgs`. */
export const STREAM_FULL = 10077;

/** The publish was refused because the stream is full (`max_msgs` with discard-new). */
export class StreamFull extends Error {}

export interface PublishOptions {
  id: string;
  headers?: MsgHdrs;
  timeout: number;
  signal: AbortSignal | undefined;
  /** For messages: "put to queue 'jobs'". */
  what: string;
}

/** The error for what the client threw. */
function translate(error: unknown, conn: Connection, opts: PublishOptions): Error {
  const e = error as { name?: string; code?: unknown; message?: string };
  if (e.name === 'JetStreamApiError' && e.code === STREAM_FULL) return new StreamFull();
  if (e.name === 'TimeoutError') {
    return Object.assign(
      new TimeoutError(
        `the server did not confirm the ${opts.what} (message id ${opts.id}) within ${opts.timeout} ms; ` +
          `the item is either wholly stored or not at all: send it again with { id: '${opts.id}' } to be sure`,
        { cause: error },
      ),
      { id: opts.id },
    );
  }
  if (e.name === 'ClosedConnectionError' || conn.closed) return conn._closedError();
  return new NatsError(`the ${opts.what} failed: ${e.message ?? String(error)}`, { cause: error });
}

/**
 * One publish's cancel scope, opened on the caller's signal: cancelled by
 * the signal (`CancelledError`) or by the loss of the connection
 * (`ConnectionLostError`), it ends the wait for the `PubAck` with that reason.
 */
class Publishing extends CancelScope {
  constructor(private readonly _fail: (reason: unknown) => void) {
    super();
  }

  override _onCancel(reason: unknown): void {
    this._fail(reason);
  }
}

/** Publishes `data` to `subject` and resolves with the server's `PubAck`. */
export function publishOnce(
  conn: Connection,
  subject: string,
  data: Uint8Array,
  opts: PublishOptions,
): Promise<PubAck> {
  if (conn.closed) return Promise.reject(conn._closedError());
  return new Promise<PubAck>((resolve, reject) => {
    let settled = false;
    const finish = (error: unknown, ack?: PubAck): void => {
      if (settled) return;
      settled = true;
      undoLost();
      scope.end();
      if (error === null) resolve(ack!);
      else reject(error);
    };
    const scope = new Publishing(finish);
    const undoLost = conn._onLost(() =>
      scope.cancel(
        new ConnectionLostError(
          `the connection to NATS was lost before the server confirmed the ${opts.what} ` +
            `(message id ${opts.id}); the item is either wholly stored or not at all: ` +
            `send it again with { id: '${opts.id}' } to be sure`,
          opts.id,
        ),
      ),
    );
    scope.open(opts.signal, null);
    if (settled) return; // the signal had aborted: nothing is sent
    let sent: Promise<PubAck>;
    try {
      sent = conn.js.publish(subject, data, {
        msgID: opts.id,
        timeout: opts.timeout,
        ...(opts.headers !== undefined ? { headers: opts.headers } : {}),
      });
    } catch (error) {
      finish(error instanceof InvalidStateError ? error : translate(error, conn, opts));
      return;
    }
    sent.then(
      (ack) => finish(null, ack),
      (error: unknown) => finish(translate(error, conn, opts)),
    );
  });
}
