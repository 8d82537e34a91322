/**
 * The asyncio oracle: random programs (`generate.ts`), run under CPython
 * 3.13 on a virtual-time loop and under tsaio's `runVirtual`, must print the
 * same trace. A difference is shrunk to the smallest program that still
 * shows it, and is either a deliberate departure (`departures.ts`) or a
 * defect.
 *
 * @module
 */

import type { Difference, OracleOptions, OracleReport } from '../types.js';
import type { Python } from '../python.js';
import type { Program } from './ast.js';
import { firstDifference, type Mismatch } from './compare.js';
import { DEPARTURES, classify } from './departures.js';
import { runBoth, type Job } from './execute.js';
import { generate } from './generate.js';
import { describe } from './describe.js';
import { shrink } from './shrink.js';

/** Programs per batch (one process per side). */
const BATCH = 100;
/** Real time allowed for shrinking one defect, and one departure. */
const SHRINK_DEFECT_MS = 120_000;
const SHRINK_DEPARTURE_MS = 20_000;
/** At most this many defects, and differences of each departure, are shrunk in one run. */
const SHRINK_DEFECTS = 5;
const SHRINK_PER_DEPARTURE = 1;

/** Runs `programs` on both sides and returns the mismatch of each (null when the traces agree). */
export async function compareAll(
  python: Python,
  programs: Program[],
  tag: string,
): Promise<Array<Mismatch | null>> {
  const jobs: Job[] = programs.map((program, i) => ({ id: `${tag}_${i}`, program }));
  const out: Array<Mismatch | null> = [];
  for (let i = 0; i < jobs.length; i += BATCH) {
    const batch = jobs.slice(i, i + BATCH);
    const results = await runBoth(python, batch);
    for (const job of batch) {
      const py = results.python.get(job.id) ?? { status: 'crash no result', trace: [] };
      const ts = results.tsaio.get(job.id) ?? { status: 'crash no result', trace: [] };
      out.push(firstDifference(py, ts));
    }
  }
  return out;
}

/** Runs `opts.count` programs from `opts.seed` and reports every difference, shrunk. */
export async function runAsyncioOracle(opts: OracleOptions): Promise<OracleReport> {
  const found: Array<{ seed: number; program: Program; mismatch: Mismatch }> = [];
  for (let start = 0; start < opts.count; start += BATCH) {
    const n = Math.min(BATCH, opts.count - start);
    const programs = Array.from({ length: n }, (_, i) => generate(opts.seed + start + i));
    const mismatches = await compareAll(opts.python, programs, `p${start}`);
    mismatches.forEach((mismatch, i) => {
      if (mismatch !== null) found.push({ seed: opts.seed + start + i, program: programs[i]!, mismatch });
    });
    opts.log(`asyncio: ${start + n}/${opts.count} programs, ${found.length} differing`);
  }
  const kinds = await classifyAll(opts.python, found);
  const differences: Difference[] = [];
  const shrunkPerKind = new Map<string, number>();
  for (const [i, { seed, program, mismatch }] of found.entries()) {
    const kind = kinds[i] ?? DEFECT;
    if (kind !== DEFECT && classify(program, mismatch) === null) {
      // Told by ablation: the lines do not show it, so the shrinker could not keep it; report as is.
      differences.push({
        seed,
        program: describe(program),
        python: mismatch.python,
        tsaio: mismatch.tsaio,
        departure: kind,
      });
      continue;
    }
    const done = shrunkPerKind.get(kind) ?? 0;
    let small = program;
    let last = mismatch;
    if (done < (kind === DEFECT ? SHRINK_DEFECTS : SHRINK_PER_DEPARTURE)) {
      shrunkPerKind.set(kind, done + 1);
      opts.log(`asyncio: shrinking seed ${seed} (${kind})`);
      small = await shrinkDifference(opts.python, program, kind);
      last = (await compareAll(opts.python, [small], `s${seed}`))[0] ?? mismatch;
    }
    const departure =
      kind === DEFECT
        ? ((await classifyAll(opts.python, [{ program: small, mismatch: last }]))[0] ?? null)
        : kind;
    differences.push({ seed, program: describe(small), python: last.python, tsaio: last.tsaio, departure });
  }
  return { name: 'asyncio', ran: opts.count, differences };
}

/**
 * The departure of each difference: the one whose lines it shows (`classify`), else the first
 * whose ablation (the program without what that departure is about) makes it go away, else null.
 */
export async function classifyAll(
  python: Python,
  found: Array<{ program: Program; mismatch: Mismatch }>,
): Promise<Array<string | null>> {
  const out = found.map(({ program, mismatch }) => classify(program, mismatch));
  const tries: Array<{ index: number; name: string; program: Program }> = [];
  found.forEach(({ program }, index) => {
    if (out[index] !== null) return;
    for (const d of DEPARTURES) {
      const ablated = d.ablate?.(program) ?? null;
      if (ablated !== null) tries.push({ index, name: d.name, program: ablated });
    }
  });
  if (tries.length === 0) return out;
  const results = await compareAll(
    python,
    tries.map((t) => t.program),
    'a',
  );
  tries.forEach((t, i) => {
    if (results[i] === null && out[t.index] === null) out[t.index] = t.name;
  });
  return out;
}

/** The kind of a difference that no departure explains. */
const DEFECT = '(defect)';

/** The smallest program found that still differs the same way (the same departure, or a defect). */
export async function shrinkDifference(python: Python, program: Program, kind: string): Promise<Program> {
  let round = 0;
  return shrink(
    program,
    async (batch) => {
      const mismatches = await compareAll(python, batch, `r${round++}`);
      return mismatches.findIndex((m, i) => m !== null && (classify(batch[i]!, m) ?? DEFECT) === kind);
    },
    performance.now() + (kind === DEFECT ? SHRINK_DEFECT_MS : SHRINK_DEPARTURE_MS),
  );
}
