/**
 * `tsaio fetch`: fetches many URLs (a file, or stdin, one per line)
 * concurrently on one `ClientSession` and writes one JSON line per URL —
 * `{"url","status","bytes","ms","error"}` — as each finishes, then a summary
 * on stderr. Ctrl-C cancels the requests in flight and keeps every line
 * already written. A body larger than `--max-body-size` (default 100 MiB) is
 * an error record: an endless body cannot keep a request going until its
 * timeout.
 *
 * As curl: a line without a scheme (`localhost:8080/get`) is an `http://`
 * URL; `-d/--data` (text, `@file`, `@-` for stdin) and `--json` send a body
 * with every request (POST unless `-X` says otherwise); `--fail` counts a
 * status >= 400 as a failure. Exit status: 0 when every URL succeeded, 1 when
 * any failed (or the command could not run), 2 for bad arguments, 130 on
 * Ctrl-C.
 *
 * @module
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { CancelledError, ExceptionGroup, RateLimiter, Semaphore, taskGroup } from '../index.js';
import { ClientSession } from '../http/index.js';
import {
  EXIT,
  UsageError,
  colorsFor,
  describeError,
  integerAtLeast,
  numberAtLeastZero,
  runCommand,
  type Colors,
} from './_common.js';
import { explainError } from './_explain.js';

/** One line of output: what became of one URL. */
export interface FetchRecord {
  url: string;
  /** The response's status, or `null` if there was no response. */
  status: number | null;
  /** Bytes of body read. */
  bytes: number;
  /** From sending the request to the end of its body (or the failure), in ms. */
  ms: number;
  /** Why there was no (complete) response, else `null`. */
  error: string | null;
}

/** Counts and latency of a set of records. */
export interface FetchSummary {
  total: number;
  /** Records with an error (no response, or with `--fail` a status >= 400). */
  failed: number;
  /** Records per status (`"200"`, `"404"`, ...) and `"error"`. */
  byStatus: Record<string, number>;
  /** Latency percentiles of the records with a response, in ms (`null` if none). */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** Records per second of wall time. */
  rps: number;
  /** Wall time, in ms. */
  elapsed: number;
}

/** The nearest-rank `p`th percentile of ascending `sorted`, or `null` if empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Summarizes `records` fetched in `elapsed` ms. */
export function summarize(records: readonly FetchRecord[], elapsed: number): FetchSummary {
  const byStatus: Record<string, number> = {};
  for (const r of records) {
    const key = r.status === null ? 'error' : String(r.status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  const latencies = records
    .filter((r) => r.status !== null)
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  return {
    total: records.length,
    failed: records.filter((r) => r.error !== null).length,
    byStatus,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    rps: elapsed > 0 ? (records.length / elapsed) * 1000 : 0,
    elapsed,
  };
}

/** The summary as a few lines of text. */
export function formatSummary(s: FetchSummary, colors: Colors, interrupted = false): string {
  const keys = Object.keys(s.byStatus).sort((a, b) =>
    a === 'error' ? 1 : b === 'error' ? -1 : Number(a) - Number(b),
  );
  const paint = (key: string): ((text: string) => string) =>
    key === 'error' || Number(key) >= 500
      ? colors.red
      : Number(key) >= 400
        ? colors.yellow
        : Number(key) >= 300
          ? colors.cyan
          : colors.green;
  const statuses = keys.map((k) => paint(k)(`${k}: ${s.byStatus[k]}`)).join('  ') || '-';
  const lat = (v: number | null): string => (v === null ? '-' : `${v.toFixed(1)} ms`);
  const head = interrupted ? colors.yellow('interrupted: ') : '';
  const failed = s.failed > 0 ? colors.red(`, ${s.failed} of ${s.total} failed`) : '';
  return [
    `${head}${colors.bold(String(s.total))} URLs in ${(s.elapsed / 1000).toFixed(2)}s, ${s.rps.toFixed(1)} requests/s${failed}`,
    `  status   ${statuses}`,
    `  latency  p50 ${lat(s.p50)}  p90 ${lat(s.p90)}  p99 ${lat(s.p99)}`,
  ].join('\n');
}

/** Options of `fetchOne`. */
export interface FetchOneOptions {
  method?: string;
  headers?: Headers;
  /** The request body (sent as is; its content type comes from `headers`). */
  data?: Uint8Array | null;
  /** As curl's `--fail`: a status >= 400 makes the record an error (`HTTP 404`). */
  fail?: boolean;
  /** Says why a request failed (default: `explainError`). */
  explain?: (error: unknown) => string;
  /** Waits for a token before sending. */
  limiter?: RateLimiter | null;
  signal?: AbortSignal;
}

/** A scheme at the start of a URL: `http://`, `https://`, `ftp://`... */
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * The URL of a line of input, as curl reads it: without a scheme it is
 * `http://` (`localhost:8080/get` → `http://localhost:8080/get`). `error`
 * says why it cannot be fetched (not a URL, not http or https), else `null`.
 *
 * @example
 * ```ts
 * targetOf('127.0.0.1:8080/get'); // { url: 'http://127.0.0.1:8080/get', error: null }
 * targetOf('not a url'); // { url: 'not a url', error: 'invalid URL: not a url' }
 * ```
 */
export function targetOf(line: string): { url: string; error: string | null } {
  const url = SCHEME.test(line) ? line : `http://${line}`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url: line, error: `invalid URL: ${line}` };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { url: line, error: `unsupported URL scheme '${parsed.protocol}' (http and https only): ${line}` };
  }
  return { url, error: null };
}

/**
 * Fetches `url` and reads its body, counting the bytes. Never throws for a
 * failed request (bad URL, refused, timeout): the record says why. Rejects
 * only when `signal` aborts.
 */
export async function fetchOne(
  session: ClientSession,
  url: string,
  opts: FetchOneOptions = {},
): Promise<FetchRecord> {
  const { signal } = opts;
  const target = targetOf(url);
  const record: FetchRecord = { url: target.url, status: null, bytes: 0, ms: 0, error: target.error };
  if (target.error !== null) return record;
  await opts.limiter?.acquire(signal === undefined ? undefined : { signal });
  const start = performance.now();
  try {
    await using res = await session.request(opts.method ?? 'GET', target.url, {
      ...(opts.headers === undefined ? {} : { headers: opts.headers }),
      ...(opts.data == null ? {} : { data: opts.data }),
      ...(signal === undefined ? {} : { signal }),
    });
    record.status = res.status;
    if (opts.fail === true && res.status >= 400) record.error = `HTTP ${res.status}`;
    for await (const chunk of res) record.bytes += chunk.byteLength;
  } catch (error) {
    if (signal?.aborted) throw error;
    record.error = (opts.explain ?? explainError)(error);
  }
  record.ms = Math.round((performance.now() - start) * 10) / 10;
  return record;
}

/** The URLs of `text`, one a line; blank lines and `#` comments are skipped. */
export function urlLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** The URLs of a stream read line by line; ends early (without error) once `signal` aborts. */
async function* streamLines(input: Readable, signal: AbortSignal, seen: () => void): AsyncGenerator<string> {
  // The signal closes the interface (readline's own option), which ends the loop.
  const lines = createInterface({ input, crlfDelay: Infinity, signal });
  try {
    for await (const raw of lines) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      seen();
      yield line;
    }
  } finally {
    lines.close();
  }
}

/** Writes lines to a stream, waiting when it is full. */
class LineWriter {
  private _error: Error | null = null;
  /** Called once if the reader went away (EPIPE): the lines have nowhere to go. */
  onClosed: (() => void) | null = null;
  constructor(private readonly _stream: Writable) {
    _stream.on('error', (error: NodeJS.ErrnoException) => {
      this._error ??= error;
      if (error.code === 'EPIPE') this.onClosed?.();
    });
  }
  async write(line: string): Promise<void> {
    if (this._error !== null) throw this._error;
    if (!this._stream.write(`${line}\n`)) await once(this._stream, 'drain');
  }
  /** Ends a file stream once everything is written (stdout is left open). */
  async close(): Promise<void> {
    if (this._stream === process.stdout || this._error !== null) return;
    await new Promise<void>((resolve) => this._stream.end(resolve));
  }
}

/** What `tsaio fetch` takes on the command line. */
interface FetchFlags {
  concurrency: number;
  rate?: number;
  timeout: number;
  retries: number;
  method?: string;
  header: string[];
  data?: string[];
  json?: string;
  fail?: boolean;
  out?: string;
  progress: boolean;
  maxBodySize: number | null;
}

/** The default of `--max-body-size`: 100 MiB. */
export const DEFAULT_MAX_BODY_SIZE = 100 * 1024 * 1024;

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * A size on the command line: bytes, or a whole number with a `k`, `M` or
 * `G` suffix (1024-based, case-insensitive); `none` for no limit (`null`):
 * `64k` is 65,536, `100M` 104,857,600.
 */
export function parseSize(value: string): number | null {
  if (value.trim().toLowerCase() === 'none') return null;
  const match = /^\s*(\d+)\s*([kmg]?)i?b?\s*$/i.exec(value);
  if (match === null) {
    throw new InvalidArgumentError(`expected a size such as 65536, 64k, 100M or none, got '${value}'.`);
  }
  const bytes = Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(bytes)) throw new InvalidArgumentError(`'${value}' is too large.`);
  return bytes;
}

function collectHeader(value: string, previous: string[]): string[] {
  const at = value.indexOf(':');
  const name = at > 0 ? value.slice(0, at).trim() : '';
  if (at <= 0 || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new InvalidArgumentError(`expected 'Name: value', got '${value}'.`);
  }
  return [...previous, value];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** What `@-` (stdin), `@file` or plain text on the command line stands for. */
async function bodyPart(spec: string): Promise<Buffer> {
  if (spec === '@-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  if (spec.startsWith('@')) {
    const file = spec.slice(1);
    try {
      return await readFile(file);
    } catch (error) {
      throw new Error(`cannot read ${file}: ${describeError(error)}`, { cause: error });
    }
  }
  return Buffer.from(spec);
}

/** The request body of `-d/--data` or `--json`, and the headers they imply; `null` without one. */
async function requestBody(
  flags: FetchFlags,
  urlsFromStdin: boolean,
): Promise<{ data: Buffer; headers: Record<string, string> } | null> {
  const texts = flags.data ?? [];
  const specs = flags.json === undefined ? texts : [flags.json];
  if (flags.json !== undefined && texts.length > 0) {
    throw new UsageError('give either -d/--data or --json, not both');
  }
  if (specs.length === 0) return null;
  if (urlsFromStdin && specs.includes('@-')) {
    throw new UsageError(
      '@- reads the body from stdin: give the URLs in a file (tsaio fetch urls.txt -d @-)',
    );
  }
  const parts: Buffer[] = [];
  for (const spec of specs) parts.push(await bodyPart(spec));
  // As curl: several -d are joined with '&'.
  const data = Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from('&'), p])));
  const headers: Record<string, string> =
    flags.json === undefined
      ? { 'content-type': 'application/x-www-form-urlencoded' }
      : { 'content-type': 'application/json', accept: 'application/json' };
  return { data, headers };
}

function httpMethod(value: string): string {
  if (!/^[A-Za-z]+$/.test(value)) throw new InvalidArgumentError(`expected an HTTP method, got '${value}'.`);
  return value.toUpperCase();
}

/** Adds `tsaio fetch` to `program`. */
export function registerFetch(program: Command): Command {
  return program
    .command('fetch')
    .description('fetch many URLs concurrently (one per line, from a file or stdin); writes JSON Lines')
    .argument('[file]', "file of URLs, one per line ('-' or none: stdin)")
    .option('-c, --concurrency <n>', 'requests at once', integerAtLeast(1), 10)
    .option('-r, --rate <n>', 'at most n requests started per second', numberAtLeastZero(true))
    .option(
      '-t, --timeout <seconds>',
      'time limit of each request, body included',
      numberAtLeastZero(true),
      30,
    )
    .option(
      '--retries <n>',
      'retries of a failed request (connection errors, 429/502/503/504)',
      integerAtLeast(0),
      0,
    )
    .option('-X, --method <method>', 'HTTP method (default: GET, or POST with a body)', httpMethod)
    .option('-H, --header <header>', "extra request header 'Name: value' (repeatable)", collectHeader, [])
    .option(
      '-d, --data <data>',
      "request body: text, @file, or @- for stdin (repeatable, joined with '&'); form content type",
      collect,
    )
    .option('--json <data>', 'JSON request body: text, @file, or @- for stdin; JSON content type and accept')
    .option('-f, --fail', 'count an HTTP status >= 400 as a failure (as curl --fail)')
    .option('-o, --out <file>', 'write the JSON Lines to <file> instead of stdout')
    .option(
      '--max-body-size <size>',
      "largest body read per URL (bytes, or 64k, 100M, 1G; 'none': no limit); a larger one is an error",
      parseSize,
      DEFAULT_MAX_BODY_SIZE,
    )
    .option('--no-progress', 'no progress bar (shown on stderr when it is a terminal)')
    .addHelpText(
      'after',
      '\nA line without a scheme is http:// (localhost:8080/get). Each output line:\n' +
        '{"url","status","bytes","ms","error"}; a summary (counts by status, failures,\n' +
        'p50/p90/p99 latency, requests per second) goes to stderr. Ctrl-C stops and keeps\n' +
        'every line already written.\n' +
        '\nExit status: 0 when every URL got a response (with --fail: a status < 400),\n' +
        '1 when any failed (or the command could not run), 2 for bad arguments, 130 on Ctrl-C.\n' +
        '\nExamples:\n  $ tsaio fetch urls.txt -c 20 --rate 50 -o results.jsonl\n' +
        '  $ seq 100 | sed "s|^|127.0.0.1:8080/delay/|" | tsaio fetch -c 50 --fail\n' +
        '  $ tsaio fetch urls.txt --json \'{"name":"tsaio"}\'   # POSTs it to every URL',
    )
    .action(async (file: string | undefined, flags: FetchFlags) => {
      process.exitCode = await runCommand((signal) => fetchAll(file, flags, signal));
    });
}

async function fetchAll(file: string | undefined, flags: FetchFlags, signal: AbortSignal): Promise<number> {
  const colors = colorsFor(process.stderr);
  const fromStdin = file === undefined || file === '-';
  const body = await requestBody(flags, fromStdin);
  if (fromStdin && process.stdin.isTTY) {
    throw new UsageError('no URLs: give a file, or pipe them on stdin (tsaio fetch --help)');
  }
  let total = 0;
  let urls: string[] | null = null;
  if (!fromStdin) {
    try {
      urls = urlLines(await readFile(file, 'utf8'));
    } catch (error) {
      throw new Error(`cannot read ${file}: ${describeError(error)}`, { cause: error });
    }
    total = urls.length;
  }

  let writer: LineWriter;
  if (flags.out === undefined) writer = new LineWriter(process.stdout);
  else {
    // Not given the signal: an abort must not destroy the file, which keeps
    // the results written before it.
    // eslint-disable-next-line tsaio/pass-signal
    const stream = createWriteStream(flags.out);
    try {
      await once(stream, 'open', { signal });
    } catch (error) {
      if (signal.aborted) {
        stream.destroy();
        throw error;
      }
      throw new Error(`cannot write ${flags.out}: ${describeError(error)}`, { cause: error });
    }
    writer = new LineWriter(stream);
  }

  // The bar would be garbled by results printed on the same terminal.
  const showBar =
    flags.progress &&
    process.stderr.isTTY === true &&
    (flags.out !== undefined || process.stdout.isTTY !== true);
  const bar: cliProgress.SingleBar | null = showBar
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: ` {bar} {value}/{total} URLs | ${colors.red('{errors} errors')} | {rps} req/s | {duration_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;

  // The user's own Content-Type or Accept replaces the one a body implies.
  const named = new Set(flags.header.map((h) => h.slice(0, h.indexOf(':')).trim().toLowerCase()));
  const headers = new Headers();
  for (const [name, value] of Object.entries(body?.headers ?? {}))
    if (!named.has(name)) headers.set(name, value);
  for (const h of flags.header) {
    const at = h.indexOf(':');
    headers.append(h.slice(0, at).trim(), h.slice(at + 1).trim());
  }
  const method = flags.method ?? (body === null ? 'GET' : 'POST');
  const explain = (error: unknown): string => explainError(error, { timeout: flags.timeout });
  const limiter =
    flags.rate === undefined ? null : new RateLimiter({ rate: flags.rate, interval: 1000, burst: 1 });
  const records: FetchRecord[] = [];
  let errors = 0;
  const emit = async (record: FetchRecord): Promise<void> => {
    await writer.write(JSON.stringify(record));
    records.push(record);
    if (record.error !== null) errors++;
    const rps = (records.length / Math.max(1e-3, (performance.now() - started) / 1000)).toFixed(1);
    bar?.update(records.length, { errors, rps });
  };
  // Stops everything quietly when the reader of stdout goes away (`| head`).
  const outputClosed = new AbortController();
  writer.onClosed = () => outputClosed.abort();
  const started = performance.now();
  bar?.start(total, 0, { errors: 0, rps: '0.0' });
  let interrupted = false;
  try {
    await using session = new ClientSession({
      limit: flags.concurrency,
      timeout: { total: flags.timeout * 1000 },
      maxBodySize: flags.maxBodySize,
      retries: flags.retries,
      retryMethods: [method],
    });
    // The seed's pattern: a Semaphore lets `concurrency` requests run at once;
    // each writes its line the moment it ends.
    const permits = new Semaphore(flags.concurrency);
    await taskGroup(
      async (tg, group) => {
        const source =
          urls ??
          streamLines(process.stdin, group, () => {
            total++;
            bar?.setTotal(total);
          });
        for await (const url of source) {
          const held = await permits.acquire({ signal: group });
          tg.createTask(async (s) => {
            try {
              const record = await fetchOne(session, url, {
                method,
                headers,
                data: body?.data ?? null,
                fail: flags.fail === true,
                explain,
                limiter,
                signal: s,
              });
              await emit(record);
            } finally {
              held.release();
            }
          });
        }
      },
      { signal: AbortSignal.any([signal, outputClosed.signal]) },
    );
  } catch (error) {
    if (outputClosed.signal.aborted && !signal.aborted) return EXIT.OK;
    interrupted = error instanceof CancelledError;
    // A failure in the group (say, the output file's disk is full): its first error.
    throw error instanceof ExceptionGroup ? error.errors[0] : error;
  } finally {
    bar?.stop();
    await writer.close();
    if (fromStdin) process.stdin.destroy();
    const summary = summarize(records, performance.now() - started);
    process.stderr.write(`${formatSummary(summary, colors, interrupted)}\n`);
    if (flags.out !== undefined && records.length > 0) {
      process.stderr.write(colors.dim(`  results in ${flags.out}\n`));
    }
  }
  // As curl and xargs: a failure anywhere is a non-zero exit status.
  return errors > 0 ? EXIT.FAILURE : EXIT.OK;
}
