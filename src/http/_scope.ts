/**
 * Private: one request's cancel scope — a core `CancelScope` whose action is
 * to abort the attempt in flight (its `Exchange`). It is cancelled when the
 * caller's signal aborts, the total timeout passes or the server is silent
 * for longer than sockRead, and lives until the response body is read or
 * disposed, so all three also govern reading the body. `translateError`
 * turns what undici throws into tsaio's typed errors.
 *
 * The scope holds one timer entry at most, due no later than the earlier of
 * the total deadline and the sockRead clock. A chunk restarts the clock
 * without touching the entry; when the entry comes due, the scope tells
 * which deadline ran out, or, if neither did, sets the entry again.
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

/** The scope of one request, from the call until its body is done. */
export class RequestScope extends CancelScope {
  /** The attempt in flight, which a cancel stops. */
  exchange: Exchange | null = null;
  /** The response handed out, once there is one. */
  response: { close(): Promise<void> } | null = null;
  /** @internal The total deadline (`loop.time()` ms), or `null`. */
  private readonly _totalAt: number | null;
  /** @internal The sockRead deadline while its clock runs, else `null`. */
  private _readAt: number | null = null;
  /** @internal Where the scope is in its session's `OpenRequests` (-1: not there). */
  _openAt = -1;

  /** A request to `url`, one of the session's `open` ones until it ends; `user` is the caller's signal (not aborted). */
  constructor(
    readonly url: string,
    readonly timeouts: Timeouts,
    user: AbortSignal | undefined,
    private readonly _open: OpenRequests,
  ) {
    super();
    this._totalAt = timeouts.total === null ? null : now() + timeouts.total;
    _open.add(this);
    this.open(user, this._totalAt);
  }

  /**
   * The session is closing: the response is closed (a small unread body
   * drained), or a request still waiting for one fails.
   */
  async close(): Promise<void> {
    if (this.response !== null) return this.response.close();
    this.cancel(new ClientError(`the session was closed before ${this.url} answered`));
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

  /**
   * @internal The timer entry came due: the sockRead clock or the total
   * deadline ran out (the earlier one names the error), or neither did —
   * chunks pushed the clock back, or it stopped — and the entry is set for
   * the earlier of the two again.
   */
  override _onDeadline(): void {
    if (this.aborted) return;
    const total = this._totalAt;
    const read = this._readAt;
    const time = now();
    if (read !== null && read <= time && (total === null || read <= total)) {
      this.cancel(httpTimeout('sockRead', this.url, this.timeouts.sockRead));
    } else if (total !== null && total <= time) {
      this.cancel(httpTimeout('total', this.url, this.timeouts.total));
    } else {
      this.reschedule(read === null ? total : total === null || read < total ? read : total);
    }
  }

  /** @internal The action: the sockRead clock stops and the exchange is aborted. */
  override _onCancel(reason: unknown): void {
    this._readAt = null;
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
    const exchange = this.exchange;
    if (exchange !== null && !exchange.done) {
      exchange.abort(new ClientError(`the response of ${this.url} was closed before its body was read`));
    }
    // A timer entry stays in its bucket until the bucket's other entries end too: it must hold nothing big.
    this.exchange = null;
    this.response = null;
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
