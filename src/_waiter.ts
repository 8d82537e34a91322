/**
 * Private: one wait with an optional deadline and an optional signal — the
 * piece under `waitFor`, `wait`, `asCompleted` and the task group's exit.
 * Whatever wakes it first wins; the timer entry and the signal hook are
 * removed at once, so nothing outlives the wait.
 *
 * @module
 */

import { linkSignal, unlinkSignal } from './_cancel.js';
import { addTimer, cancelTimer, now, type Bucket, type Runnable } from './_timers.js';

/** Why a `Waiter` woke. */
export const DONE = 0;
export const TIMEOUT = 1;
export const ABORTED = 2;

/** A one-shot wait: `promise` resolves to `DONE`, `TIMEOUT` or `ABORTED`. */
export class Waiter implements Runnable {
  readonly promise: Promise<number>;
  private _resolve!: (outcome: number) => void;
  private _bucket: Bucket | null = null;
  private _signal: AbortSignal | undefined = undefined;
  private _settled = false;
  /** Why the wait woke (`DONE`, `TIMEOUT`, `ABORTED`), or -1 while it has not. */
  outcome = -1;

  constructor(deadline: number | null, signal: AbortSignal | undefined) {
    this.promise = new Promise<number>((resolve) => (this._resolve = resolve));
    if (signal !== undefined) {
      if (signal.aborted) {
        this.wake(ABORTED);
        return;
      }
      this._signal = signal;
      linkSignal(signal, this);
    }
    if (deadline !== null) {
      if (deadline <= now()) this.wake(TIMEOUT);
      else this._bucket = addTimer(deadline, this);
    }
  }

  /** True once the wait has woken. */
  get settled(): boolean {
    return this._settled;
  }

  /** Ends the wait with `outcome` (the first call wins) and removes its timer and hook. */
  wake(outcome: number): void {
    if (this._settled) return;
    this._settled = true;
    this.outcome = outcome;
    if (this._bucket !== null) {
      cancelTimer(this._bucket);
      this._bucket = null;
    }
    if (this._signal !== undefined) {
      unlinkSignal(this._signal, this);
      this._signal = undefined;
    }
    this._resolve(outcome);
  }

  /** A future it observes is done. */
  _futureDone(): void {
    this.wake(DONE);
  }

  /** The deadline passed. */
  _fire(): void {
    this._bucket = null;
    this.wake(TIMEOUT);
  }

  /** The signal aborted. */
  handleEvent(): void {
    this.wake(ABORTED);
  }
}
