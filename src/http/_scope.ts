/**
 * Private: one request's cancel scope. It owns the `AbortController` handed
 * to undici and aborts it when the caller's signal aborts or the total
 * timeout passes; it lives until the response body is read or disposed, so
 * both also govern reading the body. `translateError` turns what undici
 * throws into tsaio's typed errors.
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

/** The scope of one request, from the call until its body is done. */
export class RequestScope implements Runnable {
  readonly controller = new AbortController();
  timedOut = false;
  userAborted = false;
  private _ended = false;
  private _bucket: Bucket | null = null;
  private readonly _onEnd: (() => void)[] = [];

  constructor(
    readonly url: string,
    readonly timeouts: Timeouts,
    private readonly _user: AbortSignal | undefined,
  ) {
    if (_user !== undefined) linkSignal(_user, this);
    if (timeouts.total !== null) this._bucket = addTimer(now() + timeouts.total, this);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The total timeout passed. */
  _fire(): void {
    this._bucket = null;
    if (this._ended) return;
    this.timedOut = true;
    this.controller.abort(httpTimeout('total', this.url, this.timeouts.total));
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    if (this._ended) return;
    this.userAborted = true;
    this.controller.abort(cancelledFrom(this._user!.reason));
  }

  /** Throws the typed error for an abort that already happened. */
  check(): void {
    if (this.timedOut || this.userAborted) throw translateError(undefined, this);
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
    if (this._bucket !== null) cancelTimer(this._bucket);
    this._bucket = null;
    if (this._user !== undefined) unlinkSignal(this._user, this);
  }
}

const SOCK_READ = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** What undici (or a body stream) threw, as the error a tsaio user should see. */
export function translateError(error: unknown, scope: RequestScope): Error {
  if (scope.timedOut) return httpTimeout('total', scope.url, scope.timeouts.total, error);
  if (scope.userAborted)
    return scope.signal.reason instanceof Error ? scope.signal.reason : cancelledFrom(error);
  if (error instanceof ClientError || error instanceof TimeoutError || error instanceof CancelledError)
    return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_CONNECT_TIMEOUT')
    return httpTimeout('connect', scope.url, scope.timeouts.connect, error);
  if (typeof code === 'string' && SOCK_READ.has(code)) {
    return httpTimeout('sockRead', scope.url, scope.timeouts.sockRead, error);
  }
  if (error instanceof TypeError || error instanceof RangeError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ClientConnectionError(`${message} (${scope.url})`, scope.url, { cause: error });
}
