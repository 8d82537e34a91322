// docs/benchmarks.md: its header, one section per workload, and a table of
// contents that repeats every verdict. Every verdict is written by
// bench/_verdict.ts from the per-round figures written under it, so
// test/bench-verdicts.test.ts can compute it again from the page alone.
import os from 'node:os';
import type { Stats, VariantSummary, Workload } from './_workload.ts';
import { int, times } from './_workload.ts';
import type { Figure, Metric, Target } from './_verdict.ts';
import { BOOTSTRAP_SEED, MIN_ROUNDS, RESAMPLES, notMeasuredLine, targetLines } from './_verdict.ts';
import { slug } from '../scripts/check-links.ts';

/** What one run measured of one workload. */
export interface WorkloadResult {
  workload: Workload;
  summaries: Map<string, VariantSummary>;
  /** The order the variants ran in, per round. */
  orders: string[][];
}

/** The run's circumstances, written under each section it measured. */
export interface RunMeta {
  date: string;
  command: string;
  runs: number;
  /** os.loadavg() at the start and at the end of the run. */
  load: [number[], number[]];
  /** The seed of the variant order. */
  seed: number;
  /** The commit measured (HEAD), or null outside git. */
  commit: string | null;
  /** Paths changed against it (docs/benchmarks.md aside): a dirty tree is not a result. */
  dirty: string[];
}

/** The line under each measured section naming how its verdicts were computed; the test reads the seed in it. */
export const VERDICTS_LINE =
  `- Verdicts: bench/targets.json judged by bench/_verdict.ts — median of the per-round figures (ratios: ` +
  `judged / baseline in the same round), 95% percentile bootstrap interval (${int(RESAMPLES)} resamples, ` +
  `seed ${BOOTSTRAP_SEED}); **met** when the interval is within the bound, **MISSED** when it is beyond, ` +
  `**inconclusive** otherwise or with fewer than ${MIN_ROUNDS} rounds`;

/** Marks the Code line of a section measured on a dirty tree: the test refuses such a section. */
export const DIRTY = '**UNCOMMITTED CHANGES**';

const range = (s: Stats | null, f: (x: number) => string) =>
  s === null ? 'failed' : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
const mb = (x: number) => x.toFixed(1);

function table(r: WorkloadResult): string {
  const w = r.workload;
  const head =
    `| variant | elapsed ms | × ${w.baseline} | ms to peak | CPU ms | peak RSS MB | × ${w.baseline} | RSS growth MB | ` +
    `live heap at peak, bytes per ${w.unit} | heap left after, KB |`;
  const rows = [...r.summaries.values()].map((s) =>
    [
      s.name,
      range(s.elapsed, int),
      times(s.elapsedRatio),
      range(s.toPeak, int),
      range(s.cpu, int),
      range(s.peakRss, mb),
      times(s.peakRssRatio),
      range(s.rssGrowth, mb),
      range(s.heapAtPeak, (x) => int(x / w.n)),
      range(s.heapLeft, (x) => int(x / 1024)),
    ].join(' | '),
  );
  return [head, '|' + ' --- |'.repeat(10), ...rows.map((row) => `| ${row} |`)].join('\n');
}

/** A table of the variants' own figures, or nothing when none has any. */
function extraTable(r: WorkloadResult): string[] {
  const keys = [...new Set([...r.summaries.values()].flatMap((s) => Object.keys(s.extra)))];
  if (keys.length === 0) return [];
  const rows = [...r.summaries.values()].map(
    (s) =>
      `| ${[s.name, ...keys.map((k) => (s.extra[k] ? range(s.extra[k], (x) => x.toFixed(1)) : 'n/a'))].join(' | ')} |`,
  );
  return ['', `| variant | ${keys.join(' | ')} |`, '|' + ' --- |'.repeat(keys.length + 1), ...rows];
}

/** A variant's figure of `metric` in each round; null where the run failed, a bound where it did not finish. */
export function figures(s: VariantSummary | undefined, metric: Metric, runs: number): Figure[] {
  if (s === undefined) return Array.from({ length: runs }, () => null);
  return s.rounds.map((o): Figure => {
    if (!o.ok) return metric === 'elapsed' && o.atLeastMs !== null ? { atLeast: o.atLeastMs } : null;
    if (metric.startsWith('extra:')) return o.figures.extra[metric.slice('extra:'.length)] ?? null;
    return o.figures[metric as Exclude<Metric, `extra:${string}`>];
  });
}

/** The verdict and rounds lines of each target of the workload. */
export function verdictLines(r: WorkloadResult, targets: Target[], runs: number): string[] {
  return targets.flatMap((t) =>
    targetLines(
      t,
      figures(r.summaries.get(t.judged), t.metric, runs),
      t.baseline === null ? null : figures(r.summaries.get(t.baseline), t.metric, runs),
    ),
  );
}

const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');

/** A loud mark when the 1-minute load exceeded the cores at the start or the end: figures of a busy machine are noisy. */
function busy(meta: RunMeta, cores: number): string {
  const peak = Math.max(meta.load[0][0] ?? 0, meta.load[1][0] ?? 0);
  return peak > cores
    ? ` — **busy machine** (load above its ${cores} cores): noisy figures, not results`
    : '';
}

function runLines(meta: RunMeta, orders: string[][]): string[] {
  const cpus = os.cpus();
  const code =
    meta.commit === null
      ? `${DIRTY}: not in a git checkout (not a result)`
      : meta.dirty.length === 0
        ? `commit ${meta.commit}, clean tree`
        : `${DIRTY} on top of commit ${meta.commit} (${meta.dirty.join(', ')}): not a result; commit and measure again`;
  return [
    `- Measured: ${meta.date}; rounds: ${meta.runs}`,
    `- Command: ${meta.command}`,
    `- Code: ${code}`,
    `- Node: ${process.version} (V8 ${process.versions.v8}), ${process.platform} ${os.release()}`,
    `- CPU: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores; RAM ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `- Load average (1, 5, 15 min): at the start ${load(meta.load[0])}; at the end ${load(meta.load[1])}` +
      busy(meta, cpus.length),
    `- Variant order per round (shuffled, seed ${meta.seed}): ` +
      orders.map((o, i) => `${i + 1}: ${o.join(' ')}`).join('; '),
    VERDICTS_LINE,
  ];
}

/** The section of a workload measured in this run. */
export function section(r: WorkloadResult, meta: RunMeta, targets: Target[]): string {
  const w = r.workload;
  const failures = [...r.summaries.values()].flatMap((s) =>
    [...new Set(s.failures)].map((f) => {
      const count = s.failures.filter((x) => x === f).length;
      return `- ${s.name} failed${count > 1 ? ` (${count} runs)` : ''}: ${f}`;
    }),
  );
  return [
    `## ${w.id} — ${w.title}`,
    '',
    ...runLines(meta, r.orders),
    '',
    `N = ${int(w.n)}. Baseline for the ratio columns: \`${w.baseline}\`. ${w.note}`,
    '',
    table(r),
    ...extraTable(r),
    '',
    '**Targets (bench/targets.json)**',
    '',
    ...verdictLines(r, targets, meta.runs),
    ...(failures.length ? ['', '**Failed runs**', '', ...failures] : []),
    '',
    '**Variants**',
    '',
    ...w.variants.map((v) => `- \`${v.name}\`: \`${v.code}\``),
    '',
  ].join('\n');
}

/** The section of a workload with no run under the verdicts of bench/targets.json. */
export function placeholder(w: Workload, targets: Target[]): string {
  const why = 'not run since the verdicts are computed from bench/targets.json';
  return [
    `## ${w.id} — ${w.title}`,
    '',
    `Not measured yet with the verdicts of bench/targets.json: \`npm run bench -- --only ${w.id}\` ` +
      'measures it (at least 6 rounds for a verdict). Earlier figures are in the history of this file.',
    '',
    '**Targets (bench/targets.json)**',
    '',
    ...targets.map((t) => notMeasuredLine(t, why)),
    '',
  ].join('\n');
}

export const HEADER = [
  '# Benchmarks',
  '',
  'Written by `bench/run.ts` (`npm run bench`); do not edit by hand: test/bench-verdicts.test.ts',
  'computes every verdict again from the figures written beside it. Each section says when, how',
  'and at which commit it was measured; every figure in a section comes from that one run.',
  '`npm run bench -- --only W3` measures one workload again and rewrites only its section. A',
  'section measured on a busy machine says so in its load line; read its verdicts with that in',
  'mind. For the targets missed, [performance.md](performance.md) says what their profiles show.',
  '',
  '## How to read it',
  '',
  '- Each section is one workload (W2 … W12): what is measured, its table, the targets of',
  '  `bench/targets.json` for it with their verdicts, and the code of every variant. The table of',
  '  contents below repeats every verdict.',
  '- A verdict is **met** when the 95% interval of the median lies within the bound, **MISSED**',
  '  when it lies beyond, **inconclusive** when it straddles the bound or the run had fewer than',
  `  ${MIN_ROUNDS} rounds (run more rounds), **not measured** when no round produced the figures.`,
  '  Under each verdict, the figures of every round it was computed from (`judged/baseline`).',
  '- A ratio is judged / baseline within one round, so a machine that is slower for a while',
  '  slows both. Absolute times depend on the machine and its load, which each section records.',
  '- A variant that could not finish (a peer that gives up after a limit or runs out of heap) is',
  '  listed under **Failed runs**; its elapsed is written `≥x`, the time it ran, and the verdict',
  '  uses that bound.',
  '',
  '## Method',
  '',
  '- In each round every variant runs once in a fresh child process for timing, then once more',
  '  in a fresh child process for the heap figure. The order of the variants is shuffled in each',
  '  round (seeded; the seed and the orders are in the section) so that drift in machine speed',
  '  does not favour whichever runs first.',
  '- Table figures are the median over rounds, with min–max in parentheses; a ratio column',
  '  `× baseline` is the median over rounds of (variant / baseline) in the same round.',
  `- Verdicts: the median of the per-round figures, with a 95% percentile bootstrap interval`,
  `  (${int(RESAMPLES)} resamples of the rounds, seed ${BOOTSTRAP_SEED}); see bench/_verdict.ts.`,
  '- **elapsed ms**: wall time of the workload body (`performance.now()`), excluding process',
  '  start-up and module loading. **ms to peak**: from the start of the body to the moment',
  '  everything is pending (the first `mark()`). **CPU ms**: user + system CPU time of the child',
  '  (all its threads) during the body.',
  '- **peak RSS MB**: `process.resourceUsage().maxRSS` of the child at the end; it includes the',
  '  Node + tsx start-up footprint, which **RSS growth** (peak RSS minus RSS just before the body)',
  '  leaves out.',
  '- **live heap at peak**: in the heap run, the variant calls `mark()` once everything is',
  '  pending; `mark` forces a full GC and reads `heapUsed`. The figure is that minus `heapUsed`',
  '  (after a forced GC) just before the body, divided by N.',
  '- **heap left after**: `heapUsed` after the body and a forced GC, minus the same before.',
  '',
].join('\n');

const SECTION = /^(?=## W\w+ — )/m;

/** The sections of docs/benchmarks.md, by workload id (`W3`), each with its text. */
export function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(SECTION).slice(1)) {
    const id = /^## (W\w+) — /.exec(part)![1]!;
    out.set(id, part.replace(/\n+$/, '\n'));
  }
  return out;
}

/** Whether a section holds a run judged with the verdicts of bench/targets.json (else it is a placeholder, or predates them). */
export function isMeasured(text: string): boolean {
  return text.includes(VERDICTS_LINE);
}

/** The table of contents: a link to each section, with the verdict of each target written in it. */
export function contents(ids: string[], all: Map<string, string>): string {
  const lines = ['## Contents', ''];
  for (const id of ids) {
    const text = all.get(id)!;
    const heading = text.slice(3, text.indexOf('\n'));
    const measured = /^- Measured: (.*)$/m.exec(text)?.[1];
    const when = measured === undefined ? 'not measured yet' : `measured ${measured}`;
    lines.push(`- [${heading}](#${slug(heading)}) — ${when}`);
    for (const m of text.matchAll(/^- `([\w'-]+)` .*?: \*\*(met|MISSED|inconclusive|not measured)\*\*/gm)) {
      lines.push(`  - \`${m[1]}\`: **${m[2]}**`);
    }
  }
  return [...lines, ''].join('\n');
}

/**
 * docs/benchmarks.md with the sections of `results` new, every other
 * measured section kept as it was, and a placeholder, written anew from
 * bench/targets.json, for each workload with no measured section.
 */
export function document(
  workloads: Workload[],
  targets: Target[],
  results: WorkloadResult[],
  meta: RunMeta | null,
  previous: string,
): string {
  const all = sections(previous);
  for (const w of workloads) {
    const own = targets.filter((t) => t.workload === w.id);
    const r = results.find((x) => x.workload === w);
    if (r !== undefined && meta !== null) all.set(w.id, section(r, meta, own));
    else if (!isMeasured(all.get(w.id) ?? '')) all.set(w.id, placeholder(w, own));
  }
  const ids = workloads.map((w) => w.id);
  for (const id of all.keys()) if (!ids.includes(id)) all.delete(id);
  return [HEADER, contents(ids, all), ...ids.map((id) => all.get(id)!)].join('\n');
}
