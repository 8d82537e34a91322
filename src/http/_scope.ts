/**
 * Private: one request's cancel scope. It aborts the request when the
 * caller's signal aborts, the total timeout passes or the server is silent
 * for longer than sockRead, and lives until the response body is read or
 * disposed, so all three also govern reading the body. `translateError`
 * turns what undici throws into tsaio's typed errors.
 *
 * undici is never handed a signal: the scope aborts the attempt in flight
 * (its `Exchange`) itself, so a request costs no `AbortSignal` and no event
 * listener. A real signal (`scope.signal`) is made only for tsaio's own waits
 * that need one (a full semaphore, the rate limiter, a retry's backoff).
 *
 * @module
 */

import { CancelledError, TimeoutError, cancelledFrom } from '../exceptions.js';
import { linkSignal, unlinkSignal } from '../_lowlevel.js';
import { Deadline, schedule, unschedule } from './_deadlines.js';
import { ClientConnectionError, ClientError, httpTimeout } from './errors.js';
import type { Exchange } from './_exchange.js';

/** The timeouts of one request, in ms (`null`: none). */
export interface Timeouts {
  total: number | null;
  connect: number | null;
  sockRead: number | null;
}

/** The scope of one request, from the call until its body is done. */
export class RequestScope extends Deadline {
  aborted = false;
  /** What the request was aborted with: a `TimeoutError`, a `CancelledError`, or a `ClientError` (session closed). */
  reason: unknown = undefined;
  /** The attempt in flight, which an abort stops. */
  exchange: Exchange | null = null;
  /** The response handed out, once there is one. */
  response: { close(): Promise<void> } | null = null;
  private _ended = false;
  private _controller: AbortController | null = null;
  /** The sockRead deadline, made on first use. */
  private _read: ReadClock | null = null;
  /** @internal Where the scope is in its session's `OpenRequests` (-1: not there). */
  _openAt = -1;

  /** A request to `url`, one of the session's `open` ones until it ends. */
  constructor(
    readonly url: string,
    readonly timeouts: Timeouts,
    private readonly _user: AbortSignal | undefined,
    private readonly _open: OpenRequests,
  ) {
    super();
    _open.add(this);
    if (_user !== undefined) linkSignal(_user, this);
    if (timeouts.total !== null) schedule(this, timeouts.total);
  }

  /** A real `AbortSignal` that follows the scope, made on first use. */
  get signal(): AbortSignal {
    if (this._controller === null) {
      this._controller = new AbortController();
      if (this.aborted) this._controller.abort(this.reason);
    }
    return this._controller.signal;
  }

  /**
   * The session is closing: the response is closed (a small unread body
   * drained), or a request still waiting for one fails.
   */
  async close(): Promise<void> {
    if (this.response !== null) return this.response.close();
    this._abort(new ClientError(`the session was closed before ${this.url} answered`));
  }

  /**
   * Starts (or restarts) the sockRead clock: the server must send something
   * (headers, or the next body chunk) within `timeouts.sockRead` ms. On
   * tsaio's timers: undici's own read timeouts run on coarse timers with
   * about a second of slack.
   */
  armRead(): void {
    const ms = this.timeouts.sockRead;
    if (ms === null || this._ended || this.aborted) return;
    schedule((this._read ??= new ReadClock(this)), ms);
  }

  /** The server sent something: the sockRead clock starts again, if it runs. */
  touchRead(): void {
    const clock = this._read;
    if (clock !== null && clock._queue !== null) schedule(clock, this.timeouts.sockRead!);
  }

  /** Stops the sockRead clock (the body is in, or reading it is paused). */
  disarmRead(): void {
    if (this._read !== null) unschedule(this._read);
  }

  /** @internal The sockRead clock ran out. */
  _readTimedOut(): void {
    if (this._ended) return;
    this._abort(httpTimeout('sockRead', this.url, this.timeouts.sockRead));
  }

  /** The total timeout passed. */
  _expire(): void {
    if (this._ended) return;
    this._abort(httpTimeout('total', this.url, this.timeouts.total));
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    if (this._ended) return;
    this._abort(cancelledFrom(this._user!.reason));
  }

  private _abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    unschedule(this);
    this.disarmRead();
    this._controller?.abort(reason);
    this.exchange?.abort(reason);
  }

  /** Throws the typed error for an abort that already happened. */
  check(): void {
    if (this.aborted) throw translateError(undefined, this);
  }

  /**
   * The request is over: stop the attempt if its body is still coming (its
   * socket is closed), drop the timers and the signal hook.
   */
  end(): void {
    if (this._ended) return;
    this._ended = true;
    const exchange = this.exchange;
    if (exchange !== null && !exchange.done) {
      exchange.abort(new ClientError(`the response of ${this.url} was closed before its body was read`));
    }
    this.exchange = null;
    this.disarmRead();
    unschedule(this);
    if (this._user !== undefined) unlinkSignal(this._user, this);
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

/** A request's sockRead deadline. */
class ReadClock extends Deadline {
  constructor(private readonly _scope: RequestScope) {
    super();
  }
  _expire(): void {
    this._scope._readTimedOut();
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
