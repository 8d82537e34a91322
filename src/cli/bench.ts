/**
 * `tsaio bench`: the concurrency experiment of the Python asyncio notes (section 14). Ten
 * requests of `/delay/1`, three ways — one after another ("sync"), all at
 * once with `gather` ("async"), at most five at once with a `Semaphore`
 * ("rate-limited") — on one `ClientSession`, against the embedded test server
 * or `--url`. Prints the seed's table with the expected and the measured time;
 * `--html` writes a timeline of every request, `--json` the whole result for
 * machines. Progress goes to stderr while it runs (a live line on a terminal,
 * one line a mode elsewhere). Output paths are checked before the first
 * request; Ctrl-C prints what was measured so far and says it was interrupted.
 *
 * @module
 */

import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CancelledError, Semaphore, createTask, gather } from '../index.js';
import { ClientSession, startTestServer, type TestServer } from '../http/index.js';
import {
  EXIT,
  colorsFor,
  describeError,
  httpUrl,
  integerAtLeast,
  numberAtLeastZero,
  runCommand,
  seconds,
  outputFileProblem,
  type Colors,
} from './_common.js';
import { PhaseProgress, type Phase } from './_progress.js';
import { renderReport } from './report.js';

/** The three ways of the experiment. */
export type BenchMode = 'sync' | 'async' | 'limited';

/** One request of one mode; times in ms since the mode started. */
export interface RequestTiming {
  mode: BenchMode;
  /** 0-based position of the request in its mode. */
  index: number;
  /** When the request was issued (before waiting for a permit, in the limited mode). */
  queued: number;
  /** When it was sent. */
  start: number;
  /** When its body was read, or it failed. */
  end: number;
  status: number | null;
  error: string | null;
}

/** The outcome of one mode. */
export interface ModeResult {
  mode: BenchMode;
  /** The seed's name for it: `Sync`, `Async (unlimited)`, `Async (rate-limited 5)`. */
  label: string;
  /** The time the seed expects, in ms. */
  expected: number;
  /** The time it took, in ms. */
  elapsed: number;
  requests: RequestTiming[];
}

/** The outcome of a whole bench. */
export interface BenchResult {
  /** The URL every request fetched. */
  url: string;
  requests: number;
  /** The server's delay per request, in seconds. */
  delay: number;
  limit: number;
  /** True when the requests went to the embedded test server. */
  embedded: boolean;
  startedAt: Date;
  modes: ModeResult[];
}

/** Options of `runBench`. */
export interface BenchOptions {
  /** How many requests each mode makes (default 10). */
  requests?: number;
  /** The server's delay per request, in seconds (default 1). */
  delay?: number;
  /** The most requests at once in the limited mode (default 5). */
  limit?: number;
  /** Another server: a base URL (`/delay/<delay>` is appended) or a full URL with a path. */
  url?: string;
  /** The time limit of one request, in ms (default 60,000). */
  timeout?: number;
  /** Cancels the run. */
  signal?: AbortSignal;
  /** Called as each mode begins, with the time the seed expects of it (ms). */
  onModeStart?: (mode: BenchMode, expected: number) => void;
  /** Called as each request ends (its body read, or failed). */
  onRequest?: (timing: RequestTiming) => void;
  /** Called as each mode ends. */
  onMode?: (result: ModeResult) => void;
  /** Called once the target URL is known, before the first request. */
  onStart?: (url: string) => void;
}

/** The URL the bench fetches: `base` as given if it has a path, else `base/delay/<delay>`. */
export function benchUrl(base: string, delay: number): string {
  const url = new URL(base);
  if (url.pathname !== '/' && url.pathname !== '') return url.href;
  return new URL(`/delay/${seconds(delay, 3)}`, url).href;
}

/** The seed's expectation for each mode, in ms: n·d, d, ⌈n/limit⌉·d. */
export function expectedMs(mode: BenchMode, requests: number, delay: number, limit: number): number {
  const d = delay * 1000;
  if (mode === 'sync') return requests * d;
  if (mode === 'async') return requests > 0 ? d : 0;
  return Math.ceil(requests / limit) * d;
}

/** The seed's label of a mode. */
export function modeLabel(mode: BenchMode, limit: number): string {
  return mode === 'sync' ? 'Sync' : mode === 'async' ? 'Async (unlimited)' : `Async (rate-limited ${limit})`;
}

/**
 * Runs the experiment: the same requests sequentially, all concurrently, and
 * at most `limit` at once, on one `ClientSession`. Starts the embedded test
 * server unless `url` is given. Failed requests are recorded, not thrown.
 */
export async function runBench(opts: BenchOptions = {}): Promise<BenchResult> {
  const requests = opts.requests ?? 10;
  const delay = opts.delay ?? 1;
  const limit = opts.limit ?? 5;
  const signal = opts.signal;
  let server: TestServer | null = null;
  try {
    if (opts.url === undefined) server = await startTestServer();
    const url = benchUrl(opts.url ?? server!.url, delay);
    opts.onStart?.(url);
    await using session = new ClientSession({
      limit: Math.max(100, requests),
      timeout: { total: opts.timeout ?? 60_000 },
    });
    const result: BenchResult = {
      url,
      requests,
      delay,
      limit,
      embedded: server !== null,
      startedAt: new Date(),
      modes: [],
    };

    const measure = async (
      mode: BenchMode,
      body: (
        one: (index: number, s: AbortSignal | undefined, queued?: number) => Promise<RequestTiming>,
      ) => Promise<unknown>,
    ): Promise<void> => {
      const timings: RequestTiming[] = [];
      opts.onModeStart?.(mode, expectedMs(mode, requests, delay, limit));
      const t0 = performance.now();
      const one = async (
        index: number,
        s: AbortSignal | undefined,
        queued = performance.now(),
      ): Promise<RequestTiming> => {
        const timing: RequestTiming = {
          mode,
          index,
          queued: queued - t0,
          start: performance.now() - t0,
          end: 0,
          status: null,
          error: null,
        };
        timings.push(timing);
        try {
          await using res = await session.get(url, { signal: s });
          await res.bytes();
          timing.status = res.status;
          if (!res.ok) timing.error = `HTTP ${res.status}`;
        } catch (error) {
          if (s?.aborted) throw error;
          timing.error = describeError(error);
        } finally {
          timing.end = performance.now() - t0;
        }
        opts.onRequest?.(timing);
        return timing;
      };
      await body(one);
      const elapsed = performance.now() - t0;
      timings.sort((a, b) => a.index - b.index);
      const done: ModeResult = {
        mode,
        label: modeLabel(mode, limit),
        expected: expectedMs(mode, requests, delay, limit),
        elapsed,
        requests: timings,
      };
      result.modes.push(done);
      opts.onMode?.(done);
    };
    const indexes = Array.from({ length: requests }, (_, i) => i);

    // ① Sync: one request after another, each awaited in turn.
    await measure('sync', async (one) => {
      for (const i of indexes) await one(i, signal);
    });
    // ② Async: all of them at once (named tasks, so that a trace shows which is which).
    await measure('async', (one) =>
      gather(
        indexes.map((i) => createTask((s) => one(i, s), { name: `async #${i + 1}`, signal })),
        { signal },
      ),
    );
    // ③ Rate-limited async: a Semaphore lets `limit` through at a time.
    const sem = new Semaphore(limit);
    await measure('limited', (one) =>
      gather(
        indexes.map((i) =>
          createTask(
            async (s) => {
              const queued = performance.now();
              return sem.run(() => one(i, s, queued), { signal: s });
            },
            { name: `limited #${i + 1}`, signal },
          ),
        ),
        { signal },
      ),
    );
    return result;
  } finally {
    await server?.close();
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/** The visible length of `text` (ANSI colour codes not counted). */
function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

/** Right-pads `text` to `width` visible characters. */
function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)));
}

/** True when `elapsed` is within 10% (plus 100 ms) of `expected`. */
export function onTarget(mode: ModeResult): boolean {
  return mode.elapsed <= mode.expected * 1.1 + 100;
}

/**
 * The seed's table — `| Method | Expected | Measured |` — as Markdown with
 * aligned columns; the measured time is green when on target, yellow when
 * slower, red when a request failed.
 */
export function formatTable(result: BenchResult, colors: Colors): string {
  const rows = result.modes.map((m) => {
    const failed = m.requests.filter((r) => r.error !== null).length;
    const measured = `${(m.elapsed / 1000).toFixed(2)}s`;
    const paint = failed > 0 ? colors.red : onTarget(m) ? colors.green : colors.yellow;
    return [
      m.label,
      `≈ ${seconds(m.expected / 1000, 1)}s`,
      paint(failed > 0 ? `${measured} (${failed} failed)` : measured),
    ];
  });
  const header = ['Method', 'Expected', 'Measured'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => visibleLength(r[c]!))));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => pad(c, widths[i]!)).join(' | ')} |`;
  return [
    line(header.map((h) => colors.bold(h))),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

/** One mode in `tsaio bench --json`; times in ms from the mode's start. */
export interface BenchJsonMode {
  mode: BenchMode;
  label: string;
  expectedMs: number;
  elapsedMs: number;
  /** Within 10% (plus 100 ms) of the expected time. */
  onTarget: boolean;
  /** Requests that failed. */
  failed: number;
  requests: {
    index: number;
    /** When it was issued (it may wait for a permit until `startMs`). */
    queuedMs: number;
    startMs: number;
    endMs: number;
    status: number | null;
    error: string | null;
  }[];
}

/** What `tsaio bench --json` writes: the whole run, for machines. */
export interface BenchJson {
  url: string;
  requests: number;
  /** The server's delay per request, in seconds. */
  delay: number;
  limit: number;
  embedded: boolean;
  /** ISO 8601. */
  startedAt: string;
  nodeVersion: string;
  /** True when Ctrl-C stopped the run: `modes` holds the modes that ended. */
  interrupted: boolean;
  /** Every mode ran and no request failed. */
  ok: boolean;
  modes: BenchJsonMode[];
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

/**
 * `result` as `tsaio bench --json` writes it.
 *
 * @example
 * ```ts
 * const result = await runBench({ requests: 2, delay: 0.01 });
 * console.log(benchJson(result, false).modes.length); // 3
 * ```
 */
export function benchJson(result: BenchResult, interrupted: boolean): BenchJson {
  const modes = result.modes.map((m): BenchJsonMode => ({
    mode: m.mode,
    label: m.label,
    expectedMs: m.expected,
    elapsedMs: round(m.elapsed),
    onTarget: onTarget(m),
    failed: m.requests.filter((r) => r.error !== null).length,
    requests: m.requests.map((r) => ({
      index: r.index,
      queuedMs: round(r.queued),
      startMs: round(r.start),
      endMs: round(r.end),
      status: r.status,
      error: r.error,
    })),
  }));
  return {
    url: result.url,
    requests: result.requests,
    delay: result.delay,
    limit: result.limit,
    embedded: result.embedded,
    startedAt: result.startedAt.toISOString(),
    nodeVersion: process.version,
    interrupted,
    ok: !interrupted && modes.length === 3 && modes.every((m) => m.failed === 0),
    modes,
  };
}

/** What `tsaio bench` takes on the command line. */
interface BenchFlags {
  requests: number;
  delay: number;
  limit: number;
  url?: string;
  html?: string;
  trace?: string;
  timeout: number;
  json?: boolean;
  progress: boolean;
}

/** Adds `tsaio bench` to `program`. */
export function registerBench(program: Command): Command {
  return program
    .command('bench')
    .description(
      'the concurrency experiment: N requests of /delay/D one after another (≈ N·D), all at once (≈ D), and at most L at once (≈ ⌈N/L⌉·D); prints expected vs measured times',
    )
    .option('-n, --requests <n>', 'requests in each mode', integerAtLeast(1), 10)
    .option('-d, --delay <seconds>', "the server's delay per request", numberAtLeastZero(), 1)
    .option('-l, --limit <n>', 'most requests at once in the rate-limited mode', integerAtLeast(1), 5)
    .option(
      '-u, --url <url>',
      'another httpbin-style server instead of the embedded one (a base URL gets /delay/D appended)',
      httpUrl,
    )
    .option('--html <file>', 'write an HTML timeline of every request to <file>')
    .option(
      '--trace <file>',
      'write a trace of every task and wait to <file> (Chrome trace format: open it in Perfetto)',
    )
    .option('--timeout <seconds>', 'time limit of one request', numberAtLeastZero(true), 60)
    .option('--json', 'write the result as one JSON document on stdout (times in ms), no table')
    .option('--no-progress', 'no progress on stderr (live on a terminal, else one line a mode)')
    .addHelpText(
      'after',
      '\nOutput paths (--html, --trace) are checked before the first request. Ctrl-C stops the\n' +
        'run, prints the modes measured so far and exits 130.\n' +
        '\nExample:\n  $ tsaio bench                      # 10 × /delay/1, limit 5: ≈ 10s, 1s, 2s\n' +
        '  $ tsaio bench -n 20 -l 4 --html report.html --trace trace.json\n' +
        "  $ tsaio bench --json | jq '.modes[] | [.label, .elapsedMs]'",
    )
    .action(async (flags: BenchFlags, command: Command) => {
      for (const [flag, path] of [
        ['--html', flags.html],
        ['--trace', flags.trace],
      ] as const) {
        const problem = path === undefined ? null : outputFileProblem(path);
        if (problem !== null) command.error(`error: ${flag} ${path}: ${problem}`, { exitCode: EXIT.USAGE });
      }
      const trace = flags.trace;
      process.exitCode = await runCommand(
        (signal) => bench(flags, signal),
        trace === undefined ? {} : { trace },
      );
      // run() writes the trace as it ends, so this comes after.
      if (trace !== undefined && (process.exitCode === EXIT.OK || process.exitCode === EXIT.FAILURE)) {
        const info = flags.json === true ? process.stderr : process.stdout;
        info.write(`Trace written to ${trace} (open it in https://ui.perfetto.dev)\n`);
      }
    });
}

/** The progress line's words for each mode. */
function phaseOf(mode: BenchMode, flags: BenchFlags, expected: number): Phase {
  const n = `${flags.requests} request${flags.requests === 1 ? '' : 's'}`;
  const what =
    mode === 'sync'
      ? `${n} one after another`
      : mode === 'async'
        ? `${n} at once`
        : `${n}, at most ${flags.limit} at once`;
  return { title: modeLabel(mode, flags.limit), what, total: flags.requests, expected };
}

async function bench(flags: BenchFlags, signal: AbortSignal): Promise<number> {
  const json = flags.json === true;
  const colors = colorsFor(process.stdout);
  const out = (text: string): boolean => process.stdout.write(`${text}\n`);
  // With --json, stdout holds the document only: what a person reads goes to stderr.
  const info = (text: string): boolean => (json ? process.stderr : process.stdout).write(`${text}\n`);
  const names: Record<BenchMode, string> = { sync: 'Sync', async: 'Async', limited: 'Rate-limited async' };
  const progress = new PhaseProgress(process.stderr, flags.progress);
  // What was measured so far, for Ctrl-C.
  const partial: BenchResult = {
    url: '',
    requests: flags.requests,
    delay: flags.delay,
    limit: flags.limit,
    embedded: flags.url === undefined,
    startedAt: new Date(),
    modes: [],
  };
  let result: BenchResult;
  try {
    result = await runBench({
      requests: flags.requests,
      delay: flags.delay,
      limit: flags.limit,
      timeout: flags.timeout * 1000,
      signal,
      ...(flags.url === undefined ? {} : { url: flags.url }),
      onStart: (url) => {
        partial.url = url;
        if (json) return;
        out(
          colors.dim(
            `${flags.requests} requests of ${url}${flags.url === undefined ? ' (embedded test server)' : ''}, limit ${flags.limit}`,
          ),
        );
      },
      onModeStart: (mode, expected) => progress.start(phaseOf(mode, flags, expected)),
      onRequest: () => progress.step(),
      onMode: (m) => {
        progress.end();
        partial.modes.push(m);
        if (!json) out(`${names[m.mode]} elapsed: ${(m.elapsed / 1000).toFixed(1)}s`);
      },
    });
  } catch (error) {
    const current = progress.current;
    progress.end();
    if (error instanceof CancelledError && signal.aborted) interrupted(partial, current, json, colors);
    throw error;
  }
  if (json) out(JSON.stringify(benchJson(result, false), null, 2));
  else {
    out('');
    out(formatTable(result, colors));
  }
  if (flags.html !== undefined) {
    await writeFile(flags.html, renderReport(result), { signal });
    info(`${json ? '' : '\n'}Timeline written to ${flags.html}`);
  }
  const failed = result.modes.reduce((n, m) => n + m.requests.filter((r) => r.error !== null).length, 0);
  if (failed > 0) {
    const first = result.modes.flatMap((m) => m.requests).find((r) => r.error !== null);
    process.stderr.write(
      `${colorsFor(process.stderr).red('error:')} ${failed} request(s) failed; first: ${first?.error}\n`,
    );
    return EXIT.FAILURE;
  }
  return EXIT.OK;
}

/** Ctrl-C: the modes measured so far (table or JSON) on stdout, and where it stopped on stderr. */
function interrupted(
  partial: BenchResult,
  current: PhaseProgress['current'],
  json: boolean,
  colors: Colors,
): void {
  if (json) process.stdout.write(`${JSON.stringify(benchJson(partial, true), null, 2)}\n`);
  else if (partial.modes.length > 0) process.stdout.write(`\n${formatTable(partial, colors)}\n`);
  const where =
    current === null
      ? ''
      : ` during ${current.phase.title} (${current.done}/${current.phase.total} requests done)`;
  const measured =
    partial.modes.length === 0
      ? 'nothing measured'
      : `measured: ${partial.modes.map((m) => modeLabel(m.mode, partial.limit)).join(', ')}`;
  process.stderr.write(`${colorsFor(process.stderr).yellow('interrupted')}${where}; ${measured}\n`);
}
