/**
 * What each oracle (asyncio programs, files) gives `oracle/run.ts`.
 *
 * @module
 */

import type { Python } from './python.js';

/** One program (or file scenario) whose CPython and tsaio results differ. */
export interface Difference {
  /** The seed that generated it (`npm run oracle -- --seed S --count 1` runs it again). */
  seed: number;
  /** The smallest program found that still differs (shrunk), as text a reader can follow. */
  program: string;
  /** The first line that differs, from each side. */
  python: string;
  tsaio: string;
  /** The name of the deliberate departure it matches (docs/fidelity.md), or null: a defect. */
  departure: string | null;
}

/** What one oracle reports. */
export interface OracleReport {
  name: string;
  ran: number;
  differences: Difference[];
}

/** Options every oracle takes. */
export interface OracleOptions {
  /** The first program's seed; program i uses seed + i. */
  seed: number;
  count: number;
  /** The Python interpreter to run (from `findPython()`). */
  python: Python;
  /** Progress and findings, one line at a time. */
  log: (line: string) => void;
}
