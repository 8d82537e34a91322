// `tsaio/http` against hostile peers: a server of our own that lies (wrong
// content-length, a body after the body, both framings), trickles (slow
// headers, a byte at a time), floods (an endless body, endless headers,
// endless 1xx), sends garbage or resets; 10,000 requests cancelled at random;
// and `tsaio serve` (the test server) given bad parameters, oversized
// uploads, a 10 MiB drip, and a flood of requests, garbage and half-open
// connections from many sockets at once.
//
// Every fault must end in one of tsaio's typed errors (or the right answer),
// never a crash, an untyped error or a hang; and leave nothing behind: no
// socket (`TCPSocketWrap`/`ConnectWrap`), no tsaio or Node timer, no
// CLOSE_WAIT socket. The figures these tests print (`# figures: ...`) are the
// ones in docs/reliability.md.
//
// Timing is tolerant (a shared, noisy 2-CPU machine): lower bounds tight
// (timers never fire early), upper bounds loose.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { CancelledError, TimeoutError } from '../src/index.ts';
import {
  ClientError,
  ClientSession,
  startTestServer,
  type ClientSessionOptions,
  type HttpTimeoutError,
  type TestServer,
} from '../src/http/index.ts';
import { assertNoLeaks, since } from './_helpers.ts';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

// ---------------------------------------------------------------------------
// Helpers

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` until it holds; fails with `what()` after `ms`. */
async function until(cond: () => boolean, what: () => string, ms = 5_000): Promise<void> {
  const start = performance.now();
  while (!cond()) {
    if (since(start) > ms) assert.fail(`still not true after ${ms} ms: ${what()}`);
    await sleepMs(10);
  }
}

/** TCP handles of this process: sockets and connects in progress. */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'TCPSocketWrap' || kind === 'ConnectWrap')
    .length;
}

/** The process's resident memory, in MiB. */
function rssMiB(pid?: number): number {
  if (pid === undefined) return process.memoryUsage().rss / 2 ** 20;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

/** TCP sockets of the machine whose local or remote port is `port`, in TCP state `state` (hex, as /proc/net/tcp). */
function socketsInState(port: number, state: string): number {
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== state) continue;
      const local = parseInt(cols[1]!.split(':')[1]!, 16);
      const remote = parseInt(cols[2]!.split(':')[1]!, 16);
      if (local === port || remote === port) count++;
    }
  }
  return count;
}
const CLOSE_WAIT = '08';
const ESTABLISHED = '01';

/** Crashes seen while a suite runs: uncaught exceptions and unhandled rejections. */
const crashes: unknown[] = [];
const onCrash = (error: unknown): void => void crashes.push(error);
before(() => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
});
after(() => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  assert.deepEqual(crashes, [], 'nothing crashed');
});

/** A raw TCP server: `onRequest` gets the socket after each request head (and may answer anything). */
interface RawServer {
  readonly url: string;
  readonly port: number;
  readonly connections: number;
  close(): Promise<void>;
}

async function rawServer(onRequest: (socket: net.Socket) => void): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      let end: number;
      while ((end = buffered.indexOf('\r\n\r\n')) !== -1) {
        buffered = buffered.slice(end + 4);
        onRequest(socket);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return sockets.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes `text` one byte every `everyMs` until done or the socket closes. */
function trickle(socket: net.Socket, text: string, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= text.length) {
      clearInterval(timer);
      return;
    }
    socket.write(text[at++]!);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

/** Writes `piece` again and again, as fast as the peer reads, until the socket closes. */
function flood(socket: net.Socket, piece: Buffer | string): void {
  const pump = (): void => {
    while (!socket.destroyed && socket.write(piece)) {
      // until the socket's buffer is full
    }
    if (!socket.destroyed) socket.once('drain', pump);
  };
  pump();
}

const CHUNK_64K = Buffer.concat([Buffer.from('10000\r\n'), Buffer.alloc(0x10000, 0x61), Buffer.from('\r\n')]);

/** Is `error` one of the typed errors a request may end with? */
function typed(error: unknown): boolean {
  return error instanceof ClientError || error instanceof TimeoutError || error instanceof CancelledError;
}

function kindOf(error: unknown): string {
  if (error instanceof TimeoutError) return `TimeoutError(${(error as HttpTimeoutError).kind})`;
  return error instanceof Error ? error.name : typeof error;
}

/** `'done'` if `p` settles within `ms`, else `'hung'` (the timer is cleared either way). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<'done' | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  try {
    return await Promise.race([p.then(() => 'done' as const), hung]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------
// The client against a lying, trickling, flooding server

/** One fault: what the server does after a request head, and what the client must see. */
interface Fault {
  name: string;
  serve(socket: net.Socket): void;
  session?: ClientSessionOptions;
  /** Reads the response its own way (default: `text()`). */
  read?: (session: ClientSession, url: string) => Promise<unknown>;
  /** The outcomes allowed: error names (`TimeoutError(kind)` for timeouts) or `ok`. */
  expect: readonly string[];
}

const FAULTS: Fault[] = [
  {
    name: 'content-length longer than the body, then FIN',
    serve: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nshort'),
    expect: ['ClientConnectionError'],
  },
  {
    name: 'content-length longer than the body, then silence',
    serve: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nshort'),
    session: { timeout: { sockRead: 200 } },
    expect: ['TimeoutError(sockRead)'],
  },
  {
    name: 'content-length shorter than the body (bytes after the body)',
    serve: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\ngarbage'),
    expect: ['ok', 'ClientConnectionError'],
  },
  {
    name: 'both content-length and transfer-encoding',
    serve: (s) =>
      s.write(
        'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
      ),
    expect: ['ok', 'ClientConnectionError'],
  },
  {
    name: 'a content-length that is not a number',
    serve: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: lots\r\n\r\nok'),
    expect: ['ClientConnectionError'],
  },
  {
    name: 'an invalid chunk size',
    serve: (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n'),
    expect: ['ClientConnectionError'],
  },
  {
    name: 'a chunk size of a petabyte, then silence',
    serve: (s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4000000000000\r\nabc'),
    session: { timeout: { sockRead: 200 } },
    expect: ['TimeoutError(sockRead)', 'ClientConnectionError'],
  },
  {
    name: 'a content-length of a petabyte, with maxBodySize',
    serve: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000000000000000\r\n\r\nabc'),
    session: { maxBodySize: 1_000_000 },
    expect: ['ResponseTooLargeError'],
  },
  {
    name: 'an endless chunked body, with maxBodySize',
    serve: (s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      flood(s, CHUNK_64K);
    },
    session: { maxBodySize: 2_000_000 },
    expect: ['ResponseTooLargeError'],
  },
  {
    name: 'an endless body read as a stream, with a total timeout (back-pressure keeps memory flat)',
    serve: (s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      flood(s, CHUNK_64K);
    },
    session: { timeout: 300 },
    read: async (session, url) => {
      const resp = await session.get(url);
      for await (const _chunk of resp) await sleepMs(5);
    },
    expect: ['TimeoutError(total)'],
  },
  {
    name: 'endless header lines',
    serve: (s) => {
      s.write('HTTP/1.1 200 OK\r\n');
      flood(s, 'X-Flood: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n');
    },
    expect: ['ClientConnectionError'],
  },
  {
    name: 'endless 100 Continue',
    serve: (s) => flood(s, 'HTTP/1.1 100 Continue\r\n\r\n'),
    session: { timeout: 300 },
    expect: ['TimeoutError(total)', 'ClientConnectionError'],
  },
  {
    name: 'headers a byte every 20 ms (sockRead 150)',
    serve: (s) => trickle(s, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 20),
    session: { timeout: { sockRead: 150 } },
    expect: ['TimeoutError(sockRead)'],
  },
  {
    name: 'a body a byte every 20 ms (total 300)',
    serve: (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      trickle(s, 'a'.repeat(1000), 20);
    },
    session: { timeout: 300 },
    expect: ['TimeoutError(total)'],
  },
  {
    name: 'a trickling body disposed unread with total: null (the drain gives up)',
    serve: (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n');
      trickle(s, 'a'.repeat(1000), 50);
    },
    session: { timeout: { total: null } },
    read: async (session, url) => {
      const resp = await session.get(url);
      assert.equal(await settlesWithin(resp.close(), 3_000), 'done');
      return 'ok';
    },
    expect: ['ok'],
  },
  {
    name: 'garbage instead of HTTP',
    serve: (s) => s.write(Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 13, 10, 13, 10, 0x80])),
    expect: ['ClientConnectionError'],
  },
  {
    name: 'a status line that is not one',
    serve: (s) => s.write('HTTP/1.1 abc Whatever\r\nContent-Length: 0\r\n\r\n'),
    expect: ['ClientConnectionError'],
  },
  {
    name: 'a header with a NUL byte',
    serve: (s) => s.write('HTTP/1.1 200 OK\r\nX-Bad: a\0b\r\nContent-Length: 2\r\n\r\nok'),
    expect: ['ClientConnectionError'],
  },
  {
    name: 'reset at once',
    serve: (s) => s.resetAndDestroy(),
    expect: ['ClientConnectionError'],
  },
  {
    name: 'reset mid-headers',
    serve: (s) => {
      s.write('HTTP/1.1 200 OK\r\nContent-Le');
      setTimeout(() => s.resetAndDestroy(), 20);
    },
    expect: ['ClientConnectionError'],
  },
  {
    name: 'reset mid-body',
    serve: (s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n${'a'.repeat(5000)}`);
      setTimeout(() => s.resetAndDestroy(), 20);
    },
    expect: ['ClientConnectionError'],
  },
  {
    name: 'FIN without an answer',
    serve: (s) => s.end(),
    expect: ['ClientConnectionError'],
  },
  {
    name: 'a redirect loop',
    serve: (s) => s.write('HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n'),
    expect: ['ClientError'],
  },
  {
    name: 'a redirect with an endless body (drained up to 64 KiB, then the socket is closed)',
    serve: (s) => {
      s.write('HTTP/1.1 302 Found\r\nLocation: /next\r\nTransfer-Encoding: chunked\r\n\r\n');
      flood(s, CHUNK_64K);
    },
    session: { maxRedirects: 2, timeout: 3_000 },
    expect: ['ClientError'],
  },
  {
    name: 'Retry-After: 3600 on a 503 (the wait is capped at retryBackoff.max)',
    serve: (s) => s.write('HTTP/1.1 503 Busy\r\nRetry-After: 3600\r\nContent-Length: 0\r\n\r\n'),
    session: { retries: 2, retryBackoff: { max: 50 }, timeout: 3_000 },
    read: async (session, url) => {
      const resp = await session.get(url);
      await resp.bytes();
      return resp.status === 503 ? 'ok' : `status ${resp.status}`;
    },
    expect: ['ok'],
  },
];

void describe('ClientSession against a lying, trickling, flooding server', () => {
  const ROUNDS = 8;
  const tally = { injected: 0, typed: 0, untyped: 0, hung: 0 };

  for (const fault of FAULTS) {
    void test(`${fault.name}: ${fault.expect.join(' or ')}, nothing left`, async () => {
      const raw = await rawServer(fault.serve);
      const rss = rssMiB();
      try {
        const session = new ClientSession({ timeout: 5_000, ...fault.session });
        const url = `${raw.url}/`;
        const read = fault.read ?? (async (s: ClientSession, u: string) => (await s.get(u)).text());
        const seen = new Map<string, number>();
        for (let round = 0; round < ROUNDS; round++) {
          tally.injected++;
          let outcome: string;
          const attempt = read(session, url).then(
            () => 'ok',
            (error: unknown) => {
              if (!typed(error)) {
                tally.untyped++;
                return `untyped ${String(error)}`;
              }
              tally.typed++;
              return kindOf(error);
            },
          );
          if ((await settlesWithin(attempt, 8_000)) === 'hung') {
            tally.hung++;
            outcome = 'hung';
          } else outcome = await attempt;
          seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
        }
        for (const outcome of seen.keys()) {
          assert.ok(fault.expect.includes(outcome), `${fault.name}: ${JSON.stringify([...seen])}`);
        }
        assert.ok(rssMiB() - rss < 200, `RSS grew ${(rssMiB() - rss).toFixed(0)} MiB`);
        await session.close();
        await until(
          () => raw.connections === 0 && tcpHandles() === 0,
          () => `server sockets ${raw.connections}; ${JSON.stringify(process.getActiveResourcesInfo())}`,
        );
        await assertNoLeaks();
      } finally {
        await raw.close();
      }
    });
  }

  void test('a Keep-Alive: timeout=999999 hint does not keep an idle socket past keepAliveTimeout', async () => {
    const raw = await rawServer((s) =>
      s.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=999999\r\nContent-Length: 2\r\n\r\nok'),
    );
    try {
      const session = new ClientSession({ keepAliveTimeout: 200 });
      for (let i = 0; i < 3; i++) assert.equal(await (await session.get(`${raw.url}/`)).text(), 'ok');
      tally.injected += 3;
      await until(
        () => raw.connections === 0,
        () => 'the idle socket is still open',
        3_000,
      );
      await session.close();
      await assertNoLeaks();
    } finally {
      await raw.close();
    }
  });

  after(() => {
    console.log(`# figures: hostile server: ${JSON.stringify(tally)}`);
    assert.equal(tally.untyped, 0);
    assert.equal(tally.hung, 0);
  });
});

void describe('10,000 cancelled requests', () => {
  void test(
    'cancelled at random at every stage: all slots returned, nothing open, 0 CLOSE_WAIT',
    { timeout: 180_000 },
    async () => {
      const server = await startTestServer();
      try {
        const LIMIT = 50;
        const session = new ClientSession({ baseUrl: server.url, limit: LIMIT, timeout: 20_000 });
        const routes = [
          '/delay/0.05',
          '/drip?numbytes=50&duration=0.05',
          '/bytes/300000',
          '/get',
          '/stream/20',
        ];
        const outcomes = new Map<string, number>();
        const count = (what: string): void => void outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
        const TOTAL = 10_000;
        const WAVE = 500;
        const start = performance.now();
        const cancelled = (): number =>
          (outcomes.get('cancelled before the headers') ?? 0) +
          (outcomes.get('cancelled reading the body') ?? 0);
        let done = 0;
        for (; cancelled() < TOTAL; done += WAVE) {
          await Promise.all(
            Array.from({ length: WAVE }, async (_, i) => {
              const n = done + i;
              const controller = new AbortController();
              // One in ten is cancelled while its body is read; the others at a random time
              // (waiting for a slot, connecting, waiting for the headers, or reading).
              const midBody = n % 10 === 0;
              let timer = midBody ? undefined : setTimeout(() => controller.abort(), Math.random() * 300);
              let stage = 'before the headers';
              try {
                const route = midBody ? '/drip?numbytes=100&duration=0.5' : routes[n % routes.length]!;
                const resp = await session.get(route, { signal: controller.signal });
                stage = 'reading the body';
                if (midBody) timer = setTimeout(() => controller.abort(), Math.random() * 100);
                await resp.bytes();
                count('completed');
              } catch (error) {
                count(error instanceof CancelledError ? `cancelled ${stage}` : `other: ${kindOf(error)}`);
              } finally {
                clearTimeout(timer);
              }
            }),
          );
        }
        const elapsed = since(start);
        assert.equal(
          [...outcomes.values()].reduce((a, b) => a + b, 0),
          done,
        );
        for (const key of outcomes.keys()) assert.ok(!key.startsWith('other'), JSON.stringify([...outcomes]));
        assert.ok((outcomes.get('cancelled before the headers') ?? 0) > 1_000, JSON.stringify([...outcomes]));
        assert.ok((outcomes.get('cancelled reading the body') ?? 0) > 500, JSON.stringify([...outcomes]));
        assert.match(String(session), /open=0/);
        // Every slot is back: LIMIT requests of 3 s are all sent at once. (One slot short, the last
        // would be sent after 3 s. Right after 10,000 connections, the kernel may hold a connect
        // to the same port back for its 1 s SYN retry: the bound allows for it.)
        const before = server.requests;
        const burst = performance.now();
        const burstDone = Promise.all(
          Array.from({ length: LIMIT }, async () => (await session.get('/delay/3')).bytes()),
        );
        await until(
          () => server.requests - before === LIMIT,
          () => `${server.requests - before} of ${LIMIT} requests sent after ${Math.round(since(burst))} ms`,
          2_500,
        );
        const burstMs = since(burst);
        await burstDone;
        // No socket stuck half-closed on either side.
        await until(
          () => socketsInState(server.port, CLOSE_WAIT) === 0,
          () => `${socketsInState(server.port, CLOSE_WAIT)} CLOSE_WAIT sockets`,
        );
        await session.close();
        await until(
          () => server.connections === 0 && tcpHandles() === 0,
          () => `server sockets ${server.connections}; ${JSON.stringify(process.getActiveResourcesInfo())}`,
        );
        const closeWait = socketsInState(server.port, CLOSE_WAIT);
        assert.equal(closeWait, 0);
        await assertNoLeaks();
        console.log(
          `# figures: ${done} requests, ${cancelled()} cancelled: ${JSON.stringify(Object.fromEntries(outcomes))} ` +
            `in ${Math.round(elapsed)} ms; ` +
            `${LIMIT} slots in use again after ${Math.round(burstMs)} ms; CLOSE_WAIT ${closeWait}; ` +
            `opened ${server.totalConnections} sockets`,
        );
      } finally {
        await server.close();
      }
    },
  );
});

// ---------------------------------------------------------------------------
// tsaio serve (the test server)

/** Listens for `MaxListenersExceededWarning`s while `fn` runs. */
async function listenerWarnings(fn: () => Promise<void>): Promise<string[]> {
  const warnings: string[] = [];
  const onWarning = (warning: Error): void => {
    if (warning.name === 'MaxListenersExceededWarning') warnings.push(warning.message);
  };
  process.on('warning', onWarning);
  try {
    await fn();
    await sleepMs(50); // warnings are emitted on the next tick
  } finally {
    process.off('warning', onWarning);
  }
  return warnings;
}

void describe('tsaio serve: caps, bad parameters, back-pressure, body limit, access log', () => {
  let server: TestServer;
  const lines: string[] = [];
  before(async () => {
    server = await startTestServer({ log: (line) => lines.push(line), maxBodySize: 1024 * 1024 });
  });
  after(async () => {
    await server.close();
  });

  void test('delay and a drip are capped at 10 s (delay=3000000 no longer overflows the timer)', async () => {
    const session = new ClientSession({ baseUrl: server.url, timeout: 20_000 });
    const start = performance.now();
    const [delay, drip] = await Promise.all([
      (async () => {
        const resp = await session.get('/delay/3000000');
        const { delay } = await resp.json<{ delay: number }>();
        return { ms: since(start), delay };
      })(),
      (async () => {
        const resp = await session.get('/drip', { params: { numbytes: 2, duration: 3_000_000, delay: 0.1 } });
        const bytes = (await resp.bytes()).length;
        return { ms: since(start), bytes };
      })(),
    ]);
    assert.equal(delay.delay, 10);
    assert.ok(delay.ms >= 9_990 && delay.ms < 13_000, `delay answered after ${delay.ms} ms`);
    // Two bytes over (at most) 10 s: the second comes 5 s after the first.
    assert.equal(drip.bytes, 2);
    assert.ok(drip.ms >= 5_090 && drip.ms < 8_000, `drip ended after ${drip.ms} ms`);
    await session.close();
  });

  void test('parameters that are not numbers, or out of range, answer 400', async () => {
    const session = new ClientSession({ baseUrl: server.url, timeout: 5_000 });
    for (const path of [
      '/status/abc',
      '/status/1.5',
      '/status/700',
      '/delay/abc',
      '/delay/-1',
      '/bytes/abc',
      '/bytes/-5',
      '/stream/x',
      '/redirect/abc',
      '/redirect/0',
      '/drip?numbytes=abc',
      '/drip?numbytes=0',
      '/drip?duration=soon',
      '/drip?delay=-1',
      '/redirect-to?url=/get&status_code=200',
    ]) {
      const resp = await session.get(path, { followRedirects: false });
      assert.equal(resp.status, 400, path);
      assert.match(((await resp.json()) as { error: string }).error, /./, path);
    }
    // The caps of the counts: as httpbin's.
    assert.equal((await (await session.get('/stream/100000')).text()).trim().split('\n').length, 100);
    await session.close();
  });

  void test('/drip of 10 MiB at duration 0 does not block the loop: chunked writes, back-pressure', async () => {
    const session = new ClientSession({ baseUrl: server.url, timeout: 60_000 });
    let worst = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      worst = Math.max(worst, since(last));
      last = performance.now();
    }, 5);
    try {
      const resp = await session.get('/drip', { params: { numbytes: 10_485_760, duration: 0 } });
      let got = 0;
      let probe = 0;
      for await (const chunk of resp) {
        got += chunk.length;
        // A request to the same server while the drip is written: answered at once.
        if (probe === 0 && got > 1_000_000) {
          const t = performance.now();
          await (await session.get('/get')).bytes();
          probe = since(t);
        }
        await sleepMs(0);
      }
      assert.equal(got, 10_485_760);
      assert.ok(probe > 0 && probe < 1_000, `/get during the drip took ${probe} ms`);
      assert.ok(worst < 500, `the loop stalled ${worst.toFixed(0)} ms`);
      console.log(
        `# figures: 10 MiB drip at duration 0: worst loop stall ${worst.toFixed(0)} ms, /get during it ${probe.toFixed(0)} ms`,
      );
    } finally {
      clearInterval(ticker);
      await session.close();
    }
  });

  void test('/drip waits with one close listener, not one per byte', async () => {
    const session = new ClientSession({ baseUrl: server.url, timeout: 10_000 });
    const warnings = await listenerWarnings(async () => {
      const resp = await session.get('/drip', { params: { numbytes: 40, duration: 0.4 } });
      assert.equal((await resp.bytes()).length, 40);
    });
    assert.deepEqual(warnings, []);
    await session.close();
  });

  void test('/post answers 413 to a body over maxBodySize without reading it; memory stays flat', async () => {
    const session = new ClientSession({ baseUrl: server.url, timeout: 20_000 });
    const big = await session.post('/post', { data: new Uint8Array(2 * 1024 * 1024) });
    assert.equal(big.status, 413);
    assert.match(((await big.json()) as { error: string }).error, /larger than 1048576/);
    // A streamed upload (no content-length) of 200 MiB: refused once 1 MiB is in; the rest is never sent.
    const rss = rssMiB();
    let sent = 0;
    async function* upload(): AsyncGenerator<Uint8Array> {
      const piece = new Uint8Array(1024 * 1024);
      for (let i = 0; i < 200; i++) {
        sent += piece.length;
        yield piece;
      }
    }
    const streamed = await session.post('/post', { data: upload() }).then(
      async (resp) => {
        await resp.bytes();
        return resp.status;
      },
      (error: unknown) => kindOf(error),
    );
    assert.ok(streamed === 413 || streamed === 'ClientConnectionError', String(streamed));
    assert.ok(sent < 64 * 1024 * 1024, `the client sent ${sent} bytes`);
    assert.ok(rssMiB() - rss < 100, `RSS grew ${(rssMiB() - rss).toFixed(0)} MiB`);
    console.log(
      `# figures: 200 MiB streamed upload against a 1 MiB limit: ${String(streamed)}, ` +
        `${(sent / 2 ** 20).toFixed(0)} MiB sent, RSS +${(rssMiB() - rss).toFixed(0)} MiB`,
    );
    const small = await session.post('/post', { json: { ok: true } });
    assert.deepEqual(((await small.json()) as { json: unknown }).json, { ok: true });
    await session.close();
  });

  void test('a client that keeps uploading after its 413 is cut off (2 s or 64 MiB dropped at most)', async () => {
    const rss = rssMiB();
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const start = performance.now();
    socket.write('POST /post HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    flood(socket, CHUNK_64K);
    assert.equal(await settlesWithin(closed, 10_000), 'done', 'the server never closed the connection');
    assert.ok(since(start) < 5_000, `closed after ${since(start)} ms`);
    assert.match(answer, /^HTTP\/1\.1 413 /);
    assert.ok(rssMiB() - rss < 100, `RSS grew ${(rssMiB() - rss).toFixed(0)} MiB`);
  });

  void test('an access log line per request: client, request line, status, bytes, time', async () => {
    const before = lines.length;
    const session = new ClientSession({ baseUrl: server.url, timeout: 5_000 });
    await (await session.get('/get?x=1')).bytes();
    await (await session.get('/status/418')).bytes();
    await session.close();
    await until(
      () => lines.length >= before + 2,
      () => JSON.stringify(lines.slice(before)),
    );
    const mine = lines.slice(before);
    assert.match(mine[0]!, /^127\.0\.0\.1 "GET \/get\?x=1 HTTP\/1\.1" 200 \d+ [\d.]+ ms$/);
    assert.match(mine[1]!, /^127\.0\.0\.1 "GET \/status\/418 HTTP\/1\.1" 418 \d+ [\d.]+ ms$/);
  });
});

void describe('a flood against `tsaio serve`', () => {
  let child: ChildProcess;
  let url = '';
  let port = 0;
  let logLines = 0;
  let stderrTail = '';

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
    child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    // The access log: counted and dropped (read, so that a full pipe never stalls the server).
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      logLines += d.split('\n').length - 1;
      stderrTail = (stderrTail + d).slice(-2_000);
    });
    await until(
      () => /http:\/\/127\.0\.0\.1:\d+/.test(stdout),
      () => stdout,
      30_000,
    );
    url = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout)![0];
    port = Number(url.split(':')[2]);
  });

  after(async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
  });

  void test('requests, garbage, half-open and reset sockets at once: it stays up, answers, leaves no socket', async () => {
    const pid = child.pid!;
    const rss0 = rssMiB(pid);
    let peakRss = rss0;
    const sockets = new Set<net.Socket>();
    const tally = { requests: 0, answered: 0, errors: 0, garbage: 0, slowloris: 0, resets: 0, probes: 0 };
    let worstProbe = 0;
    const failures: string[] = [];
    const rawSocket = (): net.Socket => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      return s;
    };
    const session = new ClientSession({ baseUrl: url, limit: 200, timeout: 30_000 });
    // The probes have a session of their own: they wait for the server, not behind the storm's queue.
    const prober = new ClientSession({ baseUrl: url, timeout: 10_000 });
    const routes = [
      '/get',
      '/status/abc',
      '/delay/abc',
      '/delay/0.2',
      '/bytes/100000',
      '/stream/100',
      '/redirect/3',
      '/drip?numbytes=200&duration=0.2',
      '/status/503',
      '/nowhere',
    ];
    let flooding = true;
    const started = performance.now();
    const probes = (async () => {
      while (flooding) {
        const t = performance.now();
        await (await prober.get('/get')).bytes();
        worstProbe = Math.max(worstProbe, since(t));
        tally.probes++;
        peakRss = Math.max(peakRss, rssMiB(pid));
        await sleepMs(100);
      }
    })();
    const storm = (async () => {
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < 5_000; i++) {
        tally.requests++;
        jobs.push(
          (async () => {
            try {
              if (i % 500 === 0) {
                // Two 10 MiB drips at full speed, one read to the end, one dropped half way.
                const resp = await session.get('/drip?numbytes=10485760&duration=0');
                let got = 0;
                for await (const chunk of resp) {
                  got += chunk.length;
                  if (i % 1000 === 0 && got > 5_000_000) break;
                }
              } else if (i % 250 === 0) {
                const resp = await session.post('/post', { data: new Uint8Array(11 * 1024 * 1024) });
                await resp.bytes();
                assert.equal(resp.status, 413);
              } else {
                await (await session.get(routes[i % routes.length]!)).bytes();
              }
              tally.answered++;
            } catch (error) {
              tally.errors++;
              failures.push(`${i % 250 === 0 ? 'POST 11 MiB' : 'GET'}: ${String(error)}`);
            }
          })(),
        );
      }
      await Promise.all(jobs);
    })();
    // 200 sockets of garbage, 100 slow headers, 100 resets, while the requests run.
    for (let i = 0; i < 200; i++) {
      const s = rawSocket();
      s.write(Buffer.from(Array.from({ length: 512 }, () => Math.floor(Math.random() * 256))));
      tally.garbage++;
    }
    for (let i = 0; i < 100; i++) {
      const s = rawSocket();
      trickle(s, 'GET /get HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(100), 50);
      tally.slowloris++;
    }
    for (let i = 0; i < 100; i++) {
      const s = rawSocket();
      s.once('connect', () => {
        s.write('GET /drip?numbytes=100000&duration=1 HTTP/1.1\r\nHost: x\r\n\r\n');
        setTimeout(() => s.resetAndDestroy(), Math.random() * 200);
      });
      tally.resets++;
    }
    await storm;
    flooding = false;
    await probes;
    const elapsed = since(started);
    // Still up, still answering.
    assert.equal(child.exitCode, null, stderrTail);
    const after = await session.get('/get');
    assert.equal(after.status, 200);
    await after.bytes();
    await session.close();
    await prober.close();
    for (const s of sockets) s.destroy();
    await until(
      () => sockets.size === 0 && tcpHandles() === 0,
      () => JSON.stringify(process.getActiveResourcesInfo()),
    );
    // The server holds no socket open any more, and none half-closed.
    await until(
      () => socketsInState(port, ESTABLISHED) === 0 && socketsInState(port, CLOSE_WAIT) === 0,
      () =>
        `established ${socketsInState(port, ESTABLISHED)}, CLOSE_WAIT ${socketsInState(port, CLOSE_WAIT)}`,
      10_000,
    );
    assert.deepEqual(failures, [], 'every request of the storm was answered');
    assert.ok(worstProbe < 2_000, `a /get took ${worstProbe.toFixed(0)} ms during the flood`);
    assert.ok(peakRss - rss0 < 300, `server RSS grew ${(peakRss - rss0).toFixed(0)} MiB`);
    assert.ok(logLines >= tally.requests, `${logLines} access-log lines for ${tally.requests} requests`);
    await assertNoLeaks();
    console.log(
      `# figures: flood: ${JSON.stringify(tally)} in ${Math.round(elapsed)} ms; worst /get ${worstProbe.toFixed(0)} ms; ` +
        `server RSS ${rss0.toFixed(0)} → peak ${peakRss.toFixed(0)} MiB; log lines ${logLines}; server alive`,
    );
  });
});
