/**
 * Compares the two traces of a program. Lines at one virtual instant are put
 * in the order of their task's name (stable, so each task's own order
 * stays): which of two tasks resumed at one instant prints first is left
 * open by both runtimes' contracts, while what each task does, and when,
 * is not. The run's status ends the trace.
 *
 * @module
 */

import type { Outcome } from './execute.js';

/** The trace in its canonical order, ending with the status. */
export function canonical(outcome: Outcome): string[] {
  const keyed = outcome.trace.map((line, index) => {
    const space = line.indexOf(' ');
    const second = line.indexOf(' ', space + 1);
    return { line, index, time: Number(line.slice(0, space)), who: line.slice(space + 1, second) };
  });
  keyed.sort((a, b) => a.time - b.time || (a.who < b.who ? -1 : a.who > b.who ? 1 : 0) || a.index - b.index);
  return [...keyed.map((k) => k.line), `END ${outcome.status}`];
}

/** Where two traces first differ. */
export interface Mismatch {
  index: number;
  python: string;
  tsaio: string;
  pythonTrace: string[];
  tsaioTrace: string[];
}

/** The first difference between the canonical traces, or null if they are the same. */
export function firstDifference(python: Outcome, tsaio: Outcome): Mismatch | null {
  const a = canonical(python);
  const b = canonical(tsaio);
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      return { index: i, python: a[i] ?? '(end)', tsaio: b[i] ?? '(end)', pythonTrace: a, tsaioTrace: b };
    }
  }
  return null;
}
