/**
 * Private: a restartable one-shot timer for the queue's poller, its pull
 * retries and a worker's heartbeat, on the core's cancel scope: each `start`
 * opens a scope whose deadline calls the function, `stop` ends it. Its timer
 * entry sits on the core's timer heap (so tsaio still keeps one Node timer
 * for the whole process, and the leak checks see it).
 *
 * One scope per start, not one rescheduled: a timer entry cannot be taken
 * out of its bucket, so a fresh scope is what makes an entry left behind by
 * a restart do nothing when its bucket fires.
 *
 * @module
 */

import { CancelScope, now } from '../_lowlevel.js';

/** One start of a `Timer`: its deadline calls the timer's function, never from inside `start`. */
class Shot extends CancelScope {
  private _armed = false;

  constructor(private readonly _timer: Timer) {
    super();
  }

  arm(ms: number): this {
    this.open(undefined, now() + ms);
    this._armed = true;
    return this;
  }

  override _onDeadline(): void {
    // A deadline already past when the shot was armed runs on the timers' next turn, as any timer.
    if (!this._armed) this.reschedule(now() + 1);
    else this._timer._fired(this);
  }
}

/** Calls `fn` once, `ms` after `start(ms)`; `start` again reschedules, `stop` cancels. */
export class Timer {
  private _shot: Shot | null = null;

  constructor(private readonly _fn: () => void) {}

  /** True while a call is scheduled. */
  get pending(): boolean {
    return this._shot !== null;
  }

  start(ms: number): void {
    this.stop();
    this._shot = new Shot(this).arm(ms);
  }

  stop(): void {
    this._shot?.end();
    this._shot = null;
  }

  /** @internal The deadline of `shot` passed. */
  _fired(shot: Shot): void {
    if (this._shot !== shot) return;
    this._shot = null;
    shot.end();
    this._fn();
  }
}
