/**
 * `tsaio bench`: the seed's performance experiment (section 14). Ten
 * requests of `/delay/1`, three ways — one after another ("sync"), all at
 * once with `gather` ("async"), at most five at once with a `Semaphore`
 * ("rate-limited") — on one `ClientSession`, against the embedded test server
 * or `--url`. Prints the seed's table with the expected and the measured time;
 * `--html` writes a timeline of every request.
 *
 * @module
 */

import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Semaphore, createTask, gather } from '../index.js';
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
  type Colors,
} from './_common.js';
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

/** What `tsaio bench` takes on the command line. */
interface BenchFlags {
  requests: number;
  delay: number;
  limit: number;
  url?: string;
  html?: string;
  trace?: string;
  timeout: number;
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
    .addHelpText(
      'after',
      '\nExample:\n  $ tsaio bench                      # 10 × /delay/1, limit 5: ≈ 10s, 1s, 2s\n  $ tsaio bench -n 20 -l 4 --html report.html --trace trace.json',
    )
    .action(async (flags: BenchFlags) => {
      const trace = flags.trace;
      process.exitCode = await runCommand(
        (signal) => bench(flags, signal),
        trace === undefined ? {} : { trace },
      );
      // run() writes the trace as it ends, so this comes after.
      if (trace !== undefined)
        process.stdout.write(`Trace written to ${trace} (open it in https://ui.perfetto.dev)\n`);
    });
}

async function bench(flags: BenchFlags, signal: AbortSignal): Promise<number> {
  const colors = colorsFor(process.stdout);
  const out = (text: string): boolean => process.stdout.write(`${text}\n`);
  const names: Record<BenchMode, string> = { sync: 'Sync', async: 'Async', limited: 'Rate-limited async' };
  const result = await runBench({
    requests: flags.requests,
    delay: flags.delay,
    limit: flags.limit,
    timeout: flags.timeout * 1000,
    signal,
    ...(flags.url === undefined ? {} : { url: flags.url }),
    onStart: (url) =>
      out(
        colors.dim(
          `${flags.requests} requests of ${url}${flags.url === undefined ? ' (embedded test server)' : ''}, limit ${flags.limit}`,
        ),
      ),
    onMode: (m) => out(`${names[m.mode]} elapsed: ${(m.elapsed / 1000).toFixed(1)}s`),
  });
  out('');
  out(formatTable(result, colors));
  if (flags.html !== undefined) {
    await writeFile(flags.html, renderReport(result));
    out(`\nTimeline written to ${flags.html}`);
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
