/**
 * Private: undici's TCP/TLS connector, with every connect in progress known
 * to the session, so that none outlives what it was opened for.
 *
 * undici opens a connection for the requests queued on one of its clients,
 * and has no way to take back a request that was aborted before it reached a
 * socket: the request stays queued and the connect goes on (against a black
 * hole, until the kernel gives up after about two minutes). The session
 * counts, per origin, the requests handed to undici that are not yet on a
 * connection (`waiting`/`settled`); when that count falls to zero, every
 * connect still in progress to that origin is abandoned — its socket
 * destroyed, undici told it failed, which drops the aborted requests queued
 * behind it. `abandonAll()` does the same for every origin when the session
 * closes.
 *
 * The connect timeout itself is not here: it is a deadline of each request's
 * scope (`_scope.ts`), so each request has its own and it runs on tsaio's
 * clock.
 *
 * @module
 */

import { buildConnector } from 'undici';

/** One connect in progress. */
interface Attempt {
  readonly origin: string;
  socket: { destroy(): void } | undefined;
  /** Tells undici how the connect ended; `null` once it was told. */
  callback: buildConnector.Callback | null;
}

/** Why undici is told an abandoned connect failed (nobody sees it: no request waits for it). */
class Abandoned extends Error {
  readonly code = 'TSAIO_HTTP_CONNECT_ABANDONED';
}

/** The connects of one session, and the requests waiting for a connection, per origin. */
export class ConnectTracker {
  /** The connector to give undici's `Agent`. */
  readonly connect: buildConnector.connector;
  private readonly _attempts = new Set<Attempt>();
  private readonly _waiting = new Map<string, number>();
  private readonly _base = buildConnector({ timeout: 0 });

  constructor() {
    this.connect = (options, callback) => this._open(options, callback);
  }

  /** Connects in progress now. */
  get size(): number {
    return this._attempts.size;
  }

  /** A request to `origin` was handed to undici: it waits for a connection. */
  waiting(origin: string): void {
    this._waiting.set(origin, (this._waiting.get(origin) ?? 0) + 1);
  }

  /**
   * A request to `origin` stopped waiting: it is on a connection, or it
   * failed. The last one to stop lets the connects to `origin` go.
   */
  settled(origin: string): void {
    const left = (this._waiting.get(origin) ?? 1) - 1;
    if (left > 0) {
      this._waiting.set(origin, left);
      return;
    }
    this._waiting.delete(origin);
    if (this._attempts.size === 0) return;
    // Not from inside undici's callback that brought us here: on the next microtask, if still nobody waits.
    queueMicrotask(() => {
      if (!this._waiting.has(origin)) this._abandon(origin);
    });
  }

  /** The session is closing: every connect in progress is abandoned. */
  abandonAll(): void {
    this._abandon(null);
  }

  private _open(options: buildConnector.Options, callback: buildConnector.Callback): void {
    const attempt: Attempt = { origin: `${options.protocol}//${options.host}`, socket: undefined, callback };
    this._attempts.add(attempt);
    // The connector returns the socket it is opening (its type says void).
    attempt.socket = this._base(options, (error, socket) => {
      const told = attempt.callback;
      this._attempts.delete(attempt);
      attempt.callback = null;
      if (told === null) {
        socket?.destroy();
        return;
      }
      if (error !== null) told(error, null);
      else told(null, socket!);
    }) as unknown as { destroy(): void } | undefined;
  }

  /** Abandons the connects to `origin` (`null`: all). */
  private _abandon(origin: string | null): void {
    for (const attempt of this._attempts) {
      if (origin !== null && attempt.origin !== origin) continue;
      this._attempts.delete(attempt);
      const told = attempt.callback;
      attempt.callback = null;
      attempt.socket?.destroy();
      told?.(new Abandoned('no request waits for this connection any more'), null);
    }
  }
}
