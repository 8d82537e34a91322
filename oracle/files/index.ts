/**
 * The files oracle: CPython's own `open()` judges `tsaio/fs`. Scenario i
 * (seed + i) is a random file and a random list of operations on it
 * (generate.ts); CPython (driver.py, one process per batch) and tsaio
 * (tsaio-side.ts) each run it on their own copy of the file and write down
 * every result and the file's final bytes; the lists must be equal. A
 * scenario that differs is put down to a deliberate departure
 * (departures.ts) or is a defect, and is shrunk (shrink.ts) to the smallest
 * scenario that still differs the same way.
 *
 * @module
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Difference, OracleOptions, OracleReport } from '../types.js';
import { DEPARTURES, type Departure } from './departures.js';
import { describeScenario } from './describe.js';
import { execute, type Outcome } from './execute.js';
import { generate } from './generate.js';
import { isValid, type Scenario } from './scenario.js';
import { shrink, spent, type Budget } from './shrink.js';

export { generate } from './generate.js';
export { describeScenario } from './describe.js';
export type { Scenario, Op } from './scenario.js';

/** Scenarios per CPython process. */
const BATCH = 25;
/** Differences shrunk per run (the rest are reported as generated). */
const MAX_SHRUNK = 8;
const SHRINK_RUNS = 600;
const SHRINK_MS = 60_000;

/** How one differing scenario is judged: a departure's name or null (a defect), and the scenario that shows it. */
interface Verdict {
  departure: Departure | null;
  scenario: Scenario;
}

class Oracle {
  constructor(
    private readonly _opts: OracleOptions,
    private readonly _dir: string,
  ) {}

  run(scenarios: Scenario[]): Promise<Outcome[]> {
    return execute(this._opts.python, this._dir, scenarios);
  }

  /** A departure if the scenario has its pattern and does not differ without it; else a defect. */
  async judge(s: Scenario, outcome: Outcome): Promise<Verdict> {
    for (const d of DEPARTURES) {
      if (!d.matches(s, outcome)) continue;
      const avoided = d.avoid(s);
      if (!isValid(avoided)) continue;
      const o = (await this.run([avoided]))[0]!;
      if (o.at < 0) return { departure: d, scenario: s };
      [s, outcome] = [avoided, o]; // it differs without the pattern too: a defect, shown without the pattern
    }
    return { departure: null, scenario: s };
  }

  /** For each candidate: does it differ the way `verdict` says? */
  async sameVerdict(verdict: Verdict, candidates: Scenario[]): Promise<boolean[]> {
    const d = verdict.departure;
    const outcomes = await this.run(candidates);
    if (d === null) {
      return candidates.map(
        (c, i) => outcomes[i]!.at >= 0 && !DEPARTURES.some((x) => x.matches(c, outcomes[i]!)),
      );
    }
    const shaped = candidates.filter(
      (c, i) => outcomes[i]!.at >= 0 && d.matches(c, outcomes[i]!) && isValid(d.avoid(c)),
    );
    const avoided = await this.run(shaped.map((c) => d.avoid(c)));
    return candidates.map((c) => {
      const i = shaped.indexOf(c);
      return i >= 0 && avoided[i]!.at < 0;
    });
  }

  /** The difference report for `s` (shrunk if `doShrink`). */
  async report(s: Scenario, outcome: Outcome, doShrink: boolean): Promise<Difference> {
    const verdict = await this.judge(s, outcome);
    let scenario = verdict.scenario;
    let note = '';
    if (doShrink) {
      const budget: Budget = { runs: SHRINK_RUNS, until: performance.now() + SHRINK_MS };
      scenario = await shrink(scenario, (cs) => this.sameVerdict(verdict, cs), budget);
      if (spent(budget)) note = '\n(shrinking stopped: budget spent)';
    } else {
      note = `\n(not shrunk: only the first ${MAX_SHRUNK} differences are)`;
    }
    const last = (await this.run([scenario]))[0]!;
    const at = Math.max(0, last.at);
    return {
      seed: s.seed,
      program: describeScenario(scenario) + note,
      python: last.python[at] ?? '(nothing)',
      tsaio: last.tsaio[at] ?? '(nothing)',
      departure: verdict.departure?.name ?? null,
    };
  }
}

/**
 * Runs `opts.count` file scenarios under CPython and tsaio/fs and reports
 * each one whose results differ, shrunk.
 *
 * @example
 * ```ts
 * import { findPython } from '../python.js';
 * const python = findPython();
 * if (python !== null) {
 *   const report = await runFilesOracle({ seed: 1, count: 10, python, log: () => {} });
 *   console.log(report.ran); // 10
 * }
 * ```
 */
export async function runFilesOracle(opts: OracleOptions): Promise<OracleReport> {
  const dir = await mkdtemp(join(tmpdir(), 'tsaio-oracle-files-'));
  const oracle = new Oracle(opts, dir);
  const differing: Array<[Scenario, Outcome]> = [];
  const started = performance.now();
  try {
    for (let first = 0; first < opts.count; first += BATCH) {
      const scenarios: Scenario[] = [];
      for (let i = first; i < Math.min(opts.count, first + BATCH); i++)
        scenarios.push(generate(opts.seed + i));
      const outcomes = await oracle.run(scenarios);
      for (const [i, o] of outcomes.entries()) {
        if (o.at < 0) continue;
        differing.push([scenarios[i]!, o]);
        opts.log(`files: seed ${scenarios[i]!.seed} differs at ${o.python[o.at] ?? '(nothing)'}`);
      }
      const ran = Math.min(opts.count, first + BATCH);
      if (ran % 500 === 0 || ran === opts.count) {
        const secs = ((performance.now() - started) / 1000).toFixed(1);
        opts.log(`files: ${ran}/${opts.count} ran in ${secs} s, ${differing.length} differ`);
      }
    }
    const differences: Difference[] = [];
    for (const [i, [s, o]] of differing.entries()) {
      if (i < MAX_SHRUNK) opts.log(`files: shrinking seed ${s.seed}`);
      differences.push(await oracle.report(s, o, i < MAX_SHRUNK));
    }
    return { name: 'files', ran: opts.count, differences };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
