/**
 * Private: a restartable one-shot timer on the core's timer heap (so tsaio
 * still keeps one Node timer for the whole process, and the leak checks see
 * it).
 *
 * @module
 */

import { addTimer, cancelTimer, now, type Bucket } from '../_lowlevel.js';

/** Calls `fn` once, `ms` after `start(ms)`; `start` again reschedules, `stop` cancels. */
export class OneShot {
  private _bucket: Bucket | null = null;
  private _entry: (() => void) | null = null;

  constructor(private readonly _fn: () => void) {}

  /** True while a call is scheduled. */
  get pending(): boolean {
    return this._entry !== null;
  }

  start(ms: number): void {
    this.stop();
    // A fresh entry per start: a cancelled entry still runs when its bucket fires, and must do nothing.
    const entry = (): void => {
      if (this._entry !== entry) return;
      this._entry = this._bucket = null;
      this._fn();
    };
    this._entry = entry;
    this._bucket = addTimer(now() + ms, entry);
  }

  stop(): void {
    if (this._bucket === null) return;
    cancelTimer(this._bucket);
    this._entry = this._bucket = null;
  }
}
