/**
 * An httpbin-style test server on `node:http`: the embedded default that lets
 * every example, test and benchmark run with no internet. `tsaio serve`
 * runs it from the command line.
 *
 * Routes: `/get`, `/post` (echo, any method), `/json`, `/headers`, `/ip`, `/uuid`,
 * `/delay/:seconds`, `/status/:code`, `/bytes/:n`, `/stream/:n`,
 * `/drip?numbytes=&duration=&delay=` (a slow body), `/redirect/:n`,
 * `/redirect-to?url=&status_code=`.
 *
 * Made to be hammered: parameters are capped as httpbin caps them (a delay
 * or a drip's duration at 10 s, a drip at 10 MiB, a stream at 100 lines; our
 * `/bytes` goes to 100 MiB), a parameter that is not a number answers 400, a
 * request body over `maxBodySize` answers 413 without being read, every
 * body is written in chunks that wait for the socket to drain, and its
 * waits are on tsaio's clock with one `'close'` listener per request.
 *
 * @module
 */

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getRunningLoop, type TimerHandle } from '../events.js';

/** Options of `startTestServer`. */
export interface TestServerOptions {
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** The largest request body read (by `/post`, `/put`, ...), in bytes (default 10 MiB); a larger one gets 413. */
  maxBodySize?: number;
  /**
   * Called with one access-log line per request once it is done (default:
   * none): `127.0.0.1 "GET /get HTTP/1.1" 200 312 0.4 ms` — client, request
   * line, status, bytes written (headers included), time taken; `aborted`
   * at the end when the client left first.
   */
  log?: (line: string) => void;
}

/** A running test server. */
export interface TestServer extends AsyncDisposable {
  /** Its base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** Sockets open now. */
  readonly connections: number;
  /** Sockets opened since the start. */
  readonly totalConnections: number;
  /** Requests served since the start. */
  readonly requests: number;
  /** Most sockets open at the same time. */
  readonly peakConnections: number;
  /** Stops listening and closes every socket. */
  close(): Promise<void>;
}

/** httpbin's cap of `/delay` (and ours of a drip's duration and delay), in seconds. */
const MAX_SECONDS = 10;
/** httpbin's cap of `/drip`. */
const MAX_DRIP_BYTES = 10 * 1024 * 1024;
/** httpbin's cap of `/stream`. */
const MAX_STREAM_LINES = 100;
/** Ours of `/bytes` (httpbin's is 100 KiB; the tests and benchmarks read more). */
const MAX_BYTES = 100 * 1024 * 1024;
const DEFAULT_MAX_BODY = 10 * 1024 * 1024;
/** The largest piece of a body written at once. */
const PIECE = 64 * 1024;
/** A drip sends at most one write per this many ms: a fast drip sends several bytes a write. */
const DRIP_TICK_MS = 10;
/** How long, and how many bytes, the rest of an upload refused with 413 is read and dropped before the connection is closed. */
const LINGER_MS = 2_000;
const LINGER_BYTES = 64 * 1024 * 1024;
const STARS = Buffer.alloc(PIECE, 0x2a);
const LETTERS = Buffer.alloc(PIECE, 0x61);

/** A request the server refuses with `status` (400: a bad parameter, 413: a body too large). */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One request's waits (a delay, the socket draining), on tsaio's clock, with
 * one `'close'` listener for all of them: when the client leaves, the wait in
 * progress ends at once and every later one is skipped.
 */
class Waits {
  closed = false;
  private _timer: TimerHandle | null = null;
  private _wake: (() => void) | null = null;
  private readonly _onDrain = (): void => this._resume();

  constructor(
    private readonly _res: ServerResponse,
    private readonly _all: Set<Waits>,
  ) {
    _all.add(this);
    _res.once('close', () => this.cancel());
  }

  /** Resolves after `ms`, or as soon as the client leaves. */
  sleep(ms: number): Promise<void> {
    if (this.closed || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      this._wake = resolve;
      this._timer = getRunningLoop().callLater(ms, () => {
        this._timer = null;
        this._resume();
      });
    });
  }

  /** Writes `chunk`; resolves once the socket can take more (or the client left). */
  write(chunk: Buffer | string): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this._res.write(chunk)) return Promise.resolve();
    return new Promise((resolve) => {
      this._wake = resolve;
      this._res.once('drain', this._onDrain);
    });
  }

  /** The client left (or the server is closing): the wait in progress ends. */
  cancel(): void {
    if (this.closed) return;
    this.closed = true;
    this._all.delete(this);
    this._timer?.cancel();
    this._timer = null;
    this._res.off('drain', this._onDrain);
    this._resume();
  }

  private _resume(): void {
    const wake = this._wake;
    this._wake = null;
    wake?.();
  }
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? `${JSON.stringify(body, null, 2)}\n` : String(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function describeRequest(req: IncomingMessage, url: URL, body: Buffer | null): Record<string, unknown> {
  const info: Record<string, unknown> = {
    args: Object.fromEntries(url.searchParams),
    headers: req.headers,
    method: req.method,
    origin: req.socket.remoteAddress,
    url: url.href,
  };
  if (body !== null) {
    const text = body.toString('utf8');
    const type = req.headers['content-type'] ?? '';
    info['data'] = text;
    info['json'] = null;
    info['form'] = {};
    if (type.startsWith('application/json')) {
      try {
        info['json'] = JSON.parse(text);
      } catch {
        info['json'] = null;
      }
    } else if (type.startsWith('application/x-www-form-urlencoded')) {
      info['form'] = Object.fromEntries(new URLSearchParams(text));
    }
  }
  return info;
}

/**
 * The request body, refused (413) past `limit` bytes: a declared length at
 * once, a streamed one as it passes it. Never destroys the request (a
 * `for await` that throws would, and the socket with it, before the 413 is out).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (): Refused => new Refused(413, `the request body is larger than ${limit} bytes`);
  if (Number(req.headers['content-length']) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      stop();
      chunks.length = 0;
      reject(tooLarge());
    };
    const onEnd = (): void => {
      stop();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error): void => {
      stop();
      reject(error);
    };
    const onClose = (): void => onError(new Error('the client left before its request body was in'));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

/**
 * After a 413, what the client still sends of its upload is read and
 * dropped (node:http does that for a body left unread), for at most
 * `LINGER_MS` and `LINGER_BYTES`; past either, the connection is closed.
 * An upload that ends in time leaves the connection ready for the next
 * request. Closing at once instead would reset the connection while the
 * client is still sending, and a reset can destroy the 413 before the client
 * reads it.
 */
function linger(req: IncomingMessage, socket: Socket): void {
  if (req.complete || socket.destroyed) return;
  let dropped = 0;
  const timer = getRunningLoop().callLater(LINGER_MS, () => socket.destroy());
  const done = (): void => {
    timer.cancel();
    req.off('data', onData);
  };
  const onData = (chunk: Buffer): void => {
    dropped += chunk.length;
    if (dropped <= LINGER_BYTES) return;
    done();
    socket.destroy();
  };
  req.on('data', onData);
  req.once('end', done);
  socket.once('close', done);
}

/**
 * A number parameter: `fallback` when absent; 400 when it is not a number, is
 * below `min`, or is not whole and must be; capped at `max` (as httpbin caps).
 */
function numberParam(
  text: string | null | undefined,
  name: string,
  fallback: number,
  { min = 0, max = Infinity, whole = false }: { min?: number; max?: number; whole?: boolean } = {},
): number {
  if (text === null || text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || (whole && !Number.isInteger(n))) {
    throw new Refused(400, `${name} must be a ${whole ? 'whole number' : 'number'}, received '${text}'`);
  }
  if (n < min) throw new Refused(400, `${name} must be at least ${min}, received '${text}'`);
  return Math.min(n, max);
}

/** Writes `size` bytes of `fill` in pieces, waiting for the socket to drain between them. */
async function writeBytes(waits: Waits, fill: Buffer, size: number): Promise<void> {
  for (let left = size; left > 0 && !waits.closed;) {
    const piece = left >= fill.length ? fill : fill.subarray(0, left);
    left -= piece.length;
    await waits.write(piece);
  }
}

/**
 * `/drip`: `numbytes` over `duration` ms after `delay` ms, as httpbin: the
 * first bytes at once, then a pause of `duration / numbytes` between bytes.
 * One write a tick at most (`DRIP_TICK_MS`, each with its share of the
 * bytes), so a fast drip of many bytes is a few chunked writes, not one per
 * byte.
 */
async function drip(res: ServerResponse, waits: Waits, url: URL): Promise<void> {
  const query = url.searchParams;
  const numbytes = numberParam(query.get('numbytes'), 'numbytes', 10, {
    min: 1,
    max: MAX_DRIP_BYTES,
    whole: true,
  });
  const duration = numberParam(query.get('duration'), 'duration', 2, { max: MAX_SECONDS }) * 1000;
  const delay = numberParam(query.get('delay'), 'delay', 0, { max: MAX_SECONDS }) * 1000;
  await waits.sleep(delay);
  if (waits.closed) return;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': numbytes });
  const steps = Math.max(1, Math.min(numbytes, Math.floor(duration / DRIP_TICK_MS)));
  const pause = duration / steps;
  let sent = 0;
  for (let step = 1; step <= steps && !waits.closed; step++) {
    const upTo = Math.floor((numbytes * step) / steps);
    await writeBytes(waits, STARS, upTo - sent);
    sent = upTo;
    if (step < steps) await waits.sleep(pause);
  }
  if (!waits.closed) res.end();
}

/** Serves one request. */
async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  waits: Waits,
  base: string,
  maxBody: number,
): Promise<void> {
  const url = new URL(req.url ?? '/', base);
  const parts = url.pathname.split('/').filter(Boolean);
  switch (parts[0]) {
    case undefined:
      send(
        res,
        200,
        'tsaio test server: /get /post /json /headers /ip /uuid /delay/:s /status/:code /bytes/:n /stream/:n /drip /redirect/:n\n',
        'text/plain',
      );
      return;
    case 'get':
      send(res, 200, describeRequest(req, url, null));
      return;
    case 'post':
    case 'put':
    case 'patch':
    case 'delete':
    case 'anything':
      send(res, 200, describeRequest(req, url, await readBody(req, maxBody)));
      return;
    case 'json':
      send(res, 200, {
        slideshow: { author: 'tsaio', title: 'Sample Slide Show', slides: [{ title: 'Async IO' }] },
      });
      return;
    case 'headers':
      send(res, 200, { headers: req.headers });
      return;
    case 'ip':
      send(res, 200, { origin: req.socket.remoteAddress });
      return;
    case 'uuid':
      send(res, 200, { uuid: randomUUID() });
      return;
    case 'delay': {
      const seconds = numberParam(parts[1], 'delay', 0, { max: MAX_SECONDS });
      await readBody(req, maxBody);
      await waits.sleep(seconds * 1000);
      if (!waits.closed) send(res, 200, { ...describeRequest(req, url, null), delay: seconds });
      return;
    }
    case 'status': {
      const code = numberParam(parts[1], 'status code', 200, { min: 100, whole: true });
      if (code > 599) throw new Refused(400, `invalid status code ${parts[1]}`);
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (code >= 300 && code < 400) headers['location'] = '/get';
      const retryAfter = url.searchParams.get('retry_after');
      if (retryAfter !== null) headers['retry-after'] = retryAfter;
      res.writeHead(code, headers);
      res.end();
      return;
    }
    case 'bytes': {
      const n = numberParam(parts[1], 'n', 0, { max: MAX_BYTES, whole: true });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      await writeBytes(waits, LETTERS, n);
      if (!waits.closed) res.end();
      return;
    }
    case 'stream': {
      const n = numberParam(parts[1], 'n', 0, { max: MAX_STREAM_LINES, whole: true });
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let id = 0; id < n && !waits.closed; id++)
        await waits.write(`${JSON.stringify({ id, url: url.href })}\n`);
      if (!waits.closed) res.end();
      return;
    }
    case 'drip':
      await drip(res, waits, url);
      return;
    case 'redirect': {
      const n = numberParam(parts[1], 'n', 1, { min: 1, whole: true });
      res.writeHead(302, { location: n > 1 ? `/redirect/${n - 1}` : '/get', 'content-length': 0 });
      res.end();
      return;
    }
    case 'redirect-to': {
      const target = url.searchParams.get('url') ?? '/get';
      const code = numberParam(url.searchParams.get('status_code'), 'status_code', 302, {
        min: 300,
        whole: true,
      });
      if (code > 399) throw new Refused(400, `status_code must be a 3xx, received ${code}`);
      res.writeHead(code, { location: target, 'content-length': 0 });
      res.end();
      return;
    }
    default:
      send(res, 404, { error: `no route for ${url.pathname}` });
  }
}

/**
 * A request that failed in its handler: 400/413 for a refusal, else 500.
 * After a 413, the rest of the upload is dropped, within bounds (`linger`).
 */
function fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const status = error instanceof Refused ? error.status : 500;
  const message = error instanceof Error ? error.message : String(error);
  send(res, status, { error: message });
  if (status === 413) {
    const socket = req.socket;
    res.once('finish', () => linger(req, socket));
  }
}

/** Logs `req` once its response is done (or the client left). */
function logWhenDone(req: IncomingMessage, res: ServerResponse, log: (line: string) => void): void {
  const start = performance.now();
  const socket = req.socket;
  const client = socket.remoteAddress ?? '-';
  const before = socket.bytesWritten;
  res.once('close', () => {
    const bytes = socket.bytesWritten - before;
    const ms = (performance.now() - start).toFixed(1);
    const aborted = res.writableFinished ? '' : ' aborted';
    const line = `${req.method ?? '-'} ${req.url ?? '-'} HTTP/${req.httpVersion}`;
    log(`${client} "${line}" ${res.statusCode} ${bytes} ${ms} ms${aborted}`);
  });
}

/**
 * Starts the httpbin-style test server (on a free loopback port by default).
 *
 * @example
 * ```ts
 * import { startTestServer } from 'tsaio/http';
 * await using server = await startTestServer();
 * const res = await fetch(`${server.url}/delay/0`);
 * console.log(res.status); // 200
 * ```
 */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const host = opts.host ?? '127.0.0.1';
  const maxBody = opts.maxBodySize ?? DEFAULT_MAX_BODY;
  const log = opts.log ?? null;
  const sockets = new Set<Socket>();
  const pending = new Set<Waits>();
  let total = 0;
  let peak = 0;
  let requests = 0;
  let base = '';
  const server: Server = createServer({ headersTimeout: 10_000 }, (req, res) => {
    requests++;
    if (log !== null) logWhenDone(req, res, log);
    const waits = new Waits(res, pending);
    handle(req, res, waits, base, maxBody)
      .catch((error: unknown) => fail(req, res, error))
      .finally(() => waits.cancel());
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    total++;
    peak = Math.max(peak, sockets.size);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const waits of pending) waits.cancel();
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closing;
  };
  return {
    url: base,
    port,
    get connections() {
      return sockets.size;
    },
    get totalConnections() {
      return total;
    },
    get peakConnections() {
      return peak;
    },
    get requests() {
      return requests;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
