/**
 * Private: the scope of one wait of `tsaio/pg` (a query, an acquire, a
 * connect): a core cancel scope (`CancelScope`) over the caller's signal and
 * the call's deadline, which a closing pool may cancel too. Whatever comes
 * first cancels it once, with the error the wait must reject with
 * (`CancelledError`, `TimeoutError`, ...), and runs the action of the step in
 * progress — for a running query, PostgreSQL's cancel request; while
 * connecting, closing the socket. A real `AbortSignal` is made only when a
 * wait needs one (a full pool, a busy connection).
 *
 * @module
 */

import { TimeoutError } from '../exceptions.js';
import { CancelScope } from '../_lowlevel.js';

/** One wait's scope, from the call until it settles; open it with `open(signal, deadline)`. */
export class Scope extends CancelScope {
  private _action: (() => void) | null = null;

  /** `what` names the call in its `TimeoutError`. */
  constructor(private readonly _what: string) {
    super();
  }

  /** Runs `action` when the scope is cancelled (at once if it is); `null` removes it. */
  onAbort(action: (() => void) | null): void {
    this._action = action;
    if (action !== null && this.aborted) action();
  }

  /** The wait is over: drop the action, the timer and the signal hook. */
  override end(): void {
    this._action = null;
    super.end();
  }

  /** @internal */
  override _onCancel(): void {
    this._action?.();
  }

  /** @internal */
  override _deadlineReason(): TimeoutError {
    return new TimeoutError(`${this._what} timed out`);
  }
}

/** The error to throw for `error` caught inside `scope`: the scope's reason once it was cancelled. */
export function scopeError(scope: Scope | null, error: unknown): unknown {
  return scope?.aborted ? scope.reason : error;
}
