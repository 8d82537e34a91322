/**
 * Private: the virtual clock under `runVirtual` (`testing.ts`), after Trio's
 * `MockClock(autojump_threshold=...)` and CPython's test loop.
 *
 * The clock stands still while anything can run. It is looked at once the
 * ready callbacks and the microtasks they made have all run (a `setImmediate`
 * queued behind them): if nothing is ready then, the clock jumps to the
 * earliest pending deadline and the timers due there fire. With a threshold
 * above 0 the jump waits until tsaio has seen no activity (a callback made
 * ready, a timer set or cancelled) for that many real milliseconds, so that
 * real I/O in flight completes first. With no deadline to jump to, nothing
 * ready and no activity for `stallTimeout` real ms, the run is stalled: it
 * waits on something outside tsaio (a real `setTimeout`, a socket) that the
 * virtual clock cannot move, and `onStall` is told.
 *
 * @module
 */

import {
  activity,
  enterVirtualTime,
  fireDue,
  leaveVirtualTime,
  nextDeadline,
  readyPending,
  type VirtualClock,
} from './_timers.js';
import { clearMacrotask, hostProcess, setMacrotask, type Macrotask } from './_host.js';

/** The settings of one virtual run. */
export interface VirtualSettings {
  /** Real ms of quiet before the clock jumps (0: at once). */
  autojumpThreshold: number;
  /** Real ms of quiet with no deadline before the run counts as stalled (Infinity: never). */
  stallTimeout: number;
  /** Told once the run stalls, with what Node still has pending. */
  onStall: (resources: string[]) => void;
}

/** A virtual clock in use; `stop()` hands the timers back to the real clock. */
export class VirtualTime {
  private _time: number;
  private readonly _state: VirtualClock;
  private _check: Macrotask | null = null;
  private _quiet: NodeJS.Timeout | null = null;
  private _quietSince = -1;
  private _stopped = false;

  constructor(
    start: number,
    private readonly _settings: VirtualSettings,
  ) {
    this._time = start;
    this._state = enterVirtualTime(
      () => this._time,
      () => this._wake(),
    );
    this._wake();
  }

  /** The virtual clock's reading, in ms. */
  time(): number {
    return this._time;
  }

  /** Back to the real clock. */
  stop(): void {
    if (this._stopped) return;
    this._stopped = true;
    if (this._check !== null) clearMacrotask(this._check);
    if (this._quiet !== null) clearTimeout(this._quiet);
    this._check = this._quiet = null;
    leaveVirtualTime(this._state, this._time);
  }

  /** Something may have changed: look again once what is ready has run. */
  private _wake(): void {
    if (this._check === null && !this._stopped) this._check = setMacrotask(() => this._look());
  }

  private _look(): void {
    this._check = null;
    if (this._stopped) return;
    if (readyPending()) return this._wake(); // queued behind the ready callbacks: look after them
    const next = nextDeadline();
    const wait = next === null ? this._settings.stallTimeout : this._settings.autojumpThreshold;
    if (next !== null && wait === 0) return this._jump(next);
    if (wait === Infinity) return;
    this._waitForQuiet(wait);
  }

  /** Waits `ms` real ms; if tsaio saw no activity meanwhile, jumps (or reports the stall). */
  private _waitForQuiet(ms: number): void {
    if (this._quiet !== null) clearTimeout(this._quiet);
    this._quietSince = activity;
    this._quiet = setTimeout(() => {
      this._quiet = null;
      if (this._stopped) return;
      if (activity !== this._quietSince || readyPending()) return this._wake();
      const next = nextDeadline();
      if (next !== null) return this._jump(next);
      // What the runtime still has pending, where it can tell (Node's process.getActiveResourcesInfo).
      const resources = hostProcess?.getActiveResourcesInfo?.() ?? [];
      const own = resources.indexOf('Timeout'); // this timer's own entry
      if (own >= 0) resources.splice(own, 1);
      this._settings.onStall(resources);
    }, ms);
  }

  private _jump(to: number): void {
    if (this._quiet !== null) clearTimeout(this._quiet);
    this._quiet = null;
    if (to > this._time) this._time = to;
    fireDue(); // arms the next look through the clock's wake
  }
}
