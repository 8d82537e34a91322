// The shapes shared by the workload files and the runner (bench/run.ts).
//
// A workload file exports one `Workload`: its size, its variants, the target
// the issue set for it, and a `judge` that reads the measured summaries and
// says whether the target was met. The runner knows nothing about any
// particular workload.

/**
 * Called by a variant once its whole workload is pending (every task or sleep
 * created and parked): the moment of peak live data. Only its first call
 * counts. In the runner's `time` runs it just notes the time; in its `heap`
 * runs it also forces a GC and reads `heapUsed`.
 */
export type Mark = () => void;

/** The measured part of a variant: do the work for `n` units, call `mark` at the peak. */
export type Body = (n: number, mark: Mark) => Promise<void>;

export interface Variant {
  /** Short name used on the command line and in the tables. */
  name: string;
  /** The code being measured, as shown in docs/benchmarks.md. */
  code: string;
  /** Imports what the variant needs, outside the measured region, and returns its body. */
  load(): Promise<Body>;
}

export interface Stats {
  median: number;
  min: number;
  max: number;
}

/** What the runner measured for one variant, over all its runs. */
export interface VariantSummary {
  name: string;
  /** Runs that produced a figure (failed runs are listed in `failures`). */
  runs: number;
  failures: string[];
  /** Wall time of the body, ms. */
  elapsed: Stats | null;
  /** ms from the start of the body to its first `mark()`. */
  toPeak: Stats | null;
  /** User + system CPU time of the child during the body, ms. */
  cpu: Stats | null;
  /** Peak resident set of the child process (`resourceUsage().maxRSS`), MB. */
  peakRss: Stats | null;
  /** Peak RSS minus the RSS just before the body started, MB. */
  rssGrowth: Stats | null;
  /** heapUsed at the `mark` (after a forced GC) minus heapUsed before the body, bytes. */
  heapAtPeak: Stats | null;
  /** heapUsed after the body and a forced GC minus heapUsed before the body, bytes. */
  heapLeft: Stats | null;
  /** Median over rounds of this variant's elapsed / the baseline's elapsed in the same round. */
  elapsedRatio: number | null;
  /** Same pairing for peak RSS. */
  peakRssRatio: number | null;
  /** Same pairing for RSS growth. */
  rssGrowthRatio: number | null;
}

export interface Verdict {
  /** The target as the issue states it. */
  target: string;
  /** true: met; false: missed; null: not measured (a variant failed). */
  met: boolean | null;
  /** The measured figures behind the verdict, in one sentence. */
  detail: string;
}

export interface Workload {
  /** 'W2', 'W6' — what `--only` matches. */
  id: string;
  title: string;
  /** What a reader needs to read the figures right (shown under the title). */
  note: string;
  /** Number of units (tasks, sleeps) per run. */
  n: number;
  /** What one unit is, for "bytes per <unit>". */
  unit: string;
  /** Name of the variant every ratio is taken against. */
  baseline: string;
  variants: Variant[];
  judge(summaries: ReadonlyMap<string, VariantSummary>): Verdict[];
}

/** `1.234` → `'1.23×'`; `null` → `'n/a'`. */
export function times(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${ratio.toFixed(2)}×`;
}

/** `1234.5` → `'1,235'`. */
export function int(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}
