/**
 * Private: one request's cancel scope. It aborts the request when the
 * caller's signal aborts or the total timeout passes, and lives until the
 * response body is read or disposed, so both also govern reading the body.
 * `translateError` turns what undici throws into tsaio's typed errors.
 *
 * A real `AbortSignal` costs about 4 µs and an event listener per request,
 * so undici is handed the scope itself: it has the `aborted`, `reason` and
 * `addEventListener`/`removeEventListener('abort')` that undici reads. A real
 * signal (`scope.signal`) is made only for tsaio's own waits that need one
 * (a full semaphore, the rate limiter, a retry's backoff).
 *
 * @module
 */

import { CancelledError, TimeoutError, cancelledFrom } from '../exceptions.js';
import { linkSignal, unlinkSignal } from '../_cancel.js';
import { addTimer, cancelTimer, now, type Bucket, type Runnable } from '../_timers.js';
import { ClientConnectionError, ClientError, httpTimeout } from './errors.js';

/** The timeouts of one request, in ms (`null`: none). */
export interface Timeouts {
  total: number | null;
  connect: number | null;
  sockRead: number | null;
}

type Listener = (() => void) | { handleEvent(): void };

/** The scope of one request, from the call until its body is done. */
export class RequestScope implements Runnable {
  /** Read by undici. */
  aborted = false;
  /** Read by undici: what the request is aborted with. */
  reason: unknown = undefined;
  private _ended = false;
  private _bucket: Bucket | null = null;
  private _controller: AbortController | null = null;
  private _read: ReadTimer | null = null;
  private _listeners: Listener[] = [];
  private readonly _onEnd: (() => void)[] = [];

  constructor(
    readonly url: string,
    readonly timeouts: Timeouts,
    private readonly _user: AbortSignal | undefined,
  ) {
    if (_user !== undefined) linkSignal(_user, this);
    const total = timeouts.total;
    if (total !== null) {
      // Long deadlines are rounded up to 1% (at most 1 s) so that requests share timer buckets.
      const grain = Math.min(1000, Math.max(1, total / 100));
      this._bucket = addTimer(Math.ceil((now() + total) / grain) * grain, this);
    }
  }

  /** A real `AbortSignal` that follows the scope, made on first use. */
  get signal(): AbortSignal {
    if (this._controller === null) {
      this._controller = new AbortController();
      if (this.aborted) this._controller.abort(this.reason);
    }
    return this._controller.signal;
  }

  /** Undici's listener for `abort`. */
  addEventListener(_type: string, listener: Listener): void {
    this._listeners.push(listener);
  }

  removeEventListener(_type: string, listener: Listener): void {
    const at = this._listeners.indexOf(listener);
    if (at >= 0) this._listeners.splice(at, 1);
  }

  /**
   * (Re)starts the sockRead timer: the next bytes (headers, or the next body
   * chunk) must arrive within `timeouts.sockRead` ms. A tsaio timer: undici's
   * own read timeouts run on coarse timers with about a second of slack.
   */
  armRead(): void {
    const ms = this.timeouts.sockRead;
    if (ms === null || this._ended || this.aborted) return;
    this._read?.cancel();
    this._read = new ReadTimer(this, now() + ms);
  }

  /** Stops the sockRead timer (the response is in the caller's hands). */
  disarmRead(): void {
    this._read?.cancel();
    this._read = null;
  }

  /** @internal The sockRead timer fired. */
  _readTimedOut(): void {
    this._read = null;
    if (this._ended) return;
    this._abort(httpTimeout('sockRead', this.url, this.timeouts.sockRead));
  }

  /** The total timeout passed. */
  _fire(): void {
    this._bucket = null;
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
    this._controller?.abort(reason);
    for (const listener of this._listeners.splice(0)) {
      if (typeof listener === 'function') listener();
      else listener.handleEvent();
    }
  }

  /** Throws the typed error for an abort that already happened. */
  check(): void {
    if (this.aborted) throw translateError(undefined, this);
  }

  /** Runs `fn` once the request ends (now, if it has). */
  onEnd(fn: () => void): void {
    if (this._ended) fn();
    else this._onEnd.push(fn);
  }

  /** The request is over: drop the timer and the signal hook, release what it held. */
  end(): void {
    if (this._ended) return;
    this._ended = true;
    for (const fn of this._onEnd.splice(0)) fn();
    this.disarmRead();
    if (this._bucket !== null) cancelTimer(this._bucket);
    this._bucket = null;
    if (this._user !== undefined) unlinkSignal(this._user, this);
  }
}

/** One arming of a request's sockRead timer. */
class ReadTimer implements Runnable {
  private _bucket: Bucket | null;
  constructor(
    private readonly _scope: RequestScope,
    when: number,
  ) {
    this._bucket = addTimer(when, this);
  }
  _fire(): void {
    if (this._bucket === null) return;
    this._bucket = null;
    this._scope._readTimedOut();
  }
  cancel(): void {
    if (this._bucket !== null) cancelTimer(this._bucket);
    this._bucket = null;
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
