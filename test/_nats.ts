// NATS for the tests: the machine's shared server (127.0.0.1:4222, with
// JetStream; .ci/run starts it when it is down), and a private nats-server
// for the fault tests that must restart or kill a server.
//
// - `natsTest(name, fn)` is `test(name, fn)` when the shared server answers,
//   and a skipped test when it does not; at the end of the file it prints, in
//   capitals, which tests were skipped and why. Never a silent pass.
// - `uniqueName(tag)` names a queue no other test (or engineer) uses; tests
//   `destroy()` their queues.
// - `startPrivateNats()` runs `nats-server -js` on a free loopback port with
//   its own temporary store, under a watchdog that kills it if this process
//   dies; `restart()` stops it (SIGTERM) and starts it again on the same port
//   and store; `stop()` ends it and removes the store.
// - `startNatsCluster()` runs three such servers as one JetStream cluster
//   (each its own client port, route port and store) and waits until the
//   cluster can place a stream on all three; `node.kill()` sends one SIGKILL,
//   `node.start()` brings it back on the same ports and store.
// - `spawnFixture(file, args)` runs a test fixture in a child process and
//   reads its stdout line by line.
import { after, test, type TestContext } from 'node:test';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect as natsConnect } from '@nats-io/transport-node';
import { StorageType, jetstreamManager } from '@nats-io/jetstream';
import { freePort } from './_nginx.ts';
import { requireServer } from './_helpers.ts';

export const NATS_URL = '127.0.0.1:4222';
export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** True if a NATS server greets us at `host:port` within `ms`. */
export function natsAnswers(port = 4222, host = '127.0.0.1', ms = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.once('data', (d) => done(d.toString('latin1').startsWith('INFO ')));
    socket.once('error', () => done(false));
  });
}

// A busy machine may be slow to answer: three tries before the tests are skipped.
const shared = (await natsAnswers()) || (await natsAnswers()) || (await natsAnswers(4222, '127.0.0.1', 5000));
/** Why the NATS tests are skipped, or `false` when the shared server answers. */
export const SKIP: string | false = shared
  ? false
  : `no NATS server answers at ${NATS_URL} (.ci/run starts one: nats-server -js)`;
requireServer(SKIP);
const skipped: string[] = [];

/** The skip reason for test `name` if it needs NATS and none answers (and notes it for the report), else `false`. */
export function natsSkip(name: string): string | false {
  if (SKIP !== false) skipped.push(name);
  return SKIP;
}

/** A test that needs the shared NATS server: skipped, loudly, without it. */
export function natsTest(
  name: string,
  fn: (t: TestContext) => Promise<void>,
  opts: { timeout?: number } = {},
): void {
  void test(name, { skip: natsSkip(name), timeout: opts.timeout ?? 60_000 }, fn);
}

after(() => {
  if (skipped.length === 0) return;
  process.stderr.write(
    `\n*** NATS TESTS SKIPPED: ${SKIP} ***\n*** ${skipped.length} tests did not run:\n` +
      skipped.map((n) => `***   - ${n}\n`).join('') +
      '\n',
  );
});

let counter = 0;
/** A queue or executor name unique to this run. */
export function uniqueName(tag: string): string {
  return `t-${tag}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

export const NATS_SERVER_PATHS = [
  '/usr/sbin/nats-server',
  '/usr/bin/nats-server',
  '/usr/local/bin/nats-server',
];

/** The nats-server binary, or a clear error. */
export function natsServerBinary(): string {
  for (const path of NATS_SERVER_PATHS) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  throw new Error(
    `nats-server is not installed (looked in ${NATS_SERVER_PATHS.join(', ')}); ` +
      'install it with `apt-get install -y nats-server` (.ci/run does this)',
  );
}

/** A private nats-server. */
export interface PrivateNats extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The server's process (changes on restart). */
  readonly pid: number;
  /** Stops the server (SIGTERM, or SIGKILL with `kill`) and starts it again on the same port and store. */
  restart(opts?: { kill?: boolean; downMs?: number }): Promise<void>;
  /** Sends a signal to the server process itself (SIGSTOP, SIGCONT, SIGKILL). */
  signal(sig: NodeJS.Signals): void;
  /** Sends SIGSTOP and waits until the kernel has really stopped the server (a signal is not instant). */
  pause(): Promise<void>;
  /** Waits for the server process to exit (after a SIGKILL sent with `signal`). */
  exited(): Promise<void>;
  /** Starts it again after it died (`signal('SIGKILL')`). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

// `sh -c WATCHDOG name nats-server args...`: nats-server runs in the
// background; a reader of our pipe sends it SIGKILL when the pipe closes
// (this process ended in any way); the shell exits with the server.
const WATCHDOG = `bin="$1"; shift
exec 3<&0
"$bin" "$@" </dev/null 3<&- &
pid=$!
echo "$pid"
(read -r _line <&3; kill -KILL "$pid" 2>/dev/null) &
exec 3<&-
wait "$pid"`;

interface Running {
  child: ChildProcess;
  pid: number;
  exited: Promise<void>;
}

function launch(port: number, dir: string, extra: readonly string[] = []): Promise<Running> {
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, '-l', join(dir, 'server.log')];
  args.push(...extra);
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'tsaio-nats-watchdog', natsServerBinary(), ...args], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  child.stdin!.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve({ child, pid: Number(d.toString().trim()), exited }));
    child.once('error', reject);
  });
}

async function waitUp(port: number, ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await natsAnswers(port, '127.0.0.1', 500))) {
    if (performance.now() > deadline)
      throw new Error(`the private nats-server did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts a private `nats-server -js` on a free port with a fresh store. */
export async function startPrivateNats(): Promise<PrivateNats> {
  const dir = mkdtempSync(join(tmpdir(), 'tsaio-nats-'));
  const port = await freePort();
  let running = await launch(port, dir);
  await waitUp(port);
  const end = async (kill: boolean): Promise<void> => {
    try {
      process.kill(running.pid, kill ? 'SIGKILL' : 'SIGTERM');
    } catch {
      // gone already
    }
    running.child.stdin!.destroy();
    await running.exited;
    running.child.stdout!.destroy();
  };
  let stopped: Promise<void> | null = null;
  const server: PrivateNats = {
    url: `127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return running.pid;
    },
    async restart(opts = {}) {
      await end(opts.kill === true);
      if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
      await server.start();
    },
    signal(sig) {
      process.kill(running.pid, sig);
    },
    async pause() {
      process.kill(running.pid, 'SIGSTOP');
      // The state is the field after the command name in /proc/PID/stat: T once stopped.
      const state = () =>
        / \) ?(\w) /.exec(readFileSync(`/proc/${running.pid}/stat`, 'latin1').replace(/^.*\)/s, ' )'))?.[1];
      for (let i = 0; i < 500 && state() !== 'T'; i++) await new Promise((r) => setTimeout(r, 2));
    },
    exited: () => running.exited,
    async start() {
      running = await launch(port, dir);
      await waitUp(port);
    },
    stop() {
      stopped ??= (async () => {
        await end(false);
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
    [Symbol.asyncDispose]: () => server.stop(),
  };
  return server;
}

/** One server of a private cluster. */
export interface ClusterNode {
  /** Its `server_name`: `n1`, `n2`, `n3` (what JetStream names as a stream's leader). */
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** The server's process (changes on start). */
  readonly pid: number;
  /** False from `kill()` until `start()`. */
  readonly alive: boolean;
  /** Sends SIGKILL to the server and waits until it has exited. */
  kill(): Promise<void>;
  /** Starts it again (after `kill`) on the same ports and store. */
  start(): Promise<void>;
}

/** A private JetStream cluster. */
export interface NatsCluster extends AsyncDisposable {
  readonly nodes: readonly ClusterNode[];
  /** Every server's client address, for `connect({ servers })`. */
  readonly urls: readonly string[];
  /** The node called `name` (a stream's `cluster.leader`). */
  node(name: string): ClusterNode;
  /** Waits until the cluster can place a stream on every live server (a meta leader that knows them all). */
  ready(ms?: number): Promise<void>;
  /** Ends every server and removes the stores. */
  stop(): Promise<void>;
}

const READY_PROBE = 'TSAIO_CLUSTER_READY';

/**
 * Starts `size` private `nats-server -js` processes as one JetStream cluster
 * (`tsaio-test`): free client and route ports picked now, a fresh store each,
 * each routed to the others; resolves once the cluster has a meta leader.
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const specs: { name: string; port: number; routePort: number; dir: string }[] = [];
  for (let i = 1; i <= size; i++) {
    specs.push({
      name: `n${i}`,
      port: await freePort(),
      routePort: await freePort(),
      dir: mkdtempSync(join(tmpdir(), `tsaio-nats-n${i}-`)),
    });
  }
  const nodes = specs.map((spec) => {
    const routes = specs.filter((o) => o !== spec).map((o) => `nats://127.0.0.1:${o.routePort}`);
    const extra = [
      '-server_name',
      spec.name,
      '-cluster_name',
      'tsaio-test',
      '-cluster',
      `nats://127.0.0.1:${spec.routePort}`,
      '-routes',
      routes.join(','),
    ];
    let running: Running | null = null;
    const node = {
      name: spec.name,
      url: `127.0.0.1:${spec.port}`,
      port: spec.port,
      dir: spec.dir,
      get pid() {
        return running?.pid ?? 0;
      },
      get alive() {
        return running !== null;
      },
      async start() {
        if (running !== null) return;
        running = await launch(spec.port, spec.dir, extra);
        await waitUp(spec.port);
      },
      async end(sig: NodeJS.Signals) {
        const r = running;
        if (r === null) return;
        running = null;
        try {
          process.kill(r.pid, sig);
        } catch {
          // gone already
        }
        r.child.stdin!.destroy();
        await r.exited;
        r.child.stdout!.destroy();
      },
      kill: () => node.end('SIGKILL'),
    };
    return node;
  });
  let stopped: Promise<void> | null = null;
  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((n) => n.url),
    node(name) {
      const found = nodes.find((n) => n.name === name);
      if (found === undefined) throw new Error(`no node ${JSON.stringify(name)} in the cluster`);
      return found;
    },
    async ready(ms = 30_000) {
      const deadline = performance.now() + ms;
      const live = nodes.filter((n) => n.alive);
      const nc = await natsConnect({ servers: live.map((n) => n.url), reconnectTimeWait: 100 });
      let last: unknown;
      try {
        const jsm = await jetstreamManager(nc, { checkAPI: false });
        // A meta leader is not enough: it must know every live server to place a stream on each.
        for (;;) {
          try {
            await jsm.streams.add({
              name: READY_PROBE,
              subjects: ['tsaio.cluster.ready'],
              num_replicas: live.length,
              storage: StorageType.Memory,
            });
            await jsm.streams.delete(READY_PROBE);
            return;
          } catch (error) {
            last = error;
            await jsm.streams.delete(READY_PROBE).catch(() => {});
          }
          if (performance.now() > deadline) {
            throw new Error(
              `the private NATS cluster cannot place a stream on its ${live.length} servers after ${ms} ms: ${String(last)}`,
            );
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      } finally {
        await nc.close();
      }
    },
    stop() {
      stopped ??= (async () => {
        await Promise.all(nodes.map((n) => n.end('SIGTERM')));
        for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
      })();
      return stopped;
    },
    [Symbol.asyncDispose]: () => cluster.stop(),
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await cluster.ready();
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** A child process running a fixture, with its stdout as lines. */
export interface Fixture {
  readonly child: ChildProcess;
  readonly lines: string[];
  readonly stderr: () => string;
  /** Resolves with the first line (already read or to come) matching `re`. */
  line(re: RegExp, ms?: number): Promise<string>;
  /** Resolves with the exit code (or the signal name). */
  exit(): Promise<number | string>;
}

/** Runs `node --import tsx <file> ...args` from the repository root. */
export function spawnFixture(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Fixture {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.NODE_TEST_CONTEXT;
  delete childEnv.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiting: { re: RegExp; resolve: (l: string) => void }[] = [];
  let rest = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    rest += d;
    const parts = rest.split('\n');
    rest = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiting]) {
        if (w.re.test(line)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exit = new Promise<number | string>((resolve) =>
    child.once('close', (code, sig) => resolve(code ?? sig ?? 'unknown')),
  );
  return {
    child,
    lines,
    stderr: () => err,
    line(re, ms = 30_000) {
      const found = lines.find((l) => re.test(l));
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(entry), 1);
          reject(
            new Error(`no line matching ${re} within ${ms} ms; got:\n${lines.join('\n')}\nstderr:\n${err}`),
          );
        }, ms);
        const entry = {
          re,
          resolve: (l: string) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        waiting.push(entry);
        void exit.then(() => {
          if (!waiting.includes(entry)) return;
          waiting.splice(waiting.indexOf(entry), 1);
          clearTimeout(timer);
          reject(
            new Error(`the fixture exited before printing ${re}; got:\n${lines.join('\n')}\nstderr:\n${err}`),
          );
        });
      });
    },
    exit: () => exit,
  };
}

/** True once `p` has settled (checked after a couple of loop turns). */
export async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  return done;
}
