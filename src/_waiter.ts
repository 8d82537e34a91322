/**
 * Private: one wait with an optional deadline and an optional signal — the
 * piece under `waitFor`, `wait`, `asCompleted` and the task group's exit.
 * A cancel scope (`_cancelscope.ts`) whose signal and deadline record which
 * came first instead of cancelling; whatever wakes it first wins, and the
 * scope ends at once, so nothing outlives the wait.
 *
 * @module
 */

import { cancelledFrom } from './exceptions.js';
import { CancelScope } from './_cancelscope.js';
import type { Future } from './futures.js';

/** Why a `Waiter` woke. */
export const DONE = 0;
export const TIMEOUT = 1;
export const ABORTED = 2;

/** A one-shot wait: `promise` resolves to `DONE`, `TIMEOUT` or `ABORTED`. */
export class Waiter extends CancelScope {
  readonly promise: Promise<number>;
  private _resolve!: (outcome: number) => void;
  /** Why the wait woke (`DONE`, `TIMEOUT`, `ABORTED`), or -1 while it has not. */
  outcome = -1;

  /**
   * Waits until `deadline` or `signal`, or until `_futureDone` is called. A
   * `target` is cancelled the moment the wait times out or is aborted, in the
   * same call, not when the waiting code resumes: a grant that lands in
   * between (a lock handed to the target's body) then meets an aborted
   * signal and is handed on instead of being held by work that is gone.
   */
  constructor(
    deadline: number | null,
    signal: AbortSignal | undefined,
    private readonly _target: Future<unknown> | null = null,
  ) {
    super();
    this.promise = new Promise<number>((resolve) => (this._resolve = resolve));
    this.open(signal, deadline);
  }

  /** True once the wait has woken. */
  get settled(): boolean {
    return this.outcome !== -1;
  }

  /** Ends the wait with `outcome` (the first call wins) and removes its timer and hook. */
  wake(outcome: number): void {
    if (this.outcome !== -1) return;
    this.outcome = outcome;
    this.end();
    this._resolve(outcome);
  }

  /** A future it observes is done. */
  _futureDone(): void {
    this.wake(DONE);
  }

  /** @internal The signal aborted: the target is cancelled with the message of the cancellation. */
  override _onSignal(reason: unknown): void {
    if (this.outcome !== -1) return;
    this.wake(ABORTED);
    this._target?.cancel(cancelledFrom(reason).message);
  }

  /** @internal The deadline passed. */
  override _onDeadline(): void {
    if (this.outcome !== -1) return;
    this.wake(TIMEOUT);
    this._target?.cancel();
  }
}
