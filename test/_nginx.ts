// A private nginx for the tests and the benchmark: a real HTTP server we did
// not write. `startNginx()` writes a config into a fresh temp dir (pid file,
// logs, temp paths and a docroot all inside it), runs `nginx -g 'daemon off;'`
// as a child of this process on a free loopback port, waits until it accepts,
// and returns `{ url, stop() }`. `stop()` sends SIGTERM to the master, waits
// for it to exit (SIGKILL to its process group after a grace period) and
// removes the temp dir. nginx missing is not a skip: .ci/run installs it, and
// so does `startNginx()` itself when it runs as root on a machine with
// apt-get (saying so on stderr); otherwise it fails with a clear message.
//
// Routes: `/1k.bin` (1 KiB), `/1m.bin` (1 MiB), `/16m.bin` (16 MiB),
// `/index.html` (`ok\n`), `/redirect` (302 to /1k.bin), `/redirect/2` (302 to
// /redirect), `/status/503`, `/status/404`, `/retry-after/503` (503 with
// `Retry-After: 1`), `/post` (echoes a small request body: it is proxied to
// nginx itself with the body in a header), `/nginx_status` (stub_status), and
// two that nginx itself makes slow: `/stall/1k.bin` (after the first request,
// `limit_req` holds every request for a minute or more before it answers)
// and `/stall-body/1m.bin` (the headers and 64 KiB at once, then
// `limit_rate` lets about a byte a second through). Every request is logged
// as `<connection> <connection_requests> <method> <uri> <status>`, which
// `accessLog()` parses.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian's package puts the binary; `PATH` is searched after it. */
export const NGINX_PATHS = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'];

/** Options of `startNginx`. */
export interface NginxOptions {
  /** `worker_processes` (default 1; the benchmark may want `auto`). */
  workers?: number | 'auto';
  /** Extra lines inside the `server { }` block (more `location`s). */
  extraServerConfig?: string;
  /** How long to wait for nginx to accept connections (default 10,000 ms). */
  startTimeout?: number;
}

/** A running private nginx. */
export interface Nginx extends AsyncDisposable {
  /** Its base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** The temp dir holding the config, logs and docroot. */
  readonly dir: string;
  /** The nginx master's pid. */
  readonly pid: number;
  /** The access log so far, one entry per request. */
  accessLog(): AccessLogEntry[];
  /** The error log so far. */
  errorLog(): string;
  /** Stops nginx (master and workers) and removes its temp dir; safe to call twice. */
  stop(): Promise<void>;
}

/** One line of the access log. */
export interface AccessLogEntry {
  /** nginx's connection serial number: requests on one keep-alive connection share it. */
  connection: number;
  /** The request's number on its connection, from 1. */
  connectionRequests: number;
  method: string;
  uri: string;
  status: number;
}

/** The path of the nginx binary, installing Debian's package if it is missing and we may. */
export function nginxBinary(): string {
  const found = findNginx();
  if (found !== null) return found;
  const apt = '/usr/bin/apt-get';
  let canInstall = process.getuid?.() === 0;
  try {
    accessSync(apt, constants.X_OK);
  } catch {
    canInstall = false;
  }
  const missing =
    `nginx is not installed (looked in ${NGINX_PATHS.join(', ')} and PATH). ` +
    'The HTTP tests and the benchmark run against a real nginx: install it with ' +
    '`apt-get install -y nginx` (.ci/run does this)';
  if (!canInstall) throw new Error(`${missing}.`);
  process.stderr.write("nginx is missing: installing Debian's package (apt-get install nginx)\n");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = ['install', '-y', '-qq', '--no-install-recommends', 'nginx'];
  try {
    execFileSync(apt, ['update', '-qq'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    execFileSync(apt, install, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new Error(`${missing}; installing it failed: ${String(error)}`, { cause: error });
  }
  const installed = findNginx();
  if (installed === null) throw new Error(`${missing}; apt-get installed no nginx binary.`);
  return installed;
}

function findNginx(): string | null {
  const candidates = [
    ...NGINX_PATHS,
    ...(process.env.PATH ?? '')
      .split(':')
      .filter(Boolean)
      .map((d) => join(d, 'nginx')),
  ];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const ONE_KIB = 1024;
const ONE_MIB = 1024 * 1024;

function config(dir: string, port: number, opts: NginxOptions): string {
  const isRoot = process.getuid?.() === 0;
  return `# generated by test/_nginx.ts
${isRoot ? 'user root;' : '# not root: workers run as the current user'}
worker_processes ${opts.workers ?? 1};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events {
  worker_connections 4096;
}
http {
  types {
    application/octet-stream bin;
    text/html html;
    application/json json;
  }
  default_type application/octet-stream;
  log_format tsaio '$connection $connection_requests $request_method $uri $status';
  access_log ${dir}/access.log tsaio;
  limit_req_zone $server_port zone=stall:1m rate=1r/m;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65s;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    server_name localhost;
    root ${dir}/www;
    location = /redirect { return 302 /1k.bin; }
    location = /redirect/2 { return 302 /redirect; }
    location = /status/503 { return 503; }
    location = /status/404 { return 404; }
    location = /retry-after/503 { add_header Retry-After 1 always; return 503; }
    location = /stall/1k.bin { alias ${dir}/www/1k.bin; limit_req zone=stall burst=10000; }
    location = /stall-body/1m.bin { alias ${dir}/www/1m.bin; limit_rate_after 64k; limit_rate 1; }
    location = /nginx_status { stub_status; }
    # An echo of small bodies: nginx reads the body, then proxies to itself
    # with the body in a header, and /_echo returns that header.
    location = /post {
      client_body_buffer_size 1m;
      client_body_in_single_buffer on;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Echo-Body $request_body;
      proxy_set_header X-Echo-Type $content_type;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_pass http://127.0.0.1:${port}/_echo;
    }
    location = /_echo {
      allow 127.0.0.1;
      deny all;
      access_log off;
      add_header X-Echo-Content-Type $http_x_echo_type always;
      default_type text/plain;
      return 200 $http_x_echo_body;
    }
${opts.extraServerConfig ?? ''}
  }
}
`;
}

/**
 * `sh -c WATCHDOG name nginx args...`: starts nginx (stdin from /dev/null),
 * and a reader of our pipe (as fd 3: a background job's stdin would be
 * /dev/null) that sends nginx SIGTERM at end of file; exits with nginx's
 * status.
 */
const WATCHDOG = `nginx="$1"; shift
exec 3<&0
"$nginx" "$@" </dev/null 3<&- &
pid=$!
(read -r _line <&3; kill -TERM "$pid" 2>/dev/null) &
exec 3<&-
wait "$pid"`;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A crashed test run must not leave nginx behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Resolves once the child exited and its pipes closed. */
function closed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.stdin?.destroy();
    child.stderr?.destroy();
    if (child.exitCode === null && child.signalCode === null) child.once('close', () => resolve());
    else setImmediate(resolve);
  });
}

/** One attempt on one port; throws if nginx does not come up. */
async function startOn(dir: string, port: number, opts: NginxOptions): Promise<Nginx> {
  const binary = nginxBinary();
  writeFileSync(join(dir, 'nginx.conf'), config(dir, port, opts));
  const args = ['-p', `${dir}/`, '-e', `${dir}/error.log`, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'];
  // nginx runs under a small sh watchdog in its own process group (so that
  // stop() reaches the workers too). The watchdog holds a pipe from this
  // process: when the pipe closes, because stop() closed it or because this
  // process died in any way (SIGKILL, a test-runner timeout), it sends nginx
  // SIGTERM. So no nginx outlives the tests.
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'tsaio-nginx-watchdog', binary, ...args], {
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
  });
  running.add(child);
  installExitHook();
  child.stdin!.on('error', () => {}); // the watchdog may be gone already
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr += d));
  let spawnError: Error | null = null;
  child.once('error', (e) => (spawnError = e));
  const deadline = performance.now() + (opts.startTimeout ?? 10_000);
  const errorLog = (): string => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.destroy(); // end of file: the watchdog sends nginx SIGTERM
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 5_000)));
      const outcome = await Promise.race([exited(child), grace]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
        await exited(child);
      }
    }
    // Workers exit with the master on SIGTERM; make sure of it.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is gone: good
    }
    running.delete(child);
  };
  for (;;) {
    if (spawnError !== null || child.exitCode !== null || child.signalCode !== null) {
      await kill();
      throw new Error(
        `nginx exited at startup (code ${child.exitCode}, signal ${child.signalCode})` +
          `${spawnError ? `: ${String(spawnError)}` : ''}\n${stderr}${errorLog()}`,
      );
    }
    if (await canConnect(port)) break;
    if (performance.now() > deadline) {
      await kill();
      throw new Error(
        `nginx did not accept connections on 127.0.0.1:${port} in time\n${stderr}${errorLog()}`,
      );
    }
    await sleepMs(20);
  }
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await kill();
      await closed(child);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    pid: masterPid(dir) ?? child.pid!,
    accessLog: () => parseAccessLog(dir),
    errorLog,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

function masterPid(dir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dir, 'nginx.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function parseAccessLog(dir: string): AccessLogEntry[] {
  let text: string;
  try {
    text = readFileSync(join(dir, 'access.log'), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [connection, requests, method, uri, status] = line.split(' ');
      return {
        connection: Number(connection),
        connectionRequests: Number(requests),
        method: method ?? '',
        uri: uri ?? '',
        status: Number(status),
      };
    });
}

/**
 * Starts a private nginx on a free loopback port (retrying on another port if
 * the first was taken meanwhile). Throws a clear error if nginx is not installed.
 */
export async function startNginx(opts: NginxOptions = {}): Promise<Nginx> {
  nginxBinary(); // fail early and clearly
  const dir = mkdtempSync(join(tmpdir(), 'tsaio-nginx-'));
  // Workers may run as another user: everything they read must be readable.
  chmodSync(dir, 0o755);
  for (const sub of ['www', 'tmp']) mkdirSync(join(dir, sub), { mode: 0o755 });
  writeFileSync(join(dir, 'www', '1k.bin'), Buffer.alloc(ONE_KIB, 0x6b), { mode: 0o644 });
  const big = Buffer.alloc(ONE_MIB);
  for (let i = 0; i < big.length; i++) big[i] = oneMibByte(i);
  writeFileSync(join(dir, 'www', '1m.bin'), big, { mode: 0o644 });
  writeFileSync(join(dir, 'www', '16m.bin'), Buffer.concat(Array.from({ length: 16 }, () => big)), {
    mode: 0o644,
  });
  writeFileSync(join(dir, 'www', 'index.html'), 'ok\n', { mode: 0o644 });
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOn(dir, await freePort(), opts);
    } catch (error) {
      lastError = error;
      if (!/Address already in use/.test(String(error))) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

/** Sizes of the docroot files, for assertions. */
export const NGINX_FILES = { '1k.bin': ONE_KIB, '1m.bin': ONE_MIB, '16m.bin': 16 * ONE_MIB } as const;

/** The byte at offset `i` of `/1m.bin` (and of `/16m.bin`: sixteen copies of it). */
export function oneMibByte(i: number): number {
  return (i % ONE_MIB) % 251;
}
