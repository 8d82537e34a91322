/**
 * Runs a batch of scenarios on both sides at once: each side gets its own
 * copy of each file in a temporary directory; CPython runs the batch in one
 * process while tsaio runs it here.
 *
 * @module
 */

import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Python } from '../python.js';
import { runPython } from './python-side.js';
import { toJob, type Scenario } from './scenario.js';
import { runTsaio } from './tsaio-side.js';

/** Both sides' results for one scenario, and the index of the first line that differs (-1: none). */
export interface Outcome {
  python: string[];
  tsaio: string[];
  at: number;
}

/** The index of the first differing line of `a` and `b`, or -1. */
export function firstDifference(a: string[], b: string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

let counter = 0;

/** Runs `scenarios` under CPython and tsaio in `dir`; the outcome of each, in order. */
export async function execute(python: Python, dir: string, scenarios: Scenario[]): Promise<Outcome[]> {
  const paths = scenarios.map(() => {
    const id = counter++;
    return [join(dir, `${id}.py.bin`), join(dir, `${id}.ts.bin`)] as const;
  });
  try {
    await Promise.all(
      scenarios.flatMap((s, i) => (s.file === null ? [] : paths[i]!.map((p) => writeFile(p, s.file!)))),
    );
    const pythonDone = runPython(
      python,
      scenarios.map((s, i) => toJob(s, paths[i]![0])),
    );
    pythonDone.catch(() => {}); // awaited below
    const ours: string[][] = [];
    for (const [i, s] of scenarios.entries()) ours.push(await runTsaio(toJob(s, paths[i]![1])));
    const theirs = await pythonDone;
    return scenarios.map((_, i) => ({
      python: theirs[i]!,
      tsaio: ours[i]!,
      at: firstDifference(theirs[i]!, ours[i]!),
    }));
  } finally {
    await Promise.all(paths.flat().map((p) => rm(p, { force: true })));
  }
}
