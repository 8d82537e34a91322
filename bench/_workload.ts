// The shapes shared by the workload files and the runner (bench/run.ts).
//
// A workload file exports one `Workload`: its size, its variants, the target
// the issue set for it, and a `judge` that reads the measured summaries and
// says whether the target was met. The runner knows nothing about any
// particular workload.
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
  /** Elapsed ms of each round's time run, in round order; `null` where that run failed. */
  elapsedByRound: (number | null)[];
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
  /**
   * A comparison shown beside the targets, not one of them (say, the
   * same work in a heavier idiom no peer has): written under its own heading
   * with "yes"/"no", and left out of the table of contents.
   */
  aside?: boolean;
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

/**
 * Median over rounds of a's elapsed / b's elapsed, using only rounds where both
 * succeeded: how two variants compare when measured in the same rounds.
 * `null` if no round has both.
 */
export function pairedElapsedRatio(a: VariantSummary, b: VariantSummary): number | null {
  const ratios: number[] = [];
  a.elapsedByRound.forEach((x, i) => {
    const y = b.elapsedByRound[i];
    if (x !== null && y !== null && y !== undefined) ratios.push(x / y);
  });
  if (ratios.length === 0) return null;
  ratios.sort((x, y) => x - y);
  const mid = ratios.length >> 1;
  return ratios.length % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
}

/** What a variant that gives up throws: `aheadOfVerdict` reads the limit back from the failure. */
const GAVE_UP = /did not finish within ([\d,]+) ms/;
/** How a child that exhausts V8's heap fails. */
const OUT_OF_MEMORY = /heap out of memory/;

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

/**
 * "`subject` ahead of every one of `peers`": met when, for every peer, the
 * median over rounds of subject / peer elapsed is below 1. A peer that never
 * finished counts as behind if the subject finished every run and the peer,
 * in every run, either gave up (`within`) after a limit longer than the
 * subject's slowest run or ran out of heap. `null` (not measured) otherwise
 * when a peer has no round to compare.
 */
export function aheadOfVerdict(
  target: string,
  subject: VariantSummary | undefined,
  peers: (VariantSummary | undefined)[],
): Verdict {
  if (subject === undefined || peers.includes(undefined))
    return { target, met: null, detail: 'variant missing' };
  const slowest = subject.elapsed?.max ?? null;
  const rows = (peers as VariantSummary[]).map((p) => {
    const r = pairedElapsedRatio(subject, p);
    if (r !== null) return { ahead: r < 1, text: `${times(r)} ${p.name}` };
    // The peer never finished: it is behind if it gave up later than the subject's slowest
    // run, or ran out of memory, in every run (and the subject finished every run).
    const subjectDone = slowest !== null && subject.failures.length === 0;
    const gaveUp = p.failures.map((f) => GAVE_UP.exec(f)?.[1]);
    if (subjectDone && p.runs === 0 && gaveUp.length > 0 && gaveUp.every((l) => l !== undefined)) {
      const limit = Math.min(...gaveUp.map((l) => Number(l.replace(/,/g, ''))));
      if (slowest < limit) return { ahead: true, text: `${p.name} did not finish within ${int(limit)} ms` };
    }
    const oom = p.failures.filter((f) => OUT_OF_MEMORY.test(f)).length;
    if (subjectDone && p.runs === 0 && oom > 0 && oom === p.failures.length) {
      return { ahead: true, text: `${p.name} ran out of heap in every run` };
    }
    return { ahead: null, text: `${p.name} not measured` };
  });
  const met = rows.some((x) => x.ahead === null) ? null : rows.every((x) => x.ahead === true);
  const detail = `${subject.name} elapsed / peer, median over rounds: ${rows.map((x) => x.text).join(', ')}`;
  return { target, met, detail };
}

/** `1.234` → `'1.23×'`; `null` → `'n/a'`. */
export function times(ratio: number | null): string {
  return ratio === null ? 'n/a' : `${ratio.toFixed(2)}×`;
}

/** `1234.5` → `'1,235'`. */
export function int(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}
