// Behaviour tests of `tsaio/sqlite` on real files in a temp dir: cursors,
// Python's transaction rules, typed errors, cancellation, many writers on
// one WAL database, and a crashed worker thread. After each test every
// connection it opened is closed and its worker thread has exited, and no
// tsaio or Node timer is left.
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, InvalidStateError, createTask, gather } from '../src/index.ts';
import { _hookCount } from '../src/_cancel.ts';
import {
  Connection,
  Cursor,
  DataError,
  IntegrityError,
  OperationalError,
  SqliteError,
  WorkerCrashedError,
  connect,
  type ConnectOptions,
} from '../src/sqlite/index.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsaio-sqlite-'));
let fileNo = 0;
const opened = new Set<Connection>();

function dbFile(): string {
  return join(dir, `db${++fileNo}.sqlite`);
}

async function open(path = ':memory:', opts?: ConnectOptions): Promise<Connection> {
  const db = await connect(path, opts);
  opened.add(db);
  return db;
}

/** A worker whose 'exit' has fired has threadId -1. */
function threadGone(db: Connection): boolean {
  return db._worker.threadId === -1;
}

afterEach(async () => {
  for (const db of opened) {
    await db.close();
    assert.ok(threadGone(db), `the worker thread of ${db.path} has exited`);
  }
  opened.clear();
  await assertNoLeaks();
});

after(() => rmSync(dir, { recursive: true, force: true }));

void test('connect: a file (created), :memory:, close twice, await using, closed connection', async () => {
  const path = dbFile();
  const db = await connect(path);
  assert.equal(db.path, path);
  await db.execute('CREATE TABLE t (n INTEGER)');
  await db.close();
  await db.close();
  assert.ok(threadGone(db));
  assert.equal(db.closed, true);
  const e = await rejection(db.execute('SELECT 1'));
  assert.ok(e instanceof InvalidStateError, String(e));
  assert.match((e as Error).message, /Connection\.execute: the connection is closed/);
  let mem: Connection;
  {
    await using m = await connect(':memory:');
    mem = m;
    assert.deepEqual(await (await m.execute('SELECT 1 AS one')).fetchall(), [{ one: 1 }]);
  }
  assert.ok(threadGone(mem));
  assert.match(String(mem), /closed/);
});

void test('connect: bad arguments, a missing read-only file, a pre-aborted signal', async () => {
  await assert.rejects(connect(5 as never), TypeError);
  await assert.rejects(connect(':memory:', { timeout: -1 }), RangeError);
  await assert.rejects(connect(':memory:', { rowMode: 'tuple' as never }), TypeError);
  await assert.rejects(connect(':memory:', { isolationLevel: 'LAZY' as never }), RangeError);
  const missing = await rejection(connect(join(dir, 'missing.sqlite'), { readonly: true }));
  assert.ok(missing instanceof SqliteError, String(missing));
  const ac = new AbortController();
  ac.abort('no');
  const pre = await rejection(connect(':memory:', { signal: ac.signal }));
  assert.ok(pre instanceof CancelledError);
  const ro = await open(dbFile());
  await ro.execute('CREATE TABLE t (n INTEGER)');
  await ro.close();
  const reader = await open(ro.path, { readonly: true });
  const e = await rejection(reader.execute('INSERT INTO t VALUES (1)'));
  assert.ok(e instanceof OperationalError && e.code === 'SQLITE_READONLY', String(e));
});

void test('execute and cursors: fetchone (null at the end), fetchmany ([] at the end), fetchall, for await, lastrowid, rowcount', async () => {
  const db = await open();
  const create = await db.execute('CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)');
  assert.ok(create instanceof Cursor);
  assert.equal(create.description, null);
  const ins = await db.execute('INSERT INTO users(name) VALUES(?)', ['John Doe']);
  assert.equal(ins.lastrowid, 1);
  assert.equal(ins.rowcount, 1);
  const many = await db.executemany('INSERT INTO users(name) VALUES(?)', [['A'], ['B'], ['C']]);
  assert.equal(many.rowcount, 3);
  assert.equal(many.lastrowid, 4);
  const upd = await db.execute('UPDATE users SET name = upper(name) WHERE id > :min', { min: 1 });
  assert.equal(upd.rowcount, 3);
  const cur = await db.execute('SELECT id, name FROM users ORDER BY id');
  assert.deepEqual(cur.description, ['id', 'name']);
  assert.equal(cur.rowcount, -1);
  assert.deepEqual(await cur.fetchone(), { id: 1, name: 'John Doe' });
  assert.deepEqual(await cur.fetchmany(), [{ id: 2, name: 'A' }], 'arraysize 1');
  cur.arraysize = 5;
  assert.deepEqual(await cur.fetchmany(), [
    { id: 3, name: 'B' },
    { id: 4, name: 'C' },
  ]);
  assert.deepEqual(await cur.fetchmany(), []);
  assert.equal(await cur.fetchone(), null);
  assert.deepEqual(await cur.fetchall(), []);
  await cur.close();
  const rows: unknown[] = [];
  {
    await using c = await db.execute('SELECT name FROM users WHERE id <= ?', [2]);
    for await (const row of c) rows.push(row);
  }
  assert.deepEqual(rows, [{ name: 'John Doe' }, { name: 'A' }]);
  assert.deepEqual(
    await (await db.execute('SELECT 1 AS a, 2 AS b', undefined, { rowMode: 'array' })).fetchall(),
    [[1, 2]],
  );
  await assert.rejects(cur.fetchmany(-1), RangeError);
  await assert.rejects(db.execute('SELECT 1', 'x' as never), TypeError);
});

void test('rows beyond the first chunk stay in the worker until fetched; another statement meanwhile is fine', async () => {
  const db = await open(':memory:', { rowMode: 'array' });
  const sql =
    'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000) SELECT x FROM n';
  const a = await db.execute(sql);
  const b = await db.execute(sql);
  assert.deepEqual(await a.fetchmany(3), [[1], [2], [3]]);
  // A write while both cursors are open (better-sqlite3 alone refuses this).
  await db.execute('CREATE TABLE t (n INTEGER)');
  await db.execute('INSERT INTO t VALUES (1)');
  const restA = await a.fetchall();
  assert.equal(restA.length, 4997);
  assert.deepEqual(restA.at(-1), [5000]);
  let count = 0;
  for await (const _row of b) count++;
  assert.equal(count, 5000);
  const c = await db.execute(sql);
  await c.fetchone();
  await c.close(); // frees the rest in the worker
  await c.close();
  assert.equal(await c.fetchone(), null);
});

void test('values: bytes, booleans, dates, bigints, null; what cannot be bound is a TypeError', async () => {
  const db = await open();
  await db.execute('CREATE TABLE v (b BLOB, f INTEGER, d TEXT, i INTEGER, z)');
  const when = new Date('2024-01-02T03:04:05.006Z');
  await db.execute('INSERT INTO v VALUES (?, ?, ?, ?, ?)', [
    new Uint8Array([1, 2, 255]),
    true,
    when,
    2n ** 40n,
    undefined,
  ]);
  const row = (await (await db.execute('SELECT * FROM v')).fetchone()) as Record<string, unknown>;
  assert.ok(Buffer.isBuffer(row.b));
  assert.deepEqual([...(row.b as Buffer)], [1, 2, 255]);
  assert.equal(row.f, 1);
  assert.equal(row.d, '2024-01-02T03:04:05.006Z');
  assert.equal(row.i, 2 ** 40);
  assert.equal(row.z, null);
  await assert.rejects(db.execute('SELECT ?', [{ a: 1 }]), /parameter 1 cannot be bound/);
  await assert.rejects(db.execute('SELECT ?', [() => 1]), TypeError);
  await assert.rejects(db.execute('SELECT :a', { a: Symbol('x') }), /parameter a cannot be bound/);
});

void test("Python's transaction rules: DML opens a transaction, commit publishes it, rollback drops it, close drops it", async () => {
  const path = dbFile();
  const a = await open(path);
  const b = await open(path);
  await a.execute('CREATE TABLE t (n INTEGER)');
  assert.equal(a.inTransaction, false, 'DDL opens no transaction');
  await (await a.execute('SELECT * FROM t')).fetchall();
  assert.equal(a.inTransaction, false, 'SELECT opens no transaction');
  await a.execute('INSERT INTO t VALUES (1)');
  assert.equal(a.inTransaction, true);
  const count = async (db: Connection) =>
    ((await (await db.execute('SELECT count(*) AS n FROM t')).fetchone()) as { n: number }).n;
  assert.equal(await count(b), 0, 'not visible before commit');
  await a.commit();
  assert.equal(a.inTransaction, false);
  assert.equal(await count(b), 1, 'visible after commit');
  await a.execute('INSERT INTO t VALUES (2)');
  await a.rollback();
  assert.equal(await count(a), 1);
  await a.commit(); // nothing to commit: harmless
  await a.execute('  -- a comment\n  UPDATE t SET n = 10');
  assert.equal(a.inTransaction, true, 'a leading comment does not hide the UPDATE');
  await a.close();
  assert.equal(await count(b), 1);
  assert.equal(
    ((await (await b.execute('SELECT n FROM t')).fetchone()) as { n: number }).n,
    1,
    'close dropped the update',
  );
  // executescript commits what is pending first, then runs as it is.
  await b.execute('INSERT INTO t VALUES (3)');
  await b.executescript('CREATE TABLE u (x); INSERT INTO u VALUES (1); INSERT INTO u VALUES (2);');
  assert.equal(b.inTransaction, false);
  const c = await open(path);
  assert.equal(await count(c), 2);
  // isolationLevel null: autocommit.
  const auto = await open(path, { isolationLevel: null });
  await auto.execute('INSERT INTO t VALUES (4)');
  assert.equal(auto.inTransaction, false);
  assert.equal(await count(c), 3);
  assert.equal(auto.isolationLevel, null);
  assert.equal(a.isolationLevel, 'DEFERRED');
});

void test('transaction helper: commits, rolls back on throw, nests as savepoints', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (n INTEGER)');
  assert.equal(
    await db.transaction(
      async () => {
        await db.execute('INSERT INTO t VALUES (1)');
        await assert.rejects(
          db.transaction(async () => {
            await db.execute('INSERT INTO t VALUES (2)');
            throw new Error('inner');
          }),
          /inner/,
        );
        await db.transaction(async () => db.execute('INSERT INTO t VALUES (3)'));
        return 'ok';
      },
      { mode: 'immediate' },
    ),
    'ok',
  );
  await assert.rejects(
    db.transaction(async () => {
      await db.execute('INSERT INTO t VALUES (4)');
      throw new Error('outer');
    }),
    /outer/,
  );
  assert.equal(db.inTransaction, false);
  assert.deepEqual(
    await (await db.execute('SELECT n FROM t ORDER BY n', undefined, { rowMode: 'array' })).fetchall(),
    [[1], [3]],
  );
  await assert.rejects(
    db.transaction(async () => {}, { mode: 'lazy' as never }),
    RangeError,
  );
});

void test('errors are typed with their SQLite code; the connection stays usable', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  await db.execute("INSERT INTO t VALUES (1, 'a')");
  const cases: [() => Promise<unknown>, new (...a: never[]) => Error, RegExp][] = [
    [() => db.execute("INSERT INTO t VALUES (1, 'b')"), IntegrityError, /UNIQUE constraint failed/],
    [() => db.execute('INSERT INTO t VALUES (2, NULL)'), IntegrityError, /NOT NULL constraint failed/],
    [() => db.execute('SELEC 1'), OperationalError, /syntax error/],
    [() => db.execute('SELECT * FROM nowhere'), OperationalError, /no such table: nowhere/],
    [() => db.execute('SELECT ?, ?', [1]), RangeError, /Connection\.execute: Too few parameter values/],
    [() => db.executemany('SELECT ?', [[1]]), TypeError, /cannot run a statement that returns rows/],
  ];
  for (const [p, cls, message] of cases) {
    const e = await rejection(p());
    assert.ok(e instanceof cls, `${String(e)} is a ${cls.name}`);
    assert.match((e as Error).message, message);
    assert.deepEqual(await (await db.execute('SELECT count(*) AS n FROM t')).fetchone(), { n: 1 });
  }
  const dup = await rejection(db.execute("INSERT INTO t VALUES (1, 'b')"));
  assert.equal((dup as SqliteError).code, 'SQLITE_CONSTRAINT_PRIMARYKEY');
  assert.equal((dup as Error).name, 'IntegrityError');
});

void test('cancellation: pre-aborted calls send nothing; calls still waiting behind a slow one never run', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (n INTEGER)');
  const ac = new AbortController();
  ac.abort('no');
  assert.ok(
    (await rejection(db.execute('INSERT INTO t VALUES (1)', undefined, { signal: ac.signal }))) instanceof
      CancelledError,
  );
  const slow = db.execute(
    'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000000) SELECT count(*) AS c FROM n',
  );
  const later = new AbortController();
  const waiting = Array.from({ length: 300 }, (_, i) =>
    db.execute('INSERT INTO t VALUES (?)', [i], { signal: later.signal }),
  );
  later.abort('stop');
  for (const r of await Promise.allSettled(waiting)) {
    assert.ok(r.status === 'rejected' && r.reason instanceof CancelledError, String(r));
    assert.equal((r.reason as Error).cause, 'stop');
  }
  assert.deepEqual(await (await slow).fetchone(), { c: 2_000_000 });
  assert.deepEqual(
    await (await db.execute('SELECT count(*) AS n FROM t')).fetchone(),
    { n: 0 },
    'none of them ran',
  );
  assert.equal(_hookCount(later.signal), 0);
  // A task cancelled while its statement runs in the worker: the statement finishes there and (it ran)
  // the task learns its result; its next wait on the aborted signal is cancelled.
  let ran: unknown = null;
  const task = createTask(async (signal) => {
    const cursor = await db.execute(
      'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 2000000) SELECT count(*) AS c FROM n',
      undefined,
      { signal },
    );
    ran = await cursor.fetchone();
    await db.execute('SELECT 1', undefined, { signal });
  });
  setTimeout(() => task.cancel(), 50);
  await assert.rejects(task, CancelledError);
  assert.deepEqual(ran, { c: 2_000_000 });
  assert.deepEqual(await (await db.execute('SELECT 1 AS ok')).fetchone(), { ok: 1 });
});

void test('the call queue: cancelled queued calls never run and leave no waiter; the others run in call order', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (n INTEGER)');
  const queue = (db as unknown as { _queue: { size: number } })._queue;
  const slow = db.execute(
    'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000) SELECT count(*) AS c FROM n',
  );
  // 127 calls fill the window behind the slow one; the rest wait in the queue, every other one cancelled.
  const stops = Array.from({ length: 1000 }, () => new AbortController());
  const calls = stops.map((ac, i) => db.execute('INSERT INTO t VALUES (?)', [i], { signal: ac.signal }));
  assert.equal(queue.size, 1000 - 127);
  for (let i = 999; i >= 0; i -= 2) stops[i]!.abort(`stop ${i}`);
  assert.equal(queue.size, 436, 'the 437 cancelled ones (odd, 127 to 999) left the queue at once');
  const settled = await Promise.allSettled(calls);
  settled.forEach((r, i) => {
    if (i % 2 === 0) assert.equal(r.status, 'fulfilled', `call ${i}`);
    else {
      assert.ok(r.status === 'rejected' && r.reason instanceof CancelledError, `call ${i}`);
      assert.equal((r.reason as Error).cause, `stop ${i}`);
    }
  });
  await slow;
  const rows = await (await db.execute('SELECT n FROM t ORDER BY rowid')).fetchall();
  assert.deepEqual(
    rows.map((r) => (r as { n: number }).n),
    Array.from({ length: 500 }, (_, i) => 2 * i),
    'the calls not cancelled ran, in call order; the cancelled ones never ran',
  );
  assert.equal(queue.size, 0);
  for (const ac of stops) assert.equal(_hookCount(ac.signal), 0);
  // A task cancelled while its call waits in the queue: the call leaves, the task is cancelled.
  const blocker = db.execute(
    'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 500000) SELECT count(*) FROM n',
  );
  const filler = Array.from({ length: 127 }, () => db.execute('SELECT 1'));
  const task = createTask((signal) => db.execute('INSERT INTO t VALUES (-1)', undefined, { signal }));
  await new Promise((r) => setImmediate(r));
  assert.equal(queue.size, 1);
  task.cancel();
  await assert.rejects(task, CancelledError);
  assert.equal(queue.size, 0);
  await Promise.all([blocker, ...filler]);
  assert.deepEqual(await (await db.execute('SELECT count(*) AS n FROM t WHERE n = -1')).fetchone(), { n: 0 });
});

void test('the event loop stays free while SQL runs in the worker', async () => {
  const db = await open();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const t0 = performance.now();
  await db.execute(
    'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1500000) SELECT count(*) FROM n',
  );
  const ms = performance.now() - t0;
  clearInterval(timer);
  assert.ok(ms > 50, `the query took ${ms} ms`);
  assert.ok(ticks >= 3, `timers kept firing during a ${Math.round(ms)} ms query: ${ticks} ticks`);
});

void test('WAL: concurrent writers from several connections and tasks lose no row', async () => {
  const path = dbFile();
  const setup = await open(path);
  assert.deepEqual(await (await setup.execute('PRAGMA journal_mode=WAL')).fetchone(), {
    journal_mode: 'wal',
  });
  await setup.execute('CREATE TABLE log (writer TEXT, seq INTEGER, PRIMARY KEY (writer, seq))');
  const conns = await Promise.all(Array.from({ length: 4 }, () => open(path, { timeout: 10_000 })));
  const own = await Promise.all(Array.from({ length: 2 }, () => open(path, { timeout: 10_000 })));
  const PER_TASK = 30;
  await gather([
    // Three tasks on each shared connection: implicit transactions (Python's rules) and commits.
    ...conns.flatMap((db, c) =>
      Array.from({ length: 3 }, (_, t) => async () => {
        for (let i = 0; i < PER_TASK; i++) {
          await db.execute('INSERT INTO log VALUES (?, ?)', [`c${c}t${t}`, i]);
          if (i % 5 === 4) await db.commit();
        }
      }),
    ),
    // One task per connection with explicit IMMEDIATE transactions.
    ...own.map((db, c) => async () => {
      for (let i = 0; i < PER_TASK; i++) {
        await db.transaction(async () => db.execute('INSERT INTO log VALUES (?, ?)', [`own${c}`, i]), {
          mode: 'immediate',
        });
      }
    }),
  ]);
  for (const db of conns) await db.commit();
  const reader = await open(path);
  const total = (await (
    await reader.execute('SELECT count(*) AS n, count(DISTINCT writer) AS w FROM log')
  ).fetchone()) as Record<string, number>;
  assert.deepEqual(total, { n: (4 * 3 + 2) * PER_TASK, w: 14 });
});

void test('busy timeout: a writer waits for the lock, then fails with SQLITE_BUSY; DataError for a too big value', async () => {
  const path = dbFile();
  const a = await open(path);
  await a.execute('CREATE TABLE t (n INTEGER)');
  const b = await open(path, { timeout: 100 });
  await a.transaction(
    async () => {
      await a.execute('INSERT INTO t VALUES (1)');
      const start = performance.now();
      const e = await rejection(b.execute('INSERT INTO t VALUES (2)'));
      assert.ok(e instanceof OperationalError, String(e));
      assert.match((e as SqliteError).code, /^SQLITE_BUSY/);
      assert.match((e as Error).message, /database is locked/);
      assert.ok(performance.now() - start >= 90, 'it waited for the busy timeout');
    },
    { mode: 'immediate' },
  );
  await b.rollback();
  await b.execute('INSERT INTO t VALUES (3)');
  await b.commit();
  const big = await rejection(a.execute('SELECT zeroblob(2000000000) AS z'));
  assert.ok(big instanceof DataError, String(big));
});

void test('a crash of the worker thread: pending and later calls reject with WorkerCrashedError; close still resolves', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (n INTEGER)');
  const pending = db.execute(
    'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000000) SELECT count(*) FROM n',
  );
  const queued = Array.from({ length: 5 }, () => db.execute('INSERT INTO t VALUES (1)'));
  await db._worker.terminate(); // what a crash looks like from here: the thread is gone
  for (const r of await Promise.allSettled([pending, ...queued])) {
    assert.equal(r.status, 'rejected');
    const e = (r as PromiseRejectedResult).reason as unknown;
    assert.ok(e instanceof WorkerCrashedError, String(e));
    assert.match((e as Error).message, /the SQLite worker thread of :memory: ended unexpectedly/);
    assert.equal((e as SqliteError).code, 'TSAIO_SQLITE_WORKER_CRASHED');
  }
  assert.ok((await rejection(db.execute('SELECT 1'))) instanceof WorkerCrashedError);
  assert.equal(db.closed, true);
  await db.close();
});
