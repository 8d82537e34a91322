/**
 * Private: one JetStream publish that waits for the server's acknowledgement
 * (a `PubAck`) and fails at once, with a typed error, when the connection is
 * lost or the caller's signal aborts meanwhile.
 *
 * A NATS message is written whole or not at all, so a failed publish has
 * either stored the message or not. A publish that no stream takes (in a
 * cluster, while the stream's leader is being replaced) is tried again until
 * the timeout. Every publish carries a message id
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
import { Timer } from './_timer.js';

/** JetStream's error code for a publish refused because the stream holds its `max_msgs`. */
export const STREAM_FULL = 10077;

/** The publish was refused because the stream is full (`max_msgs` with discard-new). */
export class StreamFull extends Error {}

/** Wait before the second try of a publish no stream took; doubled each time, up to `MAX_RETRY_MS`. */
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 1000;

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

/** True for the client's error when nothing listened on the subject: no stream (leader) took the message. */
function isNoResponders(error: unknown): boolean {
  const e = error as { name?: string; cause?: { isNoResponders?: () => boolean } };
  return e.name === 'JetStreamNotEnabled' || e.cause?.isNoResponders?.() === true;
}

/** The error once every try within the timeout met no stream leader: nothing was stored. */
function noLeader(opts: PublishOptions, tries: number): Error {
  return Object.assign(
    new TimeoutError(
      `no JetStream stream took the ${opts.what} (message id ${opts.id}) within ${opts.timeout} ms: ` +
        `${tries} tries met no stream leader (a cluster electing a new one after losing a server, ` +
        `or the stream was deleted); nothing was stored: send it again with { id: '${opts.id}' }`,
    ),
    { id: opts.id },
  );
}

/**
 * Publishes `data` to `subject` and resolves with the server's `PubAck`.
 * A try that no stream takes (no responders: in a cluster, the stream has
 * no leader while a new one is elected) is made again with the same message
 * id, after 50, 100, 200… ms (at most 1 s apart), until `opts.timeout` has
 * passed since the first.
 */
export function publishOnce(
  conn: Connection,
  subject: string,
  data: Uint8Array,
  opts: PublishOptions,
): Promise<PubAck> {
  if (conn.closed) return Promise.reject(conn._closedError());
  return new Promise<PubAck>((resolve, reject) => {
    let settled = false;
    let tries = 0;
    const deadline = performance.now() + opts.timeout;
    const again = new Timer(() => send());
    const finish = (error: unknown, ack?: PubAck): void => {
      if (settled) return;
      settled = true;
      again.stop();
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
    const failed = (error: unknown): void => {
      if (settled) return;
      if (!isNoResponders(error) || conn.closed) {
        finish(translate(error, conn, opts));
        return;
      }
      // The last try leaves itself FIRST_RETRY_MS for the server's answer.
      const left = deadline - performance.now() - FIRST_RETRY_MS;
      if (left <= 0) finish(noLeader(opts, tries));
      else again.start(Math.min(left, MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (tries - 1)));
    };
    const send = (): void => {
      if (settled) return;
      tries++;
      let sent: Promise<PubAck>;
      try {
        sent = conn.js.publish(subject, data, {
          msgID: opts.id,
          timeout: Math.max(1, Math.ceil(deadline - performance.now())),
          ...(opts.headers !== undefined ? { headers: opts.headers } : {}),
        });
      } catch (error) {
        finish(error instanceof InvalidStateError ? error : translate(error, conn, opts));
        return;
      }
      sent.then((ack) => finish(null, ack), failed);
    };
    scope.open(opts.signal, null);
    if (settled) return; // the signal had aborted: nothing is sent
    send();
  });
}
