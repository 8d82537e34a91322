// PostgreSQL for the tests and the benchmark.
//
// `sharedDsn()` is the machine's server (DATABASE_URL, else
// postgres://root@127.0.0.1:5432/test); `sharedServer()` says whether it
// answers, and why not. A test file whose server is missing marks each of its
// tests skipped with that reason and prints the list of what it skipped
// (`skipBanner`): never a silent pass.
//
// `startCluster()` starts a private cluster for the fault tests that stop or
// kill the server: initdb into a fresh temp dir, `postgres` on a free
// loopback port with its socket in that dir, run as the `postgres` OS user
// when this process is root (PostgreSQL refuses to run as root). `restart()`
// stops it (fast shutdown) and starts it again on the same port; `stop()`
// stops it and removes the dir. A crashed test run must not leave it behind:
// it runs in its own process group, killed on exit.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './_nginx.ts';
import { requireServer } from './_helpers.ts';

/** The machine's PostgreSQL. */
export function sharedDsn(): string {
  return process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
}

/** `null` when the shared server answers, else why it does not (three tries: a busy machine may be slow). */
export async function sharedServer(): Promise<string | null> {
  let reason: string | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    reason = await probe();
    if (reason === null) return null;
  }
  requireServer(reason);
  return reason;
}

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: sharedDsn(), connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return `no PostgreSQL server answers at ${sharedDsn()} (${(error as Error).message}); start it (.ci/run does) or set DATABASE_URL`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Prints, loudly, which tests of `file` were skipped and why. */
export function skipBanner(file: string, reason: string, names: readonly string[]): void {
  const line = '!'.repeat(78);
  process.stderr.write(
    `\n${line}\n${file}: SKIPPING ${names.length} TESTS: ${reason}\n${names.map((n) => `  - skipped: ${n}`).join('\n')}\n${line}\n\n`,
  );
}

/** Where Debian's PostgreSQL 15 binaries are. */
export const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

/** `null` when a private cluster can be started, else why not. */
export function clusterSupport(): string | null {
  for (const tool of ['initdb', 'postgres']) {
    try {
      accessSync(join(PG_BIN, tool), constants.X_OK);
    } catch {
      return `${join(PG_BIN, tool)} not found (apt-get install postgresql-15, or set PG_BIN)`;
    }
  }
  return null;
}

/** A private PostgreSQL cluster. */
export interface Cluster extends AsyncDisposable {
  readonly port: number;
  /** A DSN for the `postgres` database as the `postgres` role. */
  readonly dsn: string;
  /** Stops the server (fast shutdown: sessions end with 57P01) and starts it again on the same port. */
  restart(downMs?: number): Promise<void>;
  /** Stops the server and removes its directory; harmless twice. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

const asRoot = process.getuid?.() === 0;

/** argv for running `cmd` as the postgres OS user when we are root. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitReady(dsn: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`postgres exited at startup (${child.exitCode ?? child.signalCode}):\n${log()}`);
    }
    const client = new pg.Client({ connectionString: dsn });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
    }
    if (performance.now() > deadline) throw new Error(`postgres did not come up in time:\n${log()}`);
    await sleepMs(50);
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts a private cluster (initdb + postgres) on a free loopback port. */
export async function startCluster(): Promise<Cluster> {
  const why = clusterSupport();
  if (why !== null) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'tsaio-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const [initCmd, initArgs] = asPostgres(join(PG_BIN, 'initdb'), [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '--no-sync',
  ]);
  execFileSync(initCmd, initArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await freePort();
  const dsn = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const logFile = join(dir, 'server.log');
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  let child: ChildProcess | null = null;
  const start = async () => {
    const args = [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
    ];
    const [cmd, argv] = asPostgres(join(PG_BIN, 'postgres'), args);
    const c = spawn('/bin/sh', ['-c', 'exec "$@" >>"$LOG" 2>&1', 'sh', cmd, ...argv], {
      stdio: 'ignore',
      detached: true,
      env: { ...process.env, LOG: logFile },
    });
    running.add(c);
    child = c;
    await waitReady(dsn, c, log);
  };
  const halt = async () => {
    const c = child;
    if (c === null) return;
    child = null;
    // SIGINT is PostgreSQL's fast shutdown: every session is ended with 57P01.
    try {
      process.kill(-c.pid!, 'SIGINT');
    } catch {
      // gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-c.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, 10_000);
    await exited(c);
    clearTimeout(timer);
    running.delete(c);
  };
  await start();
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    })());
  return {
    port,
    dsn,
    async restart(downMs = 0) {
      await halt();
      if (downMs > 0) await sleepMs(downMs);
      await start();
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
