/**
 * Private: one request's cancel scope — a core `CancelScope` whose action is
 * to abort the attempt in flight (its `Exchange`). It is cancelled when the
 * caller's signal aborts, a timeout passes (total; connect, until the
 * request is on a connection; sockRead, while the server owes bytes) or the
 * session closes, and lives until the response body is read, the response
 * closed or disposed, or collected unread (`response.ts`), so all of these
 * also govern reading the body. `translateError` turns what undici throws
 * into tsaio's typed errors.
 *
 * The scope holds one timer entry at most, due no later than the earliest of
 * the total deadline, the connect deadline and the sockRead clock. A chunk
 * restarts the clock without touching the entry; when the entry comes due,
 * the scope tells which deadline ran out, or, if none did, sets the entry
 * again.
 *
 * undici is never handed a signal: the scope aborts the exchange itself, so
 * a request costs no `AbortSignal` and no event listener. A real signal
 * (`scope.signal`) is made only for tsaio's own waits that need one (a full
 * semaphore, the rate limiter, a retry's backoff).
 *
 * @module
 */

import { CancelledError, TimeoutError } from '../exceptions.js';
import { CancelScope, now } from '../_lowlevel.js';
import { ClientConnectionError, ClientError, httpTimeout } from './errors.js';
import type { Exchange } from './_exchange.js';

/** The timeouts of one request, in ms (`null`: none). */
export interface Timeouts {
  total: number | null;
  connect: number | null;
  sockRead: number | null;
}

/** What bounds one request: its timeouts and the largest body it accepts. */
export interface Limits extends Timeouts {
  /** Bytes (`null`: no limit). */
  maxBodySize: number | null;
}

/** The scope of one request, from the call until its body is done. */
export class RequestScope extends CancelScope {
  /** The attempt in flight, which a cancel stops. */
  exchange: Exchange | null = null;
  /** @internal The total deadline (`loop.time()` ms), or `null`. */
  private readonly _totalAt: number | null;
  /** @internal The connect deadline while the attempt waits for a connection, else `null`. */
  private _connectAt: number | null = null;
  /** @internal The sockRead deadline while its clock runs, else `null`. */
  private _readAt: number | null = null;
  /** @internal Where the scope is in its session's `OpenRequests` (-1: not there). */
  _openAt = -1;

  /** A request to `url`, one of the session's `open` ones until it ends; `user` is the caller's signal (not aborted). */
  constructor(
    readonly url: string,
    readonly timeouts: Limits,
    user: AbortSignal | undefined,
    private readonly _open: OpenRequests,
  ) {
    super();
    this._totalAt = timeouts.total === null ? null : now() + timeouts.total;
    _open.add(this);
    this.open(user, this._totalAt);
  }

  /**
   * The session is closing: a request still waiting for its response fails,
   * a body still coming stops (its socket is closed: the pool is closing, a
   * drain would be wasted), a body not yet read can no longer be — all with
   * a `ClientError`. Ends the scope.
   */
  close(): void {
    this.cancel(new ClientError(`the session was closed before ${this.url} was done`));
    this.end();
  }

  /**
   * The attempt was handed to the pool: the connect clock starts, if there
   * is one. It stops once the request is on a connection (`connected`).
   */
  armConnect(): void {
    const ms = this.timeouts.connect;
    if (ms === null || this.ended || this.aborted) return;
    const at = (this._connectAt = now() + ms);
    const armed = this.when();
    if (armed === null || armed > at) this.reschedule(at);
  }

  /** The attempt is on a connection: the connect clock stops, the sockRead clock starts. */
  connected(): void {
    this._connectAt = null;
    this.armRead();
  }

  /**
   * Starts (or restarts) the sockRead clock: the server must send something
   * (headers, or the next body chunk) within `timeouts.sockRead` ms. On
   * tsaio's timers: undici's own read timeouts run on coarse timers with
   * about a second of slack. The scope's timer entry is moved only when the
   * new read deadline comes before it: a chunk that pushes the clock back
   * costs no timer operation (see `_onDeadline`).
   */
  armRead(): void {
    const ms = this.timeouts.sockRead;
    if (ms === null || this.ended || this.aborted) return;
    const read = (this._readAt = now() + ms);
    const armed = this.when();
    if (armed === null || armed > read) this.reschedule(read);
  }

  /** The server sent something: the sockRead clock starts again, if it runs. */
  touchRead(): void {
    if (this._readAt !== null) this.armRead();
  }

  /** Stops the sockRead clock (the body is in, or reading it is paused). */
  disarmRead(): void {
    this._readAt = null;
  }

  /** The attempt failed: its connect and sockRead clocks stop (a retry's backoff is nobody's silence). */
  attemptFailed(): void {
    this._connectAt = null;
    this._readAt = null;
  }

  /**
   * @internal The timer entry came due: a deadline ran out — the earliest
   * one that did names the error (connect, then sockRead, then total on a
   * tie) — or none did (chunks pushed the clock back, or a clock stopped),
   * and the entry is set for the earliest of them again.
   */
  override _onDeadline(): void {
    if (this.aborted) return;
    const connect = this._connectAt;
    const read = this._readAt;
    const total = this._totalAt;
    const first = earliest(earliest(connect, read), total);
    if (first === null || first > now()) {
      this.reschedule(first);
    } else if (first === connect) {
      this.cancel(httpTimeout('connect', this.url, this.timeouts.connect));
    } else if (first === read) {
      this.cancel(httpTimeout('sockRead', this.url, this.timeouts.sockRead));
    } else {
      this.cancel(httpTimeout('total', this.url, this.timeouts.total));
    }
  }

  /** @internal The action: the clocks stop and the exchange is aborted. */
  override _onCancel(reason: unknown): void {
    this._readAt = null;
    this._connectAt = null;
    this.exchange?.abort(reason);
  }

  /** Throws the typed error for an abort that already happened. */
  override check(): void {
    if (this.aborted) throw translateError(undefined, this);
  }

  /**
   * The request is over: stop the attempt if its body is still coming (its
   * socket is closed), drop the timer and the signal hook.
   */
  override end(): void {
    if (this.ended) return;
    super.end();
    this._readAt = null;
    this._connectAt = null;
    const exchange = this.exchange;
    if (exchange !== null && !exchange.done) {
      exchange.abort(new ClientError(`the response of ${this.url} was closed before its body was read`));
    }
    // A timer entry stays in its bucket until the bucket's other entries end too: it must hold nothing big.
    this.exchange = null;
    this._open.delete(this);
  }
}

/**
 * The requests of a session that have not ended, for `close()`. An array
 * with swap-and-pop removal: adding and removing one per request churns no
 * hash table. With a `Set` here, W7 promoted 41 MB to V8's old generation in
 * a run (an undici `Pool` promotes 6 MB; this array, 7 MB): a long-lived Set
 * with an add and a delete per request promotes nearly everything its entries
 * reference (likely because each rehash leaves the outgrown table, still
 * holding its entries, linked to the next one, and a table already in the old
 * generation keeps that chain alive at every scavenge).
 */
export class OpenRequests {
  private readonly _scopes: RequestScope[] = [];

  get size(): number {
    return this._scopes.length;
  }

  add(scope: RequestScope): void {
    scope._openAt = this._scopes.length;
    this._scopes.push(scope);
  }

  delete(scope: RequestScope): void {
    const at = scope._openAt;
    if (at < 0) return;
    scope._openAt = -1;
    const last = this._scopes.pop()!;
    if (last === scope) return;
    this._scopes[at] = last;
    last._openAt = at;
  }

  /** The scopes open now (a copy). */
  list(): RequestScope[] {
    return this._scopes.slice();
  }
}

/** The earlier of two deadlines (`null`: none). */
function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null || a <= b ? a : b;
}

/** What undici (or a body stream) threw, as the error a tsaio user should see. */
export function translateError(error: unknown, scope: RequestScope): Error {
  // An abort of ours (total or sockRead timeout, the caller's signal): its reason says which.
  if (scope.aborted && scope.reason instanceof Error) return scope.reason;
  if (error instanceof ClientError || error instanceof TimeoutError || error instanceof CancelledError)
    return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT')
    return httpTimeout('connect', scope.url, scope.timeouts.connect, error);
  if (error instanceof TypeError || error instanceof RangeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ClientConnectionError(`${message} (${scope.url})`, scope.url, { cause: error });
}
