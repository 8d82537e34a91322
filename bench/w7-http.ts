// W7: 20,000 GETs of a 1 KiB file from a local nginx, 100 in flight.
//
// Every variant runs in its own child process with its own private nginx
// (test/_nginx.ts: one worker, 127.0.0.1, a free port), started in `load()`,
// outside the timed body, and taken down when the child exits. The body is
// the same driver for every client: 100 workers, each looping "take the next
// request number, GET, read the whole body, check it" until all N are done,
// so only the client differs. Connections are opened inside the body (every
// client starts cold). A response that is not 200 with exactly 1,024 body
// bytes fails the variant.
//
// `wrk` is the server's ceiling: its `load()` runs `wrk -t2 -c100 -d5s` once,
// and its body only waits N / (wrk's requests/s) seconds, so its "elapsed" is
// the time wrk would need for N requests.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { Body, Mark, Workload } from './_workload.ts';
import { NGINX_FILES, startNginx } from '../test/_nginx.ts';

const FILE_BYTES = NGINX_FILES['1k.bin'];

const IN_FLIGHT = 100;
const WRK = '/usr/bin/wrk';
const WRK_ARGS = ['-t2', `-c${IN_FLIGHT}`, '-d5s'];

/** One GET with its body read whole; resolves to [status, body bytes]. */
type Get = () => Promise<readonly [number, number]>;

/**
 * The shared driver: `IN_FLIGHT` workers pull request numbers until `n` were
 * taken. `mark()` is called when request n/2 starts: steady state, every
 * connection open and busy.
 */
async function drive(n: number, mark: Mark, get: Get): Promise<void> {
  let next = 0;
  const half = n >> 1;
  const worker = async () => {
    while (next < n) {
      if (++next === half) mark();
      const [status, bytes] = await get();
      if (status !== 200 || bytes !== FILE_BYTES)
        throw new Error(`bad response: status ${status}, ${bytes} body bytes (want 200, ${FILE_BYTES})`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

/** Starts nginx, builds the client from its URL, and returns the body; nginx stops when the child exits. */
async function withServer(client: (url: string, origin: string) => Promise<Get>): Promise<Body> {
  const server = await startNginx();
  const get = await client(`${server.url}/1k.bin`, server.url);
  return (n, mark) => drive(n, mark, get);
}

function runWrk(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(WRK, [...WRK_ARGS, url], { encoding: 'utf8' }, (error, stdout) => {
      if (error) return reject(error);
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      const bad = /Non-2xx or 3xx responses|Socket errors/.exec(stdout);
      if (rps === null || bad !== null) return reject(new Error(`wrk: ${stdout.trim().split('\n').pop()}`));
      resolve(Number(rps[1]));
    });
  });
}

export const w7: Workload = {
  id: 'W7',
  title: '20,000 GETs of a 1 KiB file from nginx, 100 in flight',
  n: 20_000,
  note:
    'Each run starts its own nginx (one worker, 127.0.0.1) outside the timed body; the body is the ' +
    'same for every client: 100 workers looping GET + read the whole body + check (status 200, 1,024 ' +
    'bytes) until N are done, connections opened cold inside it. Requests/s = N / elapsed. `mark()` ' +
    'is called when request N/2 starts (every connection busy). `wrk` is the server ceiling: ' +
    '`wrk -t2 -c100 -d5s` run once before its body, whose elapsed is N / (wrk requests/s); its memory ' +
    'and CPU columns mean nothing.',
  unit: 'GET',
  baseline: 'undici-pool',
  variants: [
    {
      name: 'undici-pool',
      code: 'const pool = new Pool(origin, { connections: 100 }); const { statusCode, body } = await pool.request({ path, method: "GET" }); await body.arrayBuffer()',
      async load() {
        const { Pool } = await import('undici');
        return withServer(async (url, origin) => {
          const pool = new Pool(origin, { connections: IN_FLIGHT });
          const path = new URL(url).pathname;
          return async () => {
            const { statusCode, body } = await pool.request({ path, method: 'GET' });
            return [statusCode, (await body.arrayBuffer()).byteLength] as const;
          };
        });
      },
    },
    {
      name: 'tsaio',
      code: 'const session = new ClientSession({ limit: 100 }); const resp = await session.get(url); await resp.bytes()',
      async load() {
        const { ClientSession } = await import('tsaio/http');
        return withServer(async (url) => {
          const session = new ClientSession({ limit: IN_FLIGHT });
          return async () => {
            const resp = await session.get(url);
            return [resp.status, (await resp.bytes()).byteLength] as const;
          };
        });
      },
    },
    {
      name: 'fetch',
      code: 'const resp = await fetch(url); await resp.arrayBuffer()',
      async load() {
        return withServer(async (url) => async () => {
          const resp = await fetch(url);
          return [resp.status, (await resp.arrayBuffer()).byteLength] as const;
        });
      },
    },
    {
      name: 'axios',
      code: "const client = axios.create({ adapter: 'http', httpAgent: new http.Agent({ keepAlive: true, maxSockets: 100 }), responseType: 'arraybuffer', validateStatus: null }); await client.get(url)",
      async load() {
        const { default: axios } = await import('axios');
        return withServer(async (url) => {
          const client = axios.create({
            adapter: 'http',
            httpAgent: new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT }),
            responseType: 'arraybuffer',
            validateStatus: null,
          });
          return async () => {
            const resp = await client.get<Buffer>(url);
            return [resp.status, resp.data.byteLength] as const;
          };
        });
      },
    },
    {
      name: 'got',
      code: "const client = got.extend({ agent: { http: new http.Agent({ keepAlive: true, maxSockets: 100 }) }, responseType: 'buffer', retry: { limit: 0 }, throwHttpErrors: false }); await client.get(url)",
      async load() {
        const { default: got } = await import('got');
        return withServer(async (url) => {
          const client = got.extend({
            agent: { http: new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT }) },
            responseType: 'buffer',
            retry: { limit: 0 },
            throwHttpErrors: false,
          });
          return async () => {
            const resp = await client.get(url);
            return [resp.statusCode, resp.body.byteLength] as const;
          };
        });
      },
    },
    {
      name: 'wrk',
      code: `wrk ${WRK_ARGS.join(' ')} <url>  (elapsed = N / requests/s)`,
      async load() {
        const server = await startNginx();
        const perSecond = await runWrk(server.url);
        await server.stop();
        process.stderr.write(`wrk: ${perSecond} requests/s\n`);
        return async (n, mark) => {
          mark();
          await new Promise((r) => setTimeout(r, (n / perSecond) * 1000));
        };
      },
    },
  ],
};
