/**
 * The progress of a command that runs in phases (`tsaio bench`'s three
 * modes), on stderr: on a terminal, one live line rewritten in place (done
 * count and elapsed time) and cleared when the phase ends; elsewhere (a pipe,
 * a file, CI logs), one line when each phase starts and nothing else.
 *
 * @module
 */

import { seconds } from './_common.js';

/** Erases the terminal's current line: carriage return, then clear to the end of the line. */
const CLEAR_LINE = '\r\x1b[K';

/** How often the live line's clock is redrawn, in ms. */
const TICK_MS = 100;

/** One phase: its title, its size, and what the user should expect. */
export interface Phase {
  /** Shown first: `Sync`, `Async (unlimited)`. */
  title: string;
  /** What it does, for the one line shown off a terminal: `10 requests at once`. */
  what: string;
  /** Steps to do. */
  total: number;
  /** The time it should take, in ms. */
  expected: number;
}

/**
 * Progress of phases on `stream`: live on a terminal, one line a phase
 * elsewhere, nothing when `enabled` is false.
 *
 * @example
 * ```ts
 * const progress = new PhaseProgress(process.stderr);
 * progress.start({ title: 'Sync', what: '2 requests one after another', total: 2, expected: 2000 });
 * progress.step();
 * progress.end();
 * ```
 */
export class PhaseProgress {
  private _phase: Phase | null = null;
  private _done = 0;
  private _started = 0;
  private _timer: NodeJS.Timeout | null = null;
  private readonly _live: boolean;

  constructor(
    private readonly _stream: NodeJS.WriteStream,
    private readonly _enabled = true,
  ) {
    this._live = _enabled && _stream.isTTY === true && process.env['TERM'] !== 'dumb';
  }

  /** The phase running now (`null` between phases) and the steps it has done. */
  get current(): { phase: Phase; done: number } | null {
    return this._phase === null ? null : { phase: this._phase, done: this._done };
  }

  /** A phase begins: ends the previous one. */
  start(phase: Phase): void {
    this.end();
    this._phase = phase;
    this._done = 0;
    this._started = performance.now();
    if (!this._enabled) return;
    const expected = `expected ≈ ${seconds(phase.expected / 1000, 1)}s`;
    if (!this._live) {
      this._stream.write(`${phase.title}: ${phase.what}, ${expected}\n`);
      return;
    }
    this._draw();
    this._timer = setInterval(() => this._draw(), TICK_MS);
    this._timer.unref();
  }

  /** One more step of the current phase is done. */
  step(): void {
    if (this._phase === null) return;
    this._done++;
    if (this._live) this._draw();
  }

  /** The current phase is over (or was interrupted): the live line is erased. */
  end(): void {
    if (this._timer !== null) clearInterval(this._timer);
    this._timer = null;
    if (this._live && this._phase !== null) this._stream.write(CLEAR_LINE);
    this._phase = null;
  }

  private _draw(): void {
    const phase = this._phase;
    if (phase === null) return;
    const elapsed = ((performance.now() - this._started) / 1000).toFixed(1);
    this._stream.write(
      `${CLEAR_LINE}${phase.title}: ${this._done}/${phase.total} done, ${elapsed}s ` +
        `(expected ≈ ${seconds(phase.expected / 1000, 1)}s)`,
    );
  }
}
