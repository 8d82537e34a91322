// Fault tests of `tsaio/pg` against a private PostgreSQL cluster
// (test/_postgres.ts `startCluster`: initdb into a temp dir, a free port),
// never the machine's shared server: the server's own sessions are killed
// with pg_terminate_backend, and the server is restarted mid-run. Without
// PostgreSQL's binaries every test is marked skipped and the list printed.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gather, sleep } from '../src/index.ts';
import {
  AdminShutdownError,
  PostgresConnectionError,
  PostgresError,
  connect,
  createPool,
  type Pool,
} from '../src/pg/index.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';
import { clusterSupport, skipBanner, startCluster, type Cluster } from './_postgres.ts';

const FILE = 'test/pg-faults.test.ts';
const reason = clusterSupport();
const names: string[] = [];
let cluster: Cluster;

function faultTest(name: string, fn: () => Promise<void>): void {
  names.push(name);
  void test(name, { skip: reason ?? false, timeout: 120_000 }, fn);
}

const pools = new Set<Pool>();

async function pool(maxSize: number): Promise<Pool> {
  const p = await createPool({ dsn: cluster.dsn, minSize: maxSize, maxSize, connectTimeout: 10_000 });
  pools.add(p);
  return p;
}

async function admin<T>(fn: (conn: Awaited<ReturnType<typeof connect>>) => Promise<T>): Promise<T> {
  await using conn = await connect(cluster.dsn);
  return await fn(conn);
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const start = performance.now();
  while (!(await cond())) {
    if (since(start) > ms) assert.fail(`still not true after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  if (reason === null) cluster = await startCluster();
});

after(async () => {
  if (reason !== null) skipBanner(FILE, reason, names);
  else await cluster.stop();
});

afterEach(async () => {
  await Promise.all([...pools].map((p) => p.close()));
  pools.clear();
  await until(
    () => !process.getActiveResourcesInfo().includes('TCPSocketWrap'),
    `sockets left: ${JSON.stringify(process.getActiveResourcesInfo())}`,
  );
  await assertNoLeaks();
});

faultTest(
  'pg_terminate_backend on pooled connections mid-query: clear errors, the pool replaces them, nothing committed is lost',
  async () => {
    const p = await pool(4);
    await p.execute('DROP TABLE IF EXISTS kept; CREATE TABLE kept (n int)');
    await p.executemany(
      'INSERT INTO kept VALUES ($1)',
      Array.from({ length: 100 }, (_, i) => [i]),
    );
    const before = new Set(
      await gather(
        Array.from({ length: 4 }, () => () => p.fetchval<number>('SELECT pg_backend_pid(), pg_sleep(0.05)')),
      ),
    );
    const running = Array.from({ length: 4 }, () =>
      p.fetchval('SELECT pg_sleep(30)').then(
        () => null,
        (e: unknown) => e,
      ),
    );
    await until(
      async () =>
        (await admin((c) =>
          c.fetchval<number>(
            "SELECT count(*)::int FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'",
          ),
        )) === 4,
      'four queries running',
    );
    const killed = await admin((c) =>
      c.fetchval<number>(
        "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)'",
      ),
    );
    assert.equal(killed, 4);
    const errors = await Promise.all(running);
    for (const e of errors) {
      assert.ok(e instanceof AdminShutdownError, `a clear error: ${String(e)}`);
      assert.equal((e as PostgresError).code, '57P01');
      assert.match((e as Error).message, /terminating connection due to administrator command/);
    }
    // The pool replaces them: new sessions serve the next queries.
    const after = await gather(
      Array.from({ length: 8 }, () => () => p.fetchval<number>('SELECT pg_backend_pid()')),
    );
    for (const pid of after) assert.ok(!before.has(pid), 'a new session');
    assert.ok(p.getSize() <= 4);
    assert.equal(await p.fetchval('SELECT count(*)::int FROM kept'), 100, 'every committed row is there');
    // Idle pooled connections killed: dropped from the pool at once, replaced on demand.
    const idle = await admin((c) =>
      c.fetchval<number>(
        "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
      ),
    );
    assert.ok((idle ?? 0) >= 1);
    await until(() => p.getIdleSize() === 0, 'the killed idle connections left the pool');
    assert.equal(await p.fetchval('SELECT 1'), 1);
  },
);

faultTest('a FATAL error marks the connection closed at once, before the socket closes', async () => {
  const conn = await connect(cluster.dsn);
  try {
    const pid = conn.pid;
    const running = rejection(conn.fetchval('SELECT pg_sleep(30)'));
    await until(
      async () =>
        (await admin((c) =>
          c.fetchval<number>(
            'SELECT count(*)::int FROM pg_stat_activity WHERE pid = $1 AND state = $2',
            pid,
            'active',
          ),
        )) === 1,
      'the query running',
    );
    await admin((c) => c.fetchval('SELECT pg_terminate_backend($1)', pid));
    const e = await running;
    assert.ok(e instanceof AdminShutdownError, String(e));
    assert.equal(conn.isClosed(), true, 'closed in the same turn the query rejected');
    const next = await rejection(conn.fetchval('SELECT 1'));
    assert.ok(next instanceof AdminShutdownError, `the next call says why: ${String(next)}`);
  } finally {
    await conn.close();
  }
});

faultTest(
  'a server restart during a run: calls fail with typed errors while it is down, then the pool recovers; no acknowledged write is lost',
  async () => {
    const p = await pool(4);
    await p.execute('DROP TABLE IF EXISTS journal; CREATE TABLE journal (id int PRIMARY KEY)');
    const acked: number[] = [];
    const failures: unknown[] = [];
    let next = 0;
    let stop = false;
    let afterRestart = 0;
    let restarted = false;
    const worker = async () => {
      while (!stop) {
        const id = next++;
        try {
          await p.execute('INSERT INTO journal VALUES ($1)', id, { timeout: 5_000 });
          acked.push(id);
          if (restarted) afterRestart++;
        } catch (e) {
          failures.push(e);
          await sleep(20);
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    await until(() => acked.length >= 200, 'inserts before the restart');
    await cluster.restart(300);
    restarted = true;
    await until(() => afterRestart >= 200, 'inserts after the restart', 30_000);
    stop = true;
    await Promise.all(workers);
    assert.ok(failures.length > 0, 'the restart was felt');
    for (const e of failures) {
      assert.ok(e instanceof PostgresError, `typed: ${String(e)}`);
      assert.ok(
        e instanceof AdminShutdownError ||
          e instanceof PostgresConnectionError ||
          ['57P01', '57P03', '08003', '08001'].includes(e.code),
        `${e.name} ${e.code} ${e.message}`,
      );
    }
    const rows = new Set(
      await p.fetch<{ id: number }>('SELECT id FROM journal').then((r) => r.map((x) => x.id)),
    );
    const lost = acked.filter((id) => !rows.has(id));
    assert.deepEqual(lost, [], 'every acknowledged insert is in the table');
    assert.equal(await p.fetchval('SELECT 1'), 1);
  },
);

faultTest(
  '500 pool acquires aborted at random, some mid-query: the pool is back to idle, 0 backends leaked, 0 queries left running',
  async () => {
    const p = await createPool({
      dsn: cluster.dsn,
      minSize: 2,
      maxSize: 5,
      serverSettings: { application_name: 'tsaio-storm' },
    });
    pools.add(p);
    const outcome = { got: 0, cancelled: 0, timedOut: 0, queried: 0 };
    let seed = 12345;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    await gather(
      Array.from({ length: 500 }, (_, i) => async () => {
        await sleep(random() * 1000); // arrivals spread over a second
        const ctl = new AbortController();
        const abortAfter = random() * 30;
        const timer = setTimeout(() => ctl.abort(), abortAfter);
        try {
          await using conn = await p.acquire({ signal: ctl.signal, timeout: i % 7 === 0 ? 5 : 10_000 });
          outcome.got++;
          // A third run a query the abort may cut short on the server (PostgreSQL's cancel request).
          if (i % 3 === 0) {
            await conn.execute('SELECT pg_sleep(0.01)', { signal: ctl.signal });
            outcome.queried++;
          }
        } catch (err) {
          if ((err as Error).name === 'CancelledError') outcome.cancelled++;
          else if ((err as Error).name === 'TimeoutError') outcome.timedOut++;
          else throw err;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    assert.ok(outcome.cancelled > 20 && outcome.got > 100, JSON.stringify(outcome));
    console.log(`pool storm: ${JSON.stringify(outcome)}`);
    await until(() => p.getIdleSize() === p.getSize(), 'every connection back in the pool, idle');
    assert.ok(p.getSize() <= 5);
    await admin(async (conn) => {
      await until(
        async () =>
          (await conn.fetchval(
            "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = 'tsaio-storm'",
          )) === p.getSize(),
        'as many backends on the server as the pool holds open',
      );
      const running = await conn.fetchval(
        "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = 'tsaio-storm' AND state <> 'idle'",
      );
      assert.equal(running, 0, 'no query of the storm still running on the server');
    });
    // The pool still serves.
    assert.equal(await p.fetchval('SELECT 41 + 1'), 42);
  },
);
