/**
 * Private: the scope of one wait of `tsaio/pg` (a query, an acquire, a
 * connect): the caller's signal, a deadline, and whoever else may stop it
 * (a pool that closes). Whatever comes first aborts the scope once, with the
 * error the wait must reject with (`CancelledError`, `TimeoutError`, ...),
 * and runs its `onAbort` action — for a running query, PostgreSQL's cancel
 * request. A real `AbortSignal` is made only when a wait needs one (a full
 * pool, a busy connection).
 *
 * @module
 */

import { TimeoutError, cancelledFrom } from '../exceptions.js';
import {
  addTimer,
  cancelTimer,
  checkTimeout,
  linkSignal,
  now,
  unlinkSignal,
  type Bucket,
  type Runnable,
} from '../_lowlevel.js';

/** A deadline in `now()` units from a `timeout` option (`null`: none). */
export function deadlineOf(timeout: unknown, where: string): number | null {
  const ms = checkTimeout(timeout, where);
  return ms === null ? null : now() + ms;
}

/** One wait's scope, from the call until it settles. */
export class Scope implements Runnable {
  aborted = false;
  /** What the wait rejects with once `aborted`. */
  reason: Error | null = null;
  private _bucket: Bucket | null = null;
  private _ctl: AbortController | null = null;
  private _action: (() => void) | null = null;
  private _ended = false;

  constructor(
    private readonly _what: string,
    private readonly _signal: AbortSignal | undefined,
    readonly deadline: number | null,
  ) {
    if (_signal?.aborted) {
      this.abort(cancelledFrom(_signal.reason));
      return;
    }
    if (_signal !== undefined) linkSignal(_signal, this);
    if (deadline !== null) {
      if (deadline <= now()) this.abort(this._timeoutError());
      else this._bucket = addTimer(deadline, this);
    }
  }

  /** A real `AbortSignal` that follows the scope, made on first use. */
  get signal(): AbortSignal {
    if (this._ctl === null) {
      this._ctl = new AbortController();
      if (this.aborted) this._ctl.abort(this.reason);
    }
    return this._ctl.signal;
  }

  /** Runs `action` when the scope aborts (at once if it has); `null` removes it. */
  onAbort(action: (() => void) | null): void {
    this._action = action;
    if (action !== null && this.aborted) action();
  }

  /** Aborts the scope with `reason` (the first call wins). */
  abort(reason: Error): void {
    if (this.aborted || this._ended) return;
    this.aborted = true;
    this.reason = reason;
    this._ctl?.abort(reason);
    this._action?.();
  }

  /** Throws the scope's reason if it aborted. */
  check(): void {
    if (this.aborted) throw this.reason!;
  }

  /** The caller's signal aborted. */
  handleEvent(): void {
    this.abort(cancelledFrom(this._signal!.reason));
  }

  /** The deadline passed. */
  _fire(): void {
    this._bucket = null;
    this.abort(this._timeoutError());
  }

  /** The wait is over: drop the timer and the signal hook. */
  end(): void {
    if (this._ended) return;
    this._ended = true;
    this._action = null;
    if (this._bucket !== null) cancelTimer(this._bucket);
    this._bucket = null;
    if (this._signal !== undefined && !this._signal.aborted) unlinkSignal(this._signal, this);
  }

  private _timeoutError(): TimeoutError {
    return new TimeoutError(`${this._what} timed out`);
  }
}

/** The error to throw for `error` caught inside `scope`: the scope's reason once it aborted. */
export function scopeError(scope: Scope | null, error: unknown): unknown {
  return scope?.aborted ? scope.reason : error;
}
