// The shapes shared by the workload files and the runner (bench/run.ts).
//
// A workload file exports one `Workload`: its size and its variants. Its
// targets are in bench/targets.json, judged by bench/_verdict.ts on the
// per-round figures; the runner knows nothing about any particular workload.
import { Worker } from 'node:worker_threads';

/**
 * Called by a variant once its whole workload is pending (every task or sleep
 * created and parked): the moment of peak live data. Only its first call
 * counts. In the runner's `time` runs it just notes the time; in its `heap`
 * runs it also forces a GC and reads `heapUsed`.
 */
export type Mark = () => void;

/** Figures a variant measured itself (say, the event loop's delay), by name; units in the name. */
export type Extras = Record<string, number>;

/** The measured part of a variant: do the work for `n` units, call `mark` at the peak; may return `Extras`. */
export type Body = (n: number, mark: Mark) => Promise<void | Extras>;

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
  /** The variant's own figures (`Extras`) over its time runs, by name. */
  extra: Record<string, Stats>;
  /** Each round's time run, in round order: what the targets are judged on. */
  rounds: RoundOutcome[];
  /** Median over rounds of this variant's elapsed / the baseline's elapsed in the same round. */
  elapsedRatio: number | null;
  /** Same pairing for peak RSS. */
  peakRssRatio: number | null;
  /** Same pairing for RSS growth. */
  rssGrowthRatio: number | null;
}

/** The figures of one time run. */
export interface RoundFigures {
  elapsed: number;
  cpu: number;
  peakRss: number;
  rssGrowth: number;
  extra: Record<string, number>;
}

/**
 * One round's time run: its figures, or its failure. A run that gave up
 * (`within`) or ran out of heap did not finish: `atLeastMs` is how long its
 * body ran at least.
 */
export type RoundOutcome =
  { ok: true; figures: RoundFigures } | { ok: false; error: string; atLeastMs: number | null };

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
}

/**
 * Runs `work`, but throws if it has not finished within `ms`: for a peer that
 * would otherwise run for minutes. The child process exits on the error, so
 * the abandoned work does not matter. A peer can starve the event loop (no
 * timer fires), so a watchdog thread also kills the process a second later,
 * after writing the same error to stderr.
 */
export async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  const message = `${what} did not finish within ${int(ms)} ms`;
  const watchdog = new Worker(
    "const { workerData: d } = require('node:worker_threads');" +
      "setTimeout(() => { require('node:fs').writeSync(2, 'Error: ' + d.message + '\\n');" +
      "process.kill(process.pid, 'SIGKILL'); }, d.ms);",
    { eval: true, workerData: { message, ms: ms + 1000 } },
  );
  watchdog.unref();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    void watchdog.terminate();
  }
}

/** `1.234` → `'1.23×'`; `null` → `'n/a'`. */
export function times(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${ratio.toFixed(2)}×`;
}

/** `1234.5` → `'1,235'`. */
export function int(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

/** One turn of the event loop, the yield the W3, W3B and W5 jobs make. */
export const turn = (): Promise<void> => new Promise<void>((r) => setImmediate(r));
