// The benchmark runner: `npm run bench [-- --runs N --only W2,W6 --seed S --no-write --dirty]`;
// `node --import tsx bench/run.ts --contents` rewrites the header and the
// table of contents of docs/benchmarks.md from its sections, measuring nothing.
//
// Every run of every variant happens in a fresh child process, so the peak
// RSS of one variant never includes another's. Each round runs every
// variant once, in an order shuffled per round (seeded by `--seed`, else a
// random seed; both written into the docs), so that drift in the machine's
// speed does not favour whichever runs first. Each round makes two kinds of
// run per variant:
//   time — measures elapsed ms, CPU and peak RSS; nothing is forced;
//   heap — forces a GC at the workload's peak (the variant's `mark`) to read
//          the live heap; its elapsed time is not used.
// The table figures are medians (with min–max); the verdicts are those of
// bench/_verdict.ts on the targets of bench/targets.json, from the per-round
// figures of the time runs.
//
// Unless `--no-write` is given, the sections of the workloads measured are
// rewritten in docs/benchmarks.md, each as soon as its workload is done (a
// run stopped part-way keeps the sections it finished); the other sections
// stay as they were. The
// runner refuses to write figures measured on a dirty tree (anything changed
// but docs/benchmarks.md): with `--dirty` it writes them marked as not a
// result, and test/bench-verdicts.test.ts fails on them.
//
// To profile one variant, run its child directly, e.g.
//   node --import tsx --expose-gc --cpu-prof bench/run.ts --child W2 tsaio-tasks time
import { spawn, execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { RoundOutcome, Stats, VariantSummary, Workload } from './_workload.ts';
import { int } from './_workload.ts';
import { WORKLOADS } from './_all.ts';
import { loadTargets, rng } from './_verdict.ts';
import type { RunMeta, WorkloadResult } from './_report.ts';
import { document, verdictLines } from './_report.ts';

const CHILD_TIMEOUT_MS = 10 * 60_000;
const MB = 1024 * 1024;

type Mode = 'time' | 'heap';

/** What one child process reports. */
interface Sample {
  elapsedMs: number;
  /** ms from the start of the body to its first `mark()`: the time to get everything pending. */
  markMs: number | null;
  /** CPU time (user + system, all threads) of the child during the body, ms: less sensitive to a busy machine. */
  cpuMs: number;
  peakRssMB: number;
  startRssMB: number;
  heapAtPeakBytes: number | null;
  heapLeftBytes: number;
  /** What the body returned, if anything. */
  extra?: Record<string, number>;
}

/** A failed run has `atLeastMs` when it did not finish (gave up or ran out of heap): how long its body ran. */
type Outcome = { ok: true; sample: Sample } | { ok: false; error: string; atLeastMs: number | null };

/** What a variant that gives up throws (`within` in bench/_workload.ts). */
const GAVE_UP = /did not finish within ([\d,]+) ms/;
/** How a child that exhausts V8's heap fails. */
const OUT_OF_MEMORY = /heap out of memory/;
/** The line a child writes just before its body starts: the parent times a body that never ends from it. */
const BODY_START = 'body starts';

// ---------------------------------------------------------------- child side

async function child(workloadId: string, variantName: string, mode: Mode): Promise<void> {
  const variant = WORKLOADS.find((w) => w.id === workloadId)?.variants.find((v) => v.name === variantName);
  const n = WORKLOADS.find((w) => w.id === workloadId)?.n;
  if (variant === undefined || n === undefined)
    throw new Error(`unknown variant ${workloadId}/${variantName}`);
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('run node with --expose-gc');

  const body = await variant.load();
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const startRss = process.memoryUsage.rss();
  let markedAt: number | null = null;
  let heapAtPeak: number | null = null;
  const mark = () => {
    if (markedAt !== null) return;
    markedAt = performance.now();
    if (mode === 'time') return;
    gc();
    heapAtPeak = process.memoryUsage().heapUsed;
  };

  process.stdout.write(BODY_START + '\n');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const extra = await body(n, mark);
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const peakRssKB = process.resourceUsage().maxRSS;
  gc();
  const heapLeft = process.memoryUsage().heapUsed;
  if (mode === 'heap' && heapAtPeak === null) throw new Error('the variant never called mark()');

  const sample: Sample = {
    elapsedMs,
    markMs: markedAt === null ? null : markedAt - t0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMB: peakRssKB / 1024,
    startRssMB: startRss / MB,
    heapAtPeakBytes: heapAtPeak === null ? null : heapAtPeak - heapBefore,
    heapLeftBytes: heapLeft - heapBefore,
    ...(extra ? { extra } : {}),
  };
  // Exit at once: a variant that leaves a timer behind must not stall the run.
  process.stdout.write(JSON.stringify(sample) + '\n', () => process.exit(0));
}

// --------------------------------------------------------------- parent side

function runChild(w: Workload, variant: string, mode: Mode): Promise<Outcome> {
  const execArgv = process.execArgv.includes('--expose-gc')
    ? process.execArgv
    : [...process.execArgv, '--expose-gc'];
  const args = [...execArgv, fileURLToPath(import.meta.url), '--child', w.id, variant, mode];
  return new Promise((resolve) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let started: number | null = null;
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (started === null && out.includes(BODY_START)) started = performance.now();
    });
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{'))
        return resolve({ ok: true, sample: JSON.parse(line) as Sample });
      const lines = err.trim().split('\n');
      const why = lines.find((l) => /^\w*Error\b|^Error|FATAL|heap out of memory/.test(l)) ?? lines.pop();
      const limit = GAVE_UP.exec(err)?.[1];
      const atLeastMs =
        limit !== undefined
          ? Number(limit.replace(/,/g, ''))
          : OUT_OF_MEMORY.test(err) && started !== null
            ? performance.now() - started
            : null;
      resolve({ ok: false, error: `exit ${code ?? signal}: ${why || line || 'no output'}`, atLeastMs });
    });
  });
}

function stats(xs: number[]): Stats | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]! };
}

/** Median over rounds of a(round) / b(round), using only rounds where both succeeded. */
function pairedRatio(a: Outcome[], b: Outcome[], pick: (s: Sample) => number): number | null {
  const ratios: number[] = [];
  a.forEach((x, i) => {
    const y = b[i];
    if (x.ok && y?.ok) ratios.push(pick(x.sample) / pick(y.sample));
  });
  return stats(ratios)?.median ?? null;
}

/** Stats of each `extra` figure over the samples that have it. */
function extraStats(samples: Sample[]): Record<string, Stats> {
  const keys = new Set(samples.flatMap((s) => Object.keys(s.extra ?? {})));
  const out: Record<string, Stats> = {};
  for (const key of keys) {
    const st = stats(samples.flatMap((s) => (s.extra?.[key] === undefined ? [] : [s.extra[key]])));
    if (st !== null) out[key] = st;
  }
  return out;
}

/** `xs` in an order drawn from `random` (Fisher–Yates). */
function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const roundOutcome = (o: Outcome): RoundOutcome =>
  o.ok
    ? {
        ok: true,
        figures: {
          elapsed: o.sample.elapsedMs,
          cpu: o.sample.cpuMs,
          peakRss: o.sample.peakRssMB,
          rssGrowth: o.sample.peakRssMB - o.sample.startRssMB,
          extra: o.sample.extra ?? {},
        },
      }
    : o;

async function measure(w: Workload, runs: number, random: () => number): Promise<WorkloadResult> {
  const time = new Map<string, Outcome[]>(w.variants.map((v) => [v.name, []]));
  const heap = new Map<string, Outcome[]>(w.variants.map((v) => [v.name, []]));
  const orders: string[][] = [];
  for (let round = 1; round <= runs; round++) {
    const order = shuffled(
      w.variants.map((v) => v.name),
      random,
    );
    orders.push(order);
    for (const [mode, store] of [
      ['time', time],
      ['heap', heap],
    ] as const) {
      for (const name of order) {
        const o = await runChild(w, name, mode);
        store.get(name)!.push(o);
        const what = !o.ok
          ? `FAILED ${o.error}`
          : mode === 'time'
            ? `${int(o.sample.elapsedMs)} ms, peak RSS ${o.sample.peakRssMB.toFixed(1)} MB`
            : `heap at peak ${(o.sample.heapAtPeakBytes! / MB).toFixed(1)} MB`;
        console.error(`${w.id} round ${round}/${runs} ${mode} ${name}: ${what}`);
      }
    }
  }

  const base = time.get(w.baseline)!;
  const summaries = new Map<string, VariantSummary>();
  for (const v of w.variants) {
    const t = time.get(v.name)!;
    const h = heap.get(v.name)!;
    const ok = (os: Outcome[]) => os.flatMap((o) => (o.ok ? [o.sample] : []));
    const growth = (s: Sample) => s.peakRssMB - s.startRssMB;
    summaries.set(v.name, {
      name: v.name,
      runs: ok(t).length,
      failures: [...t, ...h].flatMap((o) => (o.ok ? [] : [o.error])),
      elapsed: stats(ok(t).map((s) => s.elapsedMs)),
      toPeak: stats(ok(t).map((s) => s.markMs ?? NaN)),
      cpu: stats(ok(t).map((s) => s.cpuMs)),
      peakRss: stats(ok(t).map((s) => s.peakRssMB)),
      rssGrowth: stats(ok(t).map(growth)),
      heapAtPeak: stats(ok(h).map((s) => s.heapAtPeakBytes ?? NaN)),
      heapLeft: stats(ok(h).map((s) => s.heapLeftBytes)),
      extra: extraStats(ok(t)),
      rounds: t.map(roundOutcome),
      elapsedRatio: pairedRatio(t, base, (s) => s.elapsedMs),
      peakRssRatio: pairedRatio(t, base, (s) => s.peakRssMB),
      rssGrowthRatio: pairedRatio(t, base, growth),
    });
  }
  return { workload: w, summaries, orders };
}

function sh(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function commandLine(argv: string[]): string {
  if (process.env.npm_lifecycle_event === 'bench') {
    const extra = argv.length ? ` -- ${argv.join(' ')}` : '';
    return `\`npm run bench${extra}\` (script: \`${process.env.npm_lifecycle_script ?? '?'}\`)`;
  }
  return `\`${['node', ...process.execArgv, 'bench/run.ts', ...argv].join(' ')}\``;
}

/** The commit measured and what differs from it (docs/benchmarks.md, the runner's own output, aside). */
function codeState(): { commit: string | null; dirty: string[] } {
  const commit = sh('git', ['rev-parse', '--short=12', 'HEAD']);
  // Paths only (no status columns, which trimming the output would cut into): changed against HEAD, and untracked.
  const changed = sh('git', ['diff', '--name-only', 'HEAD']) ?? '';
  const untracked = sh('git', ['ls-files', '--others', '--exclude-standard']) ?? '';
  const dirty = `${changed}\n${untracked}`
    .split('\n')
    .filter((path) => path.trim() !== '' && path !== 'docs/benchmarks.md');
  return { commit, dirty };
}

function printSummary(r: WorkloadResult, runs: number): void {
  const own = loadTargets().filter((t) => t.workload === r.workload.id);
  console.log(`\n${r.workload.id} — ${r.workload.title}\n`);
  for (const line of verdictLines(r, own, runs)) console.log(line);
}

// --------------------------------------------------------------------- main

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

const DOC = new URL('../docs/benchmarks.md', import.meta.url);

/** Rewrites the header and the table of contents of docs/benchmarks.md (and placeholders), measuring nothing. */
function rewriteContents(): void {
  writeFileSync(DOC, document(WORKLOADS, loadTargets(), [], null, readFileSync(DOC, 'utf8')));
  console.log('Rewrote the header and contents of docs/benchmarks.md');
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') return child(argv[1]!, argv[2]!, argv[3] as Mode);
  if (argv[0] === '--contents') return rewriteContents();

  const runs = Number(option(argv, '--runs') ?? 6);
  if (!Number.isInteger(runs) || runs < 1)
    throw new RangeError(`--runs must be a positive integer, received ${runs}`);
  const seed = Number(option(argv, '--seed') ?? randomInt(2 ** 31));
  if (!Number.isInteger(seed) || seed < 0)
    throw new RangeError(`--seed must be a non-negative integer, received ${seed}`);
  const only = option(argv, '--only')?.toUpperCase().split(',');
  const selected = WORKLOADS.filter((w) => only === undefined || only.includes(w.id));
  if (selected.length === 0)
    throw new RangeError(`--only matched no workload (have ${WORKLOADS.map((w) => w.id)})`);
  const write = !argv.includes('--no-write');
  const code = codeState();
  if (write && code.dirty.length > 0 && !argv.includes('--dirty')) {
    throw new Error(
      `the tree differs from HEAD (${code.dirty.join(', ')}): figures of uncommitted code are not results. ` +
        'Commit first, or pass --no-write (print only) or --dirty (write them marked as not a result).',
    );
  }

  const date = sh('date', ['-u']) ?? new Date().toUTCString();
  const loadStart = os.loadavg();
  const random = rng(seed);
  const results: WorkloadResult[] = [];
  const dirtyOk = argv.includes('--dirty');
  for (const w of selected) {
    const r = await measure(w, runs, random);
    printSummary(r, runs);
    results.push(r);
    // Each workload's section is written as soon as it is measured, so a run stopped part-way keeps
    // what it finished; the sections of one run share its date, command and seed.
    if (write)
      writeResults(
        results,
        { date, command: commandLine(argv), runs, load: [loadStart], seed },
        code,
        dirtyOk,
      );
  }
  if (!write) console.log('\ndocs/benchmarks.md not written (--no-write).');
  else console.log(`\nWrote ${selected.map((w) => w.id).join(', ')} into docs/benchmarks.md`);
}

/**
 * Writes the sections of `results` into docs/benchmarks.md. The tree must be the same as at the start:
 * code changed during the run is not what was measured.
 */
function writeResults(
  results: WorkloadResult[],
  run: Omit<RunMeta, 'load' | 'commit' | 'dirty'> & { load: [number[]] },
  code: { commit: string | null; dirty: string[] },
  dirtyOk: boolean,
): void {
  const dirty = [...code.dirty];
  const after = codeState();
  if (after.commit !== code.commit) dirty.push(`HEAD moved to ${after.commit} during the run`);
  for (const path of after.dirty) if (!dirty.includes(path)) dirty.push(`${path} (changed during the run)`);
  if (dirty.length > 0 && !dirtyOk) {
    throw new Error(`the tree changed during the run (${dirty.join(', ')}): docs/benchmarks.md not written.`);
  }
  const meta: RunMeta = { ...run, load: [run.load[0], os.loadavg()], ...code, dirty };
  const previous = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
  writeFileSync(DOC, document(WORKLOADS, loadTargets(), results, meta, previous));
}

await main(process.argv.slice(2));
