// The one judge of every benchmark verdict: a target of bench/targets.json
// against the per-round figures of one run.
//
// A ratio target pairs the judged variant with its baseline round by round
// (both ran in the same round), takes judged / baseline per round, and asks
// whether the median of those ratios is within the bound. An absolute target
// (baseline null) asks the same of the judged figure itself. The uncertainty
// is a 95% percentile bootstrap interval of the median (10,000 resamples of
// the rounds, with a fixed seed written beside the verdict):
//   met          — the whole interval is within the bound;
//   MISSED       — the whole interval is beyond it;
//   inconclusive — the interval straddles the bound, or fewer than
//                  MIN_ROUNDS rounds paired (below 6 rounds not even the
//                  interval [min, max] of the median covers 95%): run more rounds;
//   not measured — no round produced both figures.
//
// A run that gave up after a time limit or ran out of heap did not finish:
// its elapsed time is written `≥x` (it ran at least x ms). Its round's ratio
// is then only bounded (judged ≥x / baseline y is at least x/y; judged y /
// baseline ≥x is at most y/x), so the judge computes two intervals: met is
// decided on the interval with every bounded ratio at its worst for met, and
// MISSED on the one at its worst for MISSED.
//
// Figures are rounded to 6 significant digits before judging, exactly as they
// are written, so that test/bench-verdicts.test.ts recomputes every verdict
// of docs/benchmarks.md from the figures written beside it.
import { readFileSync } from 'node:fs';

export type Metric = 'elapsed' | 'cpu' | 'peakRss' | 'rssGrowth' | `extra:${string}`;

/** One entry of bench/targets.json. */
export interface Target {
  id: string;
  /** Workload id ('W2', 'W3B'). */
  workload: string;
  /** The variant judged. */
  judged: string;
  /** The variant it is divided by, round by round; null for a bound on the judged figure itself. */
  baseline: string | null;
  metric: Metric;
  /** The median must be `<=` (within) or `<` (ahead of) the bound. */
  op: '<=' | '<';
  bound: number;
  /** What the target says, as written beside its verdict. */
  description: string;
  /** Where it comes from: the words. */
  source: string;
}

/** One round's figure: a number, a lower bound (`{ atLeast }`: the run gave up or ran out of heap), or null (failed). */
export type Figure = number | { atLeast: number } | null;

export type Word = 'met' | 'MISSED' | 'inconclusive' | 'not measured';

export interface Judgement {
  word: Word;
  /** Rounds where both figures exist (or the judged one, for an absolute target). */
  rounds: number;
  /** Median over those rounds, at its lowest and highest (equal unless some rounds are only bounded). */
  median: [number, number];
  /** The 95% bootstrap interval of the median: low end of the low case, high end of the high case. */
  interval: [number, number];
  /** Why, when not measured or inconclusive for want of rounds. */
  why?: string;
}

export const MIN_ROUNDS = 6;
export const RESAMPLES = 10_000;
/** The bootstrap's seed, written in every section of docs/benchmarks.md. */
export const BOOTSTRAP_SEED = 20_261_207;

const TARGETS = new URL('./targets.json', import.meta.url);

/** The targets of bench/targets.json, in file order. */
export function loadTargets(): Target[] {
  return (JSON.parse(readFileSync(TARGETS, 'utf8')) as { targets: Target[] }).targets;
}

/** mulberry32: a small seeded generator of floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The same numbers as written into the docs. */
export function round6(x: number): number {
  return Number(x.toPrecision(6));
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** 95% percentile bootstrap interval of the median of each of `samples` (all of one length), from one stream of resamples. */
export function bootstrapMedian(samples: readonly (readonly number[])[], seed: number): [number, number][] {
  const n = samples[0]!.length;
  const random = rng(seed);
  const medians = samples.map(() => new Float64Array(RESAMPLES));
  const pick = new Array<number>(n);
  for (let b = 0; b < RESAMPLES; b++) {
    for (let i = 0; i < n; i++) pick[i] = Math.floor(random() * n);
    samples.forEach((xs, k) => (medians[k]![b] = median(pick.map((i) => xs[i]!))));
  }
  return medians.map((m) => {
    m.sort();
    return [m[Math.floor(0.025 * RESAMPLES)]!, m[Math.ceil(0.975 * RESAMPLES) - 1]!];
  });
}

const value = (f: Figure): number | null => (f === null ? null : typeof f === 'number' ? f : null);
const atLeast = (f: Figure): number | null => (f !== null && typeof f === 'object' ? f.atLeast : null);

/** A round's ratio as [lowest, highest] it can be, or null when the round cannot be paired. */
function pairRange(a: Figure, b: Figure | undefined): [number, number] | null {
  if (b === undefined) {
    if (value(a) !== null) return [value(a)!, value(a)!];
    return atLeast(a) === null ? null : [atLeast(a)!, Infinity];
  }
  if (value(a) !== null && value(b ?? null) !== null) {
    const r = value(a)! / value(b)!;
    return [r, r];
  }
  if (value(a) !== null && atLeast(b ?? null) !== null) return [0, value(a)! / atLeast(b)!];
  if (atLeast(a) !== null && value(b ?? null) !== null) return [atLeast(a)! / value(b)!, Infinity];
  return null;
}

const within = (x: number, op: Target['op'], bound: number) => (op === '<' ? x < bound : x <= bound);

/**
 * Judges `target` on the per-round figures of its judged variant and (for a
 * ratio target) its baseline, index = round.
 */
export function judge(
  target: Pick<Target, 'op' | 'bound' | 'baseline'>,
  judged: readonly Figure[],
  baseline: readonly Figure[] | null,
  seed = BOOTSTRAP_SEED,
): Judgement {
  const ranges = judged.flatMap((a, i) => {
    const r = pairRange(a, baseline === null ? undefined : baseline[i]);
    return r === null ? [] : [r];
  });
  if (ranges.length === 0) {
    const why = baseline === null ? 'no run finished' : 'no round where both ran';
    return { word: 'not measured', rounds: 0, median: [NaN, NaN], interval: [NaN, NaN], why };
  }
  const low = ranges.map((r) => r[0]);
  const high = ranges.map((r) => r[1]);
  const [lowCi, highCi] = bootstrapMedian([low, high], seed);
  const result = {
    rounds: ranges.length,
    median: [median(low), median(high)] as [number, number],
    interval: [lowCi![0], highCi![1]] as [number, number],
  };
  if (ranges.length < MIN_ROUNDS)
    return { ...result, word: 'inconclusive', why: `fewer than ${MIN_ROUNDS} rounds` };
  if (within(highCi![1], target.op, target.bound)) return { ...result, word: 'met' };
  if (!within(lowCi![0], target.op, target.bound)) return { ...result, word: 'MISSED' };
  return { ...result, word: 'inconclusive', why: 'the interval straddles the bound' };
}

// ------------------------------------------------------------ the docs' text

/** `1.2345` → `'1.23'`, `Infinity` → `'∞'`; ratios to 2 decimals, other figures to 3 significant digits. */
function num(x: number, ratio: boolean): string {
  if (x === Infinity) return '∞';
  if (ratio) return x.toFixed(2);
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3);
}

/** One figure as written in the rounds line: `2949.1`, `≥15000`, `failed`. */
export function formatFigure(f: Figure): string {
  if (f === null) return 'failed';
  return typeof f === 'number' ? String(round6(f)) : `≥${round6(f.atLeast)}`;
}

export function parseFigure(text: string): Figure {
  if (text === 'failed') return null;
  if (text.startsWith('≥')) return { atLeast: Number(text.slice(1)) };
  const x = Number(text);
  if (!Number.isFinite(x)) throw new Error(`not a figure: ${text}`);
  return x;
}

const unitOf = (metric: Metric) =>
  metric === 'elapsed' || metric === 'cpu'
    ? 'ms'
    : metric === 'peakRss' || metric === 'rssGrowth'
      ? 'MB'
      : metric.slice('extra:'.length);

/** The judgement in words: `**met** — median 1.23×, 95% interval 1.10–1.35× over 6 rounds`. */
function verdictText(target: Target, j: Judgement): string {
  const ratio = target.baseline !== null;
  const suffix = ratio ? '×' : ` ${unitOf(target.metric)}`;
  if (j.word === 'not measured') return `**not measured** — ${j.why}`;
  const [m0, m1] = j.median;
  // Rounds that did not finish leave the median known only between two values.
  const med =
    m0 === m1
      ? num(m0, ratio)
      : m0 === 0
        ? `≤ ${num(m1, ratio)}`
        : m1 === Infinity
          ? `≥ ${num(m0, ratio)}`
          : `${num(m0, ratio)}–${num(m1, ratio)}`;
  const [i0, i1] = j.interval;
  const why = j.why ? `; ${j.why}` : '';
  return (
    `**${j.word}** — median ${med}${suffix}, 95% interval ${num(i0, ratio)}–${num(i1, ratio)}${suffix}` +
    ` over ${j.rounds} round${j.rounds === 1 ? '' : 's'}${why}`
  );
}

/** `≤ 2×`, `< 1×`, `≤ 1,050 ms`. */
export function boundText(t: Target): string {
  const op = t.op === '<' ? '<' : '≤';
  return t.baseline === null
    ? `${op} ${t.bound.toLocaleString('en-US')} ${unitOf(t.metric)}`
    : `${op} ${t.bound}× ${t.baseline}`;
}

/** The heading line of a target in the docs, up to its verdict. */
export function targetHead(t: Target): string {
  return `- \`${t.id}\` ${t.description} (${t.judged} ${t.metric} ${boundText(t)})`;
}

/** The label of the rounds line: which figures, in which unit. */
function roundsLabel(t: Target): string {
  const unit = unitOf(t.metric);
  return t.baseline === null
    ? `  - rounds, ${t.judged} ${t.metric} (${unit}):`
    : `  - rounds, ${t.judged} / ${t.baseline} ${t.metric} (${unit}):`;
}

/**
 * The two lines a target has in docs/benchmarks.md: its verdict, and the
 * per-round figures it was computed from (`judged/baseline` per round).
 */
export function targetLines(
  t: Target,
  judged: readonly Figure[],
  baseline: readonly Figure[] | null,
  seed = BOOTSTRAP_SEED,
): string[] {
  const r = (f: Figure): Figure =>
    f === null ? null : typeof f === 'number' ? round6(f) : { atLeast: round6(f.atLeast) };
  judged = judged.map(r);
  baseline = baseline === null ? null : judged.map((_, i) => r(baseline![i] ?? null));
  const j = judge(t, judged, baseline, seed);
  const figures = judged.map((a, i) =>
    baseline === null ? formatFigure(a) : `${formatFigure(a)}/${formatFigure(baseline[i] ?? null)}`,
  );
  return [`${targetHead(t)}: ${verdictText(t, j)}`, `${roundsLabel(t)} ${figures.join(', ')}`];
}

/** Reads a rounds line back: the judged figures and, for a ratio target, the baseline's. */
export function parseRounds(t: Target, line: string): { judged: Figure[]; baseline: Figure[] | null } {
  const label = roundsLabel(t);
  if (!line.startsWith(label)) throw new Error(`${t.id}: not its rounds line: ${line}`);
  const cells = line.slice(label.length).trim().split(', ');
  if (t.baseline === null) return { judged: cells.map(parseFigure), baseline: null };
  const pairs = cells.map((c) => c.split('/'));
  if (pairs.some((p) => p.length !== 2)) throw new Error(`${t.id}: a round is not a pair: ${line}`);
  return { judged: pairs.map((p) => parseFigure(p[0]!)), baseline: pairs.map((p) => parseFigure(p[1]!)) };
}

/** The line of a target no run measured, with the reason. */
export function notMeasuredLine(t: Target, why: string): string {
  return `${targetHead(t)}: **not measured** — ${why}`;
}
