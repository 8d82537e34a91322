// The benchmark runner: `npm run bench [-- --runs N --only W2,W6 --no-write]`;
// `node --import tsx bench/run.ts --contents` rewrites the header and the
// table of contents of docs/benchmarks.md from its sections, measuring nothing.
//
// Every run of every variant happens in a fresh child process, so the peak
// RSS of one variant never includes another's. Variants are interleaved
// (A B C, A B C, ...) so that drift in the machine's speed hits all of them.
// Each round makes two kinds of run per variant:
//   time — measures elapsed ms and peak RSS; nothing is forced;
//   heap — forces a GC at the workload's peak (the variant's `mark`) to read
//          the live heap; its elapsed time is not used.
// The figures are medians (with min–max); ratios are the median over rounds
// of variant / baseline within the same round.
//
// Unless `--no-write` is given, the sections of the workloads measured are
// rewritten in docs/benchmarks.md; the other sections stay as they were.
//
// To profile one variant, run its child directly, e.g.
//   node --import tsx --expose-gc --cpu-prof bench/run.ts --child W2 tsaio-tasks time
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Stats, VariantSummary, Verdict, Workload } from './_workload.ts';
import { int, times } from './_workload.ts';
import { slug } from '../scripts/check-links.ts';
import { w2 } from './w2-tasks.ts';
import { w3 } from './w3-semaphore.ts';
import { w4 } from './w4-queue.ts';
import { w5 } from './w5-lock.ts';
import { w6 } from './w6-sleep.ts';
import { w7 } from './w7-http.ts';
import { w8 } from './w8-pg.ts';
import { w9 } from './w9-files.ts';
import { w10 } from './w10-cpu.ts';
import { w11 } from './w11-nats.ts';
import { w12 } from './w12-sqlite.ts';

const WORKLOADS: Workload[] = [w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12];
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

type Outcome = { ok: true; sample: Sample } | { ok: false; error: string };

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
    p.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{'))
        return resolve({ ok: true, sample: JSON.parse(line) as Sample });
      const lines = err.trim().split('\n');
      const why = lines.find((l) => /^\w*Error\b|^Error|FATAL|heap out of memory/.test(l)) ?? lines.pop();
      resolve({ ok: false, error: `exit ${code ?? signal}: ${why || line || 'no output'}` });
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

interface WorkloadResult {
  workload: Workload;
  summaries: Map<string, VariantSummary>;
  verdicts: Verdict[];
}

async function measure(w: Workload, runs: number): Promise<WorkloadResult> {
  const time = new Map<string, Outcome[]>(w.variants.map((v) => [v.name, []]));
  const heap = new Map<string, Outcome[]>(w.variants.map((v) => [v.name, []]));
  for (let round = 1; round <= runs; round++) {
    for (const [mode, store] of [
      ['time', time],
      ['heap', heap],
    ] as const) {
      for (const v of w.variants) {
        const o = await runChild(w, v.name, mode);
        store.get(v.name)!.push(o);
        const what = !o.ok
          ? `FAILED ${o.error}`
          : mode === 'time'
            ? `${int(o.sample.elapsedMs)} ms, peak RSS ${o.sample.peakRssMB.toFixed(1)} MB`
            : `heap at peak ${(o.sample.heapAtPeakBytes! / MB).toFixed(1)} MB`;
        console.error(`${w.id} round ${round}/${runs} ${mode} ${v.name}: ${what}`);
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
      elapsedByRound: t.map((o) => (o.ok ? o.sample.elapsedMs : null)),
      elapsedRatio: pairedRatio(t, base, (s) => s.elapsedMs),
      peakRssRatio: pairedRatio(t, base, (s) => s.peakRssMB),
      rssGrowthRatio: pairedRatio(t, base, growth),
    });
  }
  return { workload: w, summaries, verdicts: w.judge(summaries) };
}

// ------------------------------------------------------------------- report

const range = (s: Stats | null, f: (x: number) => string) =>
  s === null ? 'failed' : `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
const mb = (x: number) => x.toFixed(1);
const verdictWord = (v: Verdict) => (v.met === null ? 'not measured' : v.met ? 'met' : 'MISSED');
const asideWord = (v: Verdict) => (v.met === null ? 'not measured' : v.met ? 'yes' : 'no');

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

function section(r: WorkloadResult, meta: string): string {
  const w = r.workload;
  const failures = [...r.summaries.values()].flatMap((s) =>
    s.failures.map((f) => `- ${s.name} failed: ${f}`),
  );
  const targets = r.verdicts.filter((v) => v.aside !== true);
  const asides = r.verdicts.filter((v) => v.aside === true);
  return [
    `## ${w.id} — ${w.title}`,
    '',
    meta,
    '',
    `N = ${int(w.n)}. Baseline for the ratios: \`${w.baseline}\`. ${w.note}`,
    '',
    table(r),
    ...extraTable(r),
    '',
    '**Targets (from the issue)**',
    '',
    ...targets.map((v) => `- ${v.target}: **${verdictWord(v)}** — ${v.detail}`),
    ...(asides.length
      ? [
          '',
          '**Beside the targets**',
          '',
          ...asides.map((v) => `- ${v.target}: ${asideWord(v)} — ${v.detail}`),
        ]
      : []),
    ...(failures.length ? ['', '**Failed runs**', '', ...failures] : []),
    '',
    '**Variants**',
    '',
    ...w.variants.map((v) => `- \`${v.name}\`: \`${v.code}\``),
    '',
  ].join('\n');
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

/** The run's circumstances, written under each section it measured. */
interface RunMeta {
  date: string;
  command: string;
  runs: number;
  load: string;
}

function runLines(meta: RunMeta): string[] {
  const cpus = os.cpus();
  const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['status', '--porcelain', '--', 'src']);
  const code =
    commit === null
      ? 'no commit yet (working tree)'
      : `${commit}${dirty ? ' with uncommitted changes in src/' : ''}`;
  return [
    `- Measured: ${meta.date}, ${meta.runs} round${meta.runs === 1 ? '' : 's'}`,
    `- Command: ${meta.command}`,
    `- Node: ${process.version} (V8 ${process.versions.v8}), ${process.platform} ${os.release()}`,
    `- CPU: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores; RAM ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    `- Load average (1 min) at start / end of the run: ${meta.load}`,
    `- Code: ${code}`,
  ];
}

const HEADER = [
  '# Benchmarks',
  '',
  'Written by `bench/run.ts` (`npm run bench`); do not edit by hand. Each section says when and how',
  'it was measured; every figure in a section comes from that one run, with all its variants',
  'side by side. `npm run bench -- --only W3` measures one workload again and rewrites only its',
  'section.',
  '',
  '## How to read it',
  '',
  '- Each section is one workload of an issue (W2 … W12): what is measured, its table, the',
  "  issue's targets with **met** or **MISSED** and the figures behind the verdict, and the code of",
  '  every variant. The table of contents below repeats every verdict.',
  '- Read the ratio columns (`× baseline`) first: both figures of a ratio come from the same round,',
  '  so a machine that is slower for a while slows both. Absolute times depend on the machine and',
  '  on its load, which each section records; the CPU column is the better guide on a busy machine.',
  '- A variant that could not finish (a peer that runs out of memory or gives up after a limit) is',
  '  listed under **Failed runs** with the reason, and counts as behind.',
  '- Where a target is an absolute time that even the raw Node floor misses on this machine, the',
  '  section gives the ratio to that floor, measured in the same run, as well.',
  '',
  '## Method',
  '',
  '- In each round every variant runs once in a fresh child process for',
  '  timing, then once more in a fresh child process for the heap figure. Variants run in a fixed',
  '  order inside each round (A B C, A B C, ...) so that drift in machine speed hits all of them.',
  '- Figures are the median over rounds, with min–max in parentheses. A ratio `× raw` is the',
  '  median over rounds of (variant / baseline) with both measured in the same round.',
  '- **elapsed ms**: wall time of the workload body (`performance.now()`), excluding process',
  '  start-up and module loading. **ms to peak**: from the start of the body to the moment',
  '  everything is pending (the first `mark()`, see below). **CPU ms**: user + system CPU time of',
  '  the child (all its threads, GC helpers included) during the body; less sensitive than',
  '  elapsed time to other processes on the machine.',
  '- **peak RSS MB**: `process.resourceUsage().maxRSS` of the child at the end; it includes the',
  '  Node + tsx start-up footprint, which **RSS growth** (peak RSS minus RSS just before the body)',
  '  leaves out.',
  '- **live heap at peak**: in the heap run, the variant calls `mark()` once everything is',
  '  pending; `mark` forces a full GC and reads `heapUsed`. The figure is that minus `heapUsed`',
  '  (after a forced GC) just before the body, divided by N.',
  '- **heap left after**: `heapUsed` after the body and a forced GC, minus the same before: what',
  '  the workload leaves behind.',
  '',
].join('\n');

/** The sections of an existing docs/benchmarks.md, by workload id (`W3`), each with its text. */
function oldSections(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  const parts = text.split(/^(?=## W\d+ — )/m);
  for (const part of parts.slice(1)) {
    const id = /^## (W\d+) — /.exec(part)![1]!;
    sections.set(id, part.replace(/\n+$/, '\n'));
  }
  return sections;
}

/** The table of contents: a link to each section, with the verdicts written in it. */
function contents(ids: string[], sections: Map<string, string>): string {
  const lines = ['## Contents', ''];
  for (const id of ids) {
    const text = sections.get(id)!;
    const heading = text.slice(3, text.indexOf('\n'));
    const measured = /^- Measured: (.*)$/m.exec(text)?.[1] ?? 'not measured';
    lines.push(`- [${heading}](#${slug(heading)}) — measured ${measured}`);
    for (const m of text.matchAll(/^- (.+?): \*\*(met|MISSED|not measured)\*\*/gm)) {
      lines.push(`  - ${m[1]}: **${m[2]}**`);
    }
  }
  return [...lines, ''].join('\n');
}

/** docs/benchmarks.md with the sections of `results` new and every other section kept as it was. */
function document(results: WorkloadResult[], meta: RunMeta, previous: string): string {
  const sections = oldSections(previous);
  const measured = runLines(meta).join('\n');
  for (const r of results) sections.set(r.workload.id, section(r, measured));
  const order = [...WORKLOADS.map((w) => w.id), ...[...sections.keys()].sort()];
  const ids = [...new Set(order)].filter((id) => sections.has(id));
  return [HEADER, contents(ids, sections), ...ids.map((id) => sections.get(id)!)].join('\n');
}

function printSummary(r: WorkloadResult): void {
  console.log(`\n${r.workload.id} — ${r.workload.title}\n`);
  console.log(table(r));
  for (const line of extraTable(r)) console.log(line);
  for (const v of r.verdicts)
    console.log(`  ${v.target}: ${(v.aside ? asideWord : verdictWord)(v)} — ${v.detail}`);
}

// --------------------------------------------------------------------- main

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

const DOC = new URL('../docs/benchmarks.md', import.meta.url);

/** Rewrites the header and the table of contents of docs/benchmarks.md, measuring nothing. */
function rewriteContents(): void {
  const meta = { date: '', command: '', runs: 0, load: '' };
  writeFileSync(DOC, document([], meta, readFileSync(DOC, 'utf8')));
  console.log('Rewrote the header and contents of docs/benchmarks.md');
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--child') return child(argv[1]!, argv[2]!, argv[3] as Mode);
  if (argv[0] === '--contents') return rewriteContents();

  const runs = Number(option(argv, '--runs') ?? 5);
  if (!Number.isInteger(runs) || runs < 1)
    throw new RangeError(`--runs must be a positive integer, received ${runs}`);
  const only = option(argv, '--only')?.toUpperCase().split(',');
  const selected = WORKLOADS.filter((w) => only === undefined || only.includes(w.id));
  if (selected.length === 0)
    throw new RangeError(`--only matched no workload (have ${WORKLOADS.map((w) => w.id)})`);

  const date = sh('date', ['-u']) ?? new Date().toUTCString();
  const loadStart = os.loadavg()[0]!.toFixed(2);
  const results: WorkloadResult[] = [];
  for (const w of selected) {
    const r = await measure(w, runs);
    printSummary(r);
    results.push(r);
  }
  const load = `${loadStart} / ${os.loadavg()[0]!.toFixed(2)}`;

  if (argv.includes('--no-write')) {
    console.log('\ndocs/benchmarks.md not written (--no-write).');
    return;
  }
  const previous = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
  writeFileSync(DOC, document(results, { date, command: commandLine(argv), runs, load }, previous));
  console.log(`\nWrote ${selected.map((w) => w.id).join(', ')} into docs/benchmarks.md`);
}

await main(process.argv.slice(2));
