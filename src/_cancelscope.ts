/**
 * Private: the cancel scope, after Trio's `CancelScope` — the one object
 * under every wait of the core and every call of the I/O parts.
 *
 * A scope joins three things and ends them together, exactly once:
 *
 * - a link to an outer `AbortSignal` (a hook on a tsaio signal's node, or the
 *   one shared listener of a foreign signal: see `_cancel.ts`);
 * - a deadline in `loop.time()` ms, as one entry of the process's timer heap
 *   (see `_timers.ts`), movable with `reschedule`;
 * - the scope's own node in the cancellation tree: when the scope is
 *   cancelled, its lazily made `AbortSignal` aborts, every wait linked to that
 *   signal is woken, and the scope's action (`_onCancel`) runs — closing a
 *   socket, sending PostgreSQL's cancel request, aborting a worker's job.
 *
 * What the outer signal and the deadline do is the subclass's to say: by
 * default the outer signal cancels the scope with a `CancelledError` (its
 * cause the signal's reason) and the deadline cancels it with
 * `_deadlineReason()`; a sleep overrides `_onDeadline` to resolve instead,
 * a `Waiter` overrides both to record which came first. The timer entry and
 * the link live from `open()` to `end()` (a cancelled scope keeps them: its
 * deadline passing then does nothing, unless a subclass says otherwise);
 * `end()` removes both, and after it nothing can cancel the scope, so nothing
 * outlives the call that opened it.
 *
 * Usage:
 * ```ts
 * const scope = new QueryScope(conn).open(signal, deadlineAfter(timeout, 'fetch'));
 * try { scope.check(); return await run(scope.signal); } finally { scope.end(); }
 * ```
 *
 * @module
 */

import { TimeoutError, cancelledFrom } from './exceptions.js';
import { abortNode, linkSignal, signalOf, unlinkSignal, type CancelNode, type Hook } from './_cancel.js';
import { addTimer, cancelTimer, now, type Bucket, type Runnable } from './_timers.js';
import { checkTimeout } from './_validate.js';

/** A cancel scope: an outer signal, a deadline and an action on abort, ended once. */
export class CancelScope implements CancelNode, Runnable {
  /** @internal */ _aborted = false;
  /** @internal */ _reason: unknown = undefined;
  /** @internal */ _hooks: Hook | Set<Hook> | null = null;
  /** @internal */ _ctl: AbortController | null = null;
  /** @internal The outer signal, while linked. */ _link: AbortSignal | undefined = undefined;
  /** @internal The deadline's timer entry, while armed. */ _bucket: Bucket | null = null;
  /** @internal */ _when: number | null = null;
  /** @internal */ _ended = false;

  /**
   * Starts watching `signal` and the deadline `when` (`loop.time()` ms, or
   * `null`). A signal already aborted or a deadline already past acts at
   * once, before `open` returns. Returns the scope.
   */
  open(signal: AbortSignal | undefined, when: number | null): this {
    if (signal !== undefined) {
      if (signal.aborted) this._onSignal(signal.reason);
      else {
        this._link = signal;
        linkSignal(signal, this);
      }
    }
    this._setDeadline(when);
    return this;
  }

  /** True once the scope was cancelled. */
  get aborted(): boolean {
    return this._aborted;
  }

  /** Why the scope was cancelled (a `CancelledError`, a `TimeoutError`, ...), or `undefined`. */
  get reason(): unknown {
    return this._reason;
  }

  /** True once `end()` was called. */
  get ended(): boolean {
    return this._ended;
  }

  /** The scope's `AbortSignal`, made on first use; aborted when the scope is cancelled. */
  get signal(): AbortSignal {
    return signalOf(this);
  }

  /** The deadline in `loop.time()` ms, or `null`. */
  when(): number | null {
    return this._when;
  }

  /** Moves the deadline (`null`: none); one already past acts at once. Nothing after `end()`. */
  reschedule(when: number | null): void {
    if (this._ended) return;
    this._disarm();
    this._setDeadline(when);
  }

  /**
   * Cancels the scope with `reason`: aborts its signal, wakes the waits linked
   * to it, then runs `_onCancel`. False if it was cancelled or ended already.
   * The deadline and the link stay until `end()`.
   */
  cancel(reason: unknown): boolean {
    if (this._aborted || this._ended) return false;
    abortNode(this, reason);
    this._onCancel(reason);
    return true;
  }

  /** Throws the reason if the scope was cancelled. */
  check(): void {
    if (this._aborted) throw this._reason;
  }

  /** Removes the timer entry and the signal link; idempotent. */
  end(): void {
    if (this._ended) return;
    this._ended = true;
    this._disarm();
    this._unlink();
  }

  /** @internal The outer signal aborted. */
  handleEvent(): void {
    const signal = this._link;
    this._link = undefined;
    if (signal !== undefined && !this._ended) this._onSignal(signal.reason);
  }

  /**
   * @internal The deadline passed — or an entry left in an earlier bucket by
   * `reschedule` (a timer entry cannot be taken out of its bucket) ran: that
   * one is told apart by the clock, which has not reached `_when` yet.
   */
  _fire(): void {
    const when = this._when;
    if (this._bucket === null || when === null || now() < when) return;
    this._disarm(); // no-op for the bucket running now; drops the newer entry if an older one ran late
    this._onDeadline();
  }

  /** @internal What the outer signal's abort does (default: cancel with a `CancelledError`). */
  _onSignal(reason: unknown): void {
    this.cancel(cancelledFrom(reason));
  }

  /** @internal What the deadline does (default: cancel with `_deadlineReason()`). */
  _onDeadline(): void {
    if (!this._aborted) this.cancel(this._deadlineReason());
  }

  /** @internal The reason a deadline cancels with. */
  _deadlineReason(): unknown {
    return new TimeoutError('the deadline passed');
  }

  /** @internal The action on cancel (close a socket, send a cancel request, ...). */
  _onCancel(_reason: unknown): void {}

  private _setDeadline(when: number | null): void {
    this._when = when;
    if (when === null || this._ended) return;
    if (when <= now()) this._onDeadline();
    else this._bucket = addTimer(when, this);
  }

  private _disarm(): void {
    if (this._bucket === null) return;
    cancelTimer(this._bucket);
    this._bucket = null;
  }

  private _unlink(): void {
    const signal = this._link;
    if (signal === undefined) return;
    this._link = undefined;
    unlinkSignal(signal, this);
  }
}

/** The deadline `ms` from now for a timeout option (`null`/`undefined`/`Infinity`: none); checks it. */
export function deadlineAfter(ms: unknown, where: string): number | null {
  const delay = checkTimeout(ms, where);
  return delay === null ? null : now() + delay;
}
