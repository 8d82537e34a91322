/**
 * An httpbin-style test server on `node:http`: the embedded default that lets
 * every example, test and benchmark run with no internet. `tsaio serve`
 * runs it from the command line.
 *
 * Routes: `/get`, `/post` (echo, any method), `/json`, `/headers`,
 * `/delay/:seconds`, `/status/:code`, `/bytes/:n`, `/stream/:n`,
 * `/drip?numbytes=&duration=&delay=` (a slow body), `/redirect/:n`,
 * `/redirect-to?url=&status_code=`.
 *
 * @module
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Options of `startTestServer`. */
export interface TestServerOptions {
  /** Port to listen on (default 0: any free port). */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
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

const MAX_DELAY_S = 60;

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

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function number(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return text === undefined || text === '' || !Number.isFinite(n) ? fallback : n;
}

/** Serves one request; `timers` collects the timers so `close()` can clear them. */
async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  base: string,
  timers: Set<NodeJS.Timeout>,
): Promise<void> {
  const url = new URL(req.url ?? '/', base);
  const parts = url.pathname.split('/').filter(Boolean);
  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
      res.once('close', () => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve();
      });
    });
  switch (parts[0]) {
    case undefined:
      send(
        res,
        200,
        'tsaio test server: /get /post /json /headers /delay/:s /status/:code /bytes/:n /stream/:n /drip /redirect/:n\n',
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
      send(res, 200, describeRequest(req, url, await readBody(req)));
      return;
    case 'json':
      send(res, 200, {
        slideshow: { author: 'tsaio', title: 'Sample Slide Show', slides: [{ title: 'Async IO' }] },
      });
      return;
    case 'headers':
      send(res, 200, { headers: req.headers });
      return;
    case 'delay': {
      const seconds = Math.min(MAX_DELAY_S, Math.max(0, number(parts[1], 0)));
      await readBody(req);
      await wait(seconds * 1000);
      if (!res.destroyed) send(res, 200, { ...describeRequest(req, url, null), delay: seconds });
      return;
    }
    case 'status': {
      const code = Math.trunc(number(parts[1], 200));
      if (code < 100 || code > 599) {
        send(res, 400, { error: `invalid status code ${parts[1]}` });
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (code >= 300 && code < 400) headers['location'] = '/get';
      const retryAfter = url.searchParams.get('retry_after');
      if (retryAfter !== null) headers['retry-after'] = retryAfter;
      res.writeHead(code, headers);
      res.end();
      return;
    }
    case 'bytes': {
      const n = Math.min(100 * 1024 * 1024, Math.max(0, Math.trunc(number(parts[1], 0))));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      const chunk = Buffer.alloc(Math.min(n, 64 * 1024), 0x61);
      let left = n;
      while (left > 0 && !res.destroyed) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!res.write(piece)) await new Promise((r) => res.once('drain', r));
      }
      res.end();
      return;
    }
    case 'stream': {
      const n = Math.min(1000, Math.max(0, Math.trunc(number(parts[1], 0))));
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let id = 0; id < n && !res.destroyed; id++)
        res.write(`${JSON.stringify({ id, url: url.href })}\n`);
      res.end();
      return;
    }
    case 'drip': {
      const numbytes = Math.min(
        10 * 1024 * 1024,
        Math.max(0, Math.trunc(number(url.searchParams.get('numbytes') ?? undefined, 10))),
      );
      const duration = Math.max(0, number(url.searchParams.get('duration') ?? undefined, 2)) * 1000;
      const delay = Math.max(0, number(url.searchParams.get('delay') ?? undefined, 0)) * 1000;
      await wait(delay);
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': numbytes });
      const pause = numbytes > 0 ? duration / numbytes : 0;
      for (let i = 0; i < numbytes && !res.destroyed; i++) {
        res.write('*');
        if (pause > 0) await wait(pause);
      }
      res.end();
      return;
    }
    case 'redirect': {
      const n = Math.max(0, Math.trunc(number(parts[1], 1)));
      res.writeHead(302, { location: n > 1 ? `/redirect/${n - 1}` : '/get', 'content-length': 0 });
      res.end();
      return;
    }
    case 'redirect-to': {
      const target = url.searchParams.get('url') ?? '/get';
      const code = Math.trunc(number(url.searchParams.get('status_code') ?? undefined, 302));
      res.writeHead(code, { location: target, 'content-length': 0 });
      res.end();
      return;
    }
    default:
      send(res, 404, { error: `no route for ${url.pathname}` });
  }
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
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let total = 0;
  let peak = 0;
  let requests = 0;
  let base = '';
  const server: Server = createServer((req, res) => {
    requests++;
    handle(req, res, base, timers).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { error: String(error) });
      else res.destroy();
    });
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
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
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
