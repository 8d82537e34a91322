// Behaviour tests of `tsaio/pg` against the machine's PostgreSQL server
// (test/_postgres.ts: DATABASE_URL, else 127.0.0.1:5432/test). Everything
// this file creates lives in a schema of its own (dropped at the end), so it
// can run beside other test files. Without a server every test is marked
// skipped, and the list is printed: never a silent pass.
//
// After each test: every connection it opened is closed, no TCP socket is
// left in this process, and no tsaio or Node timer is pending.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, InvalidStateError, TimeoutError, createTask, gather, sleep } from '../src/index.ts';
import { _hookCount } from '../src/_cancel.ts';
import {
  Connection,
  Cursor,
  DivisionByZeroError,
  ForeignKeyViolationError,
  InFailedSQLTransactionError,
  InvalidTextRepresentationError,
  NotNullViolationError,
  Pool,
  PoolConnection,
  PostgresConnectionError,
  PostgresError,
  PostgresSyntaxError,
  ReadOnlySQLTransactionError,
  SerializationError,
  UndefinedColumnError,
  UndefinedTableError,
  UniqueViolationError,
  connect,
  createPool,
  type PoolOptions,
} from '../src/pg/index.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';
import { sharedDsn, sharedServer, skipBanner } from './_postgres.ts';

const FILE = 'test/pg.test.ts';
const reason = await sharedServer();
const SCHEMA = `tsaio_pg_${process.pid}`;
const names: string[] = [];

function pgTest(name: string, fn: () => Promise<void>): void {
  names.push(name);
  void test(name, { skip: reason ?? false }, fn);
}

const base = { dsn: sharedDsn(), serverSettings: { search_path: SCHEMA } };
const opened = new Set<{ close(): Promise<void> }>();

async function open(extra: Parameters<typeof connect>[0] & object = {}): Promise<Connection> {
  const conn = await connect({ ...base, ...extra });
  opened.add(conn);
  return conn;
}

async function pool(extra: PoolOptions = {}): Promise<Pool> {
  const p = await createPool({ ...base, minSize: 1, maxSize: 3, ...extra });
  opened.add(p);
  return p;
}

function tcpSockets(): number {
  return process.getActiveResourcesInfo().filter((k) => k === 'TCPSocketWrap').length;
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 5_000): Promise<void> {
  const start = performance.now();
  while (!(await cond())) {
    if (since(start) > ms) assert.fail(`still not true after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What the server says backend `pid` is doing: its state and query, or null when it is gone. */
async function activity(pid: number): Promise<{ state: string; query: string } | null> {
  await using admin = await connect(sharedDsn());
  return await admin.fetchrow<{ state: string; query: string }>(
    'SELECT state, query FROM pg_stat_activity WHERE pid = $1',
    pid,
  );
}

before(async () => {
  if (reason !== null) return;
  await using admin = await connect(sharedDsn());
  await admin.execute(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}`);
});

after(async () => {
  if (reason !== null) {
    skipBanner(FILE, reason, names);
    return;
  }
  await using admin = await connect(sharedDsn());
  await admin.execute(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
});

afterEach(async () => {
  await Promise.all([...opened].map((c) => c.close()));
  opened.clear();
  await until(
    () => tcpSockets() === 0,
    `TCP sockets left: ${JSON.stringify(process.getActiveResourcesInfo())}`,
  );
  await assertNoLeaks();
});

// ---------------------------------------------------------------- connect

pgTest(
  'connect: a DSN string or an options object; close twice is harmless; await using closes',
  async () => {
    const a = await connect(sharedDsn());
    assert.equal(await a.fetchval('SELECT 1'), 1);
    assert.equal(typeof a.pid, 'number');
    assert.match(String(a), /^<Connection pid=\d+ idle>$/);
    await a.close();
    await a.close();
    assert.equal(a.isClosed(), true);
    const err = await rejection(a.fetch('SELECT 1'));
    assert.ok(err instanceof InvalidStateError, String(err));
    assert.match((err as Error).message, /Connection\.fetch: the connection is closed/);
    let pid = 0;
    {
      await using b = await open({ serverSettings: { application_name: 'tsaio test', search_path: SCHEMA } });
      pid = b.pid;
      assert.equal(await b.fetchval('SHOW application_name'), 'tsaio test');
    }
    await until(async () => (await activity(pid)) === null, 'the disposed connection is gone on the server');
  },
);

pgTest('connect: refused, bad database, bad arguments, pre-aborted signal, timeout', async () => {
  const refused = await rejection(connect('postgres://root@127.0.0.1:1/test'));
  assert.ok(refused instanceof PostgresConnectionError, String(refused));
  assert.equal((refused as PostgresError).code, '08001');
  assert.match((refused as Error).message, /could not connect to 127\.0\.0\.1:1\/test: .*ECONNREFUSED/);
  const url = new URL(sharedDsn());
  url.pathname = '/no_such_database_tsaio';
  const missing = await rejection(connect(url.href));
  assert.ok(missing instanceof PostgresError && missing.code === '3D000', String(missing));
  await assert.rejects(connect(42 as unknown as string), TypeError);
  // A malformed DSN says so, before any lookup (it used to fail with "getaddrinfo ENOTFOUND base").
  for (const dsn of [
    'not a dsn',
    'localhost',
    'host=localhost dbname=test',
    'mysql://root@127.0.0.1/test',
    'postgres://:5432/x',
  ]) {
    const err = await rejection(connect(dsn));
    assert.ok(err instanceof TypeError, `${dsn}: ${String(err)}`);
    assert.match((err as Error).message, /malformed DSN/);
  }
  await assert.rejects(createPool('not a dsn'), /malformed DSN/);
  await assert.rejects(connect({ dsn: 'not a dsn' }), /malformed DSN/);
  await assert.rejects(connect(sharedDsn(), { timeout: Number.NaN }), RangeError);
  await assert.rejects(connect({ ...base, statementCacheSize: -1 }), RangeError);
  const ac = new AbortController();
  ac.abort('stop');
  const pre = await rejection(connect(sharedDsn(), { signal: ac.signal }));
  assert.ok(pre instanceof CancelledError);
  assert.equal(pre.cause, 'stop');
  // A server that accepts but never answers: the connect timeout fires.
  const net = await import('node:net');
  const accepted: import('node:net').Socket[] = [];
  const silent = net.createServer((socket) => accepted.push(socket));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  const start = performance.now();
  const slow = await rejection(connect(`postgres://root@127.0.0.1:${port}/test`, { timeout: 100 }));
  assert.ok(slow instanceof TimeoutError, String(slow));
  assert.ok(since(start) >= 99);
  const cancelled = new AbortController();
  setTimeout(() => cancelled.abort(), 50);
  assert.ok(
    (await rejection(
      connect(`postgres://root@127.0.0.1:${port}/test`, { signal: cancelled.signal }),
    )) instanceof CancelledError,
  );
  for (const socket of accepted) socket.destroy();
  silent.close();
});

pgTest(
  'terminate: the socket is closed at once; a running statement fails with ConnectionDoesNotExistError',
  async () => {
    const conn = await open();
    const pid = conn.pid;
    const running = conn.fetchval('SELECT pg_sleep(3)');
    await until(async () => (await activity(pid))?.state === 'active', 'running');
    await conn.terminate();
    await conn.terminate();
    const e = await rejection(running);
    assert.ok(e instanceof PostgresConnectionError, String(e));
    assert.equal(conn.isClosed(), true);
    await assert.rejects(conn.fetch('SELECT 1'), InvalidStateError);
  },
);

// ---------------------------------------------------------------- queries

pgTest('fetch, fetchrow, fetchval and execute: rows as plain objects, status strings', async () => {
  const conn = await open();
  assert.equal(
    await conn.execute('CREATE TABLE users (id serial PRIMARY KEY, name text, active bool)'),
    'CREATE TABLE',
  );
  assert.equal(
    await conn.execute('INSERT INTO users(name, active) VALUES($1, $2)', 'John Doe', true),
    'INSERT 0 1',
  );
  assert.equal(
    await conn.execute("INSERT INTO users(name, active) VALUES ('A', false), ('B', true)"),
    'INSERT 0 2',
  );
  const rows = await conn.fetch('SELECT id, name FROM users WHERE active = $1 ORDER BY id', true);
  assert.deepEqual(rows, [
    { id: 1, name: 'John Doe' },
    { id: 3, name: 'B' },
  ]);
  assert.equal(Object.getPrototypeOf(rows[0]), Object.prototype);
  assert.deepEqual(await conn.fetch('SELECT * FROM users WHERE false'), []);
  assert.deepEqual(await conn.fetchrow('SELECT name FROM users WHERE id = $1', 2), { name: 'A' });
  assert.equal(await conn.fetchrow('SELECT name FROM users WHERE id = $1', 99), null);
  assert.equal(await conn.fetchval('SELECT name FROM users WHERE id = $1', 3), 'B');
  assert.equal(await conn.fetchval('SELECT id, name FROM users WHERE id = $1', 3, { column: 1 }), 'B');
  assert.equal(await conn.fetchval('SELECT id, name FROM users WHERE id = $1', 3, { column: 'name' }), 'B');
  assert.equal(
    await conn.fetchval('SELECT 1 AS a, 2 AS a', { column: 1 }),
    2,
    'by index even with duplicate names',
  );
  assert.equal(await conn.fetchval('SELECT name FROM users WHERE false'), null);
  await assert.rejects(
    conn.fetchval('SELECT 1', { column: 3 }),
    /no column 3 in the result \(columns: \?column\?\)/,
  );
  await assert.rejects(conn.fetchval('SELECT 1', { column: -1 }), RangeError);
  assert.equal(await conn.execute('UPDATE users SET active = NOT active'), 'UPDATE 3');
  assert.equal(await conn.execute('DELETE FROM users WHERE id > $1', 1), 'DELETE 2');
  assert.equal(
    await conn.execute('SELECT 1; SELECT 2 UNION SELECT 3'),
    'SELECT 2',
    'several statements: the last status',
  );
  assert.equal(await conn.execute('SELECT * FROM users'), 'SELECT 1');
  await assert.rejects(conn.fetch(''), TypeError);
  await assert.rejects(conn.fetch(undefined as unknown as string), TypeError);
});

pgTest(
  'the options-object rule: a final plain object with only signal/timeout/column keys is the options',
  async () => {
    const conn = await open();
    // A JSON parameter with other keys is a parameter.
    assert.deepEqual(await conn.fetchval('SELECT $1::jsonb', { a: 1 }), { a: 1 });
    // One whose keys are all option keys must be passed as a string.
    assert.deepEqual(await conn.fetchval('SELECT $1::jsonb', JSON.stringify({ timeout: 5 })), { timeout: 5 });
    assert.equal(await conn.fetchval('SELECT 7', { timeout: 5_000 }), 7);
    // `{}` is a parameter, not empty options (it used to be read as options: "takes 1 parameter, received 0").
    assert.deepEqual(await conn.fetchval('SELECT $1::jsonb', {}), {});
    // So is `{ signal }` whose signal is not an AbortSignal.
    assert.deepEqual(await conn.fetchval('SELECT $1::jsonb', { signal: 'no' }), { signal: 'no' });
    // A class instance is never the options.
    class Opts {
      timeout = 1;
    }
    assert.deepEqual(await conn.fetchval('SELECT $1::jsonb', new Opts()), { timeout: 1 });
    await assert.rejects(conn.fetch('SELECT 1', { timeout: 'soon' as unknown as number }), TypeError);
  },
);

pgTest('type mapping: every type of the table in docs/pg.md round-trips', async () => {
  const conn = await open();
  const when = new Date('2024-02-29T23:59:58.123Z');
  const cases: [string, unknown, unknown?][] = [
    ['int2', 12],
    ['int4', -2_147_483_648],
    ['int8', 9_007_199_254_740_993n],
    ['int8', 5, 5n],
    ['float4', 1.5],
    ['float8', 0.1],
    ['numeric', '12345678901234567890.000000001'],
    ['bool', true],
    ['text', 'héllo ✓ "quoted"'],
    ['varchar', ''],
    ['uuid', '0e37df36-f698-11e6-8dd4-cb9ced3df976'],
    ['json', { a: [1, 'x', null] }],
    // A JS array is a PostgreSQL array; a JSON array (or a JSON string) is passed as JSON text.
    ['jsonb', JSON.stringify([1, { b: true }]), [1, { b: true }]],
    ['jsonb', JSON.stringify('a string'), 'a string'],
    ['int4[]', [1, null, 3]],
    [
      'int4[]',
      [
        [1, 2],
        [3, 4],
      ],
    ],
    ['int8[]', [1n, -2n]],
    ['text[]', ['a', 'b,c', 'd"e', null]],
    ['numeric[]', ['1.10', '2']],
    ['bool[]', [true, false]],
    ['date', '2024-02-29'],
    ['date[]', ['2024-01-01', '1999-12-31']],
    ['timestamp', when],
    ['timestamptz', when],
    ['timestamptz[]', [when, when]],
    ['interval', '1 day 02:03:04'],
    ['bytea', Buffer.from([0, 1, 254, 255])],
    ['bytea', new Uint8Array([7, 8]), Buffer.from([7, 8])],
    ['int4', null],
  ];
  for (const [type, value, expected = value] of cases) {
    const got = await conn.fetchval(`SELECT $1::${type}`, value);
    assert.deepEqual(got, expected, `${type}: ${String(value)}`);
  }
  // Through a table, and read back in one row.
  await conn.execute(
    'CREATE TABLE types (i8 int8, n numeric, j jsonb, ts timestamp, tz timestamptz, d date, b bytea, a int8[])',
  );
  await conn.execute(
    'INSERT INTO types VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    2n ** 62n,
    '3.14',
    { k: 'v' },
    when,
    when,
    '2000-01-01',
    Buffer.from('xyz'),
    [1n],
  );
  assert.deepEqual(await conn.fetchrow('SELECT * FROM types'), {
    i8: 2n ** 62n,
    n: '3.14',
    j: { k: 'v' },
    ts: when,
    tz: when,
    d: '2000-01-01',
    b: Buffer.from('xyz'),
    a: [1n],
  });
  // timestamp (without time zone) is read as UTC whatever the session's time zone.
  await conn.execute("SET TIME ZONE 'America/New_York'");
  assert.deepEqual(
    await conn.fetchval("SELECT '2024-01-01 12:00:00'::timestamp"),
    new Date('2024-01-01T12:00:00Z'),
  );
  assert.deepEqual(await conn.fetchval('SELECT $1::timestamptz', when), when);
  assert.equal(await conn.fetchval("SELECT 'infinity'::timestamp"), Infinity);
  // Values that have no PostgreSQL form are refused before anything is sent.
  await assert.rejects(
    conn.fetchval('SELECT $1::text', () => 1),
    /parameter \$1 cannot be sent to PostgreSQL, received a function/,
  );
  await assert.rejects(conn.fetchval('SELECT $1::timestamptz', new Date(Number.NaN)), RangeError);
});

pgTest(
  'bad SQL and bad parameters: typed errors with SQLSTATE, detail and hint; the connection stays usable',
  async () => {
    const conn = await open();
    await conn.execute(
      'CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (p int REFERENCES parent, v text NOT NULL)',
    );
    await conn.execute('INSERT INTO parent VALUES (1)');
    const check = async (p: Promise<unknown>, cls: new (...a: never[]) => PostgresError, code: string) => {
      const e = await rejection(p);
      assert.ok(e instanceof cls, `${String(e)} is not a ${cls.name}`);
      assert.ok(e instanceof PostgresError);
      assert.equal(e.code, code);
      assert.equal(e.sqlstate, code);
      assert.equal(e.name, cls.name);
      assert.equal(await conn.fetchval('SELECT 1'), 1, `usable after ${cls.name}`);
      return e;
    };
    const dup = await check(conn.execute('INSERT INTO parent VALUES ($1)', 1), UniqueViolationError, '23505');
    assert.equal(dup.detail, 'Key (id)=(1) already exists.');
    assert.equal(dup.constraintName, 'parent_pkey');
    assert.equal(dup.tableName, 'parent');
    const fk = await check(
      conn.execute('INSERT INTO child VALUES ($1, $2)', 2, 'x'),
      ForeignKeyViolationError,
      '23503',
    );
    assert.match(fk.detail!, /is not present in table "parent"/);
    await check(conn.execute('INSERT INTO child VALUES ($1, $2)', 1, null), NotNullViolationError, '23502');
    const syntax = await check(conn.fetch('SELEC 1'), PostgresSyntaxError, '42601');
    assert.equal(syntax.position, '1');
    await check(conn.fetch('SELECT * FROM nowhere'), UndefinedTableError, '42P01');
    const col = await check(conn.fetch('SELECT nme FROM parent'), UndefinedColumnError, '42703');
    assert.ok(col.hint === undefined || typeof col.hint === 'string');
    const hinted = await check(
      conn.fetch('SELECT id FROM parent p JOIN parent q USING (id) WHERE parent.id = 1'),
      UndefinedTableError,
      '42P01',
    );
    assert.match(hinted.hint ?? '', /table alias/);
    await check(conn.fetchval('SELECT $1::int', 'abc'), InvalidTextRepresentationError, '22P02');
    // Wrong numbers of parameters: a TypeError before anything runs.
    await assert.rejects(
      conn.fetch('SELECT $1::int'),
      /Connection\.fetch: the query takes 1 parameter, received 0/,
    );
    await assert.rejects(conn.fetch('SELECT $1::int, $2::int', 1), /takes 2 parameters, received 1/);
    await assert.rejects(conn.execute('SELECT 1', 1), /takes 0 parameters, received 1/);
    assert.equal(await conn.fetchval('SELECT count(*) FROM child'), 0n, 'nothing was written');
  },
);

pgTest('executemany: every row, or none of them', async () => {
  const conn = await open();
  await conn.execute('CREATE TABLE many (n int PRIMARY KEY)');
  await conn.executemany('INSERT INTO many VALUES ($1)', [[1], [2], [3]]);
  assert.equal(await conn.fetchval('SELECT sum(n)::int FROM many'), 6);
  await assert.rejects(
    conn.executemany('INSERT INTO many VALUES ($1)', [[4], [1], [5]]),
    UniqueViolationError,
  );
  assert.equal(await conn.fetchval('SELECT count(*)::int FROM many'), 3, 'the failed batch left nothing');
  assert.equal(conn.isInTransaction(), false);
  // Inside a transaction it joins it.
  await conn.transaction(async (tx) => {
    await tx.executemany('INSERT INTO many VALUES ($1)', [[10], [11]]);
    assert.equal(await tx.fetchval('SELECT count(*)::int FROM many'), 5);
  });
  await assert.rejects(conn.executemany('INSERT INTO many VALUES ($1)', [1] as never), TypeError);
});

pgTest(
  'prepare: parsed once with its parameter and column types; errors at prepare time; close',
  async () => {
    const conn = await open();
    const stmt = await conn.prepare('SELECT $1::int AS n, $2::text AS s');
    assert.deepEqual(stmt.parameterTypes, [23, 25]);
    assert.deepEqual(
      stmt.columns.map((c) => c.name),
      ['n', 's'],
    );
    assert.deepEqual(await stmt.fetch(1, 'a'), [{ n: 1, s: 'a' }]);
    assert.deepEqual(await stmt.fetchrow(2, 'b'), { n: 2, s: 'b' });
    assert.equal(await stmt.fetchval(3, 'c', { column: 's' }), 'c');
    assert.equal(await stmt.execute(4, 'd'), 'SELECT 1');
    await assert.rejects(stmt.fetch(1), /PreparedStatement\.fetch: the query takes 2 parameters, received 1/);
    await assert.rejects(conn.prepare('SELEC 1'), PostgresSyntaxError);
    await conn.execute('CREATE TABLE prep (n int)');
    const ins = await conn.prepare('INSERT INTO prep VALUES ($1)');
    await ins.executemany([[1], [2]]);
    assert.equal(await conn.fetchval('SELECT count(*)::int FROM prep'), 2);
    await stmt.close();
    await stmt.close();
    await assert.rejects(stmt.fetch(1, 'x'), /PreparedStatement\.fetch: the statement is closed/);
    assert.equal(
      await conn.fetchval(
        "SELECT count(*)::int FROM pg_prepared_statements WHERE statement LIKE '%AS n, $2::text AS s'",
      ),
      0,
    );
    assert.equal(await conn.fetchval('SELECT 1'), 1);
  },
);

pgTest(
  'the statement cache: reused statements, least recently used out, stale plans prepared again',
  async () => {
    const conn = await open({ statementCacheSize: 2 });
    for (const n of [1, 2, 3, 1, 2, 3]) assert.equal(await conn.fetchval(`SELECT ${n} + $1::int`, 0), n);
    const prepared = await conn.fetchval('SELECT count(*)::int FROM pg_prepared_statements');
    assert.equal(prepared, 2, 'at most statementCacheSize statements stay prepared');
    await conn.execute('CREATE TABLE stale (a int)');
    await conn.execute('INSERT INTO stale VALUES (1)');
    assert.deepEqual(await conn.fetch('SELECT * FROM stale WHERE a = $1', 1), [{ a: 1 }]);
    await conn.execute('ALTER TABLE stale ADD COLUMN b int DEFAULT 2');
    assert.deepEqual(await conn.fetch('SELECT * FROM stale WHERE a = $1', 1), [{ a: 1, b: 2 }]);
    await conn.execute('DEALLOCATE ALL');
    assert.deepEqual(await conn.fetch('SELECT * FROM stale WHERE a = $1', 1), [{ a: 1, b: 2 }]);
    const none = await open({ statementCacheSize: 0 });
    assert.equal(await none.fetchval('SELECT $1::int', 5), 5);
    assert.equal(await none.fetchval('SELECT count(*)::int FROM pg_prepared_statements'), 0);
  },
);

// ---------------------------------------------------------------- transactions

pgTest('transactions: callback commits or rolls back; await using rolls back unless committed', async () => {
  const conn = await open();
  await conn.execute('CREATE TABLE tx (n int)');
  const got = await conn.transaction(async (tx) => {
    await tx.execute('INSERT INTO tx VALUES (1)');
    assert.equal(conn.isInTransaction(), true);
    return 'done';
  });
  assert.equal(got, 'done');
  await assert.rejects(
    conn.transaction(async (tx) => {
      await tx.execute('INSERT INTO tx VALUES (2)');
      throw new Error('boom');
    }),
    /boom/,
  );
  {
    await using tx = await conn.transaction();
    await tx.execute('INSERT INTO tx VALUES (3)');
  } // not committed: rolled back
  {
    await using tx = await conn.transaction();
    await tx.execute('INSERT INTO tx VALUES (4)');
    await tx.commit();
    assert.equal(tx.state, 'committed');
    await assert.rejects(tx.fetch('SELECT 1'), /Transaction\.fetch: the transaction is committed/);
    await assert.rejects(tx.commit(), InvalidStateError);
  }
  assert.deepEqual(await conn.fetchval('SELECT array_agg(n ORDER BY n) FROM tx'), [1, 4]);
  assert.equal(conn.isInTransaction(), false);
  await conn.execute('BEGIN');
  await assert.rejects(conn.transaction(), /started by hand/);
  await conn.execute('ROLLBACK');
});

pgTest('savepoints: nested transactions roll back alone; order and options are checked', async () => {
  const conn = await open();
  await conn.execute('CREATE TABLE sp (n int)');
  await conn.transaction(async (tx) => {
    await tx.execute('INSERT INTO sp VALUES (1)');
    await assert.rejects(
      tx.transaction(async (inner) => {
        assert.equal(inner.nested, true);
        await inner.execute('INSERT INTO sp VALUES (2)');
        await inner.transaction(async (deeper) => deeper.execute('INSERT INTO sp VALUES (3)'));
        throw new Error('undo 2 and 3');
      }),
      /undo 2 and 3/,
    );
    await tx.transaction(async (inner) => inner.execute('INSERT INTO sp VALUES (4)'));
    // A failed statement inside a savepoint does not doom the outer transaction.
    await assert.rejects(
      tx.transaction(async (inner) => inner.execute('INSERT INTO sp VALUES ($1)', 'x')),
      InvalidTextRepresentationError,
    );
    await assert.rejects(tx.transaction({ isolation: 'serializable' }), /nested transaction is a savepoint/);
    const inner = await tx.transaction();
    await assert.rejects(tx.commit(), /a nested transaction inside this one is still open/);
    await inner.rollback();
  });
  assert.deepEqual(await conn.fetchval('SELECT array_agg(n ORDER BY n) FROM sp'), [1, 4]);
});

pgTest(
  'transaction options: isolation, read only, deferrable; a failed transaction does not commit',
  async () => {
    const conn = await open();
    await conn.execute('CREATE TABLE iso (n int)');
    await conn.transaction(
      async (tx) => assert.equal(await tx.fetchval('SHOW transaction_isolation'), 'serializable'),
      { isolation: 'serializable', readonly: true, deferrable: true },
    );
    await conn.transaction(
      async (tx) => assert.equal(await tx.fetchval('SHOW transaction_isolation'), 'repeatable read'),
      { isolation: 'repeatable_read' },
    );
    await assert.rejects(
      conn.transaction(async (tx) => tx.execute('INSERT INTO iso VALUES (1)'), { readonly: true }),
      ReadOnlySQLTransactionError,
    );
    await assert.rejects(conn.transaction({ isolation: 'chaos' as never }), /isolation must be one of/);
    const tx = await conn.transaction();
    await conn.execute('INSERT INTO iso VALUES (1)');
    await assert.rejects(conn.execute('SELECT 1/0'));
    const e = await rejection(tx.commit());
    assert.ok(e instanceof InFailedSQLTransactionError, String(e));
    assert.match((e as Error).message, /rolled back, not committed/);
    assert.equal(await conn.fetchval('SELECT count(*)::int FROM iso'), 0);
  },
);

pgTest('serialization failures are SerializationError', async () => {
  const a = await open();
  const b = await open();
  await a.execute('CREATE TABLE ser (k int PRIMARY KEY, v int); INSERT INTO ser VALUES (1, 0)');
  const ta = await a.transaction({ isolation: 'serializable' });
  const tb = await b.transaction({ isolation: 'serializable' });
  assert.equal(await ta.fetchval('SELECT v FROM ser WHERE k = 1'), 0);
  assert.equal(await tb.fetchval('SELECT v FROM ser WHERE k = 1'), 0);
  await ta.execute('UPDATE ser SET v = 1 WHERE k = 1');
  await ta.commit();
  const e = await rejection(tb.execute('UPDATE ser SET v = 2 WHERE k = 1'));
  assert.ok(e instanceof SerializationError, String(e));
  assert.equal((e as PostgresError).code, '40001');
  await tb.rollback();
});

// ---------------------------------------------------------------- cursors

pgTest('cursor: for await with prefetch, fetch(n) and fetchrow, only inside a transaction', async () => {
  const conn = await open();
  await assert.rejects(conn.cursor('SELECT 1').fetch(1), /a cursor can only be used inside a transaction/);
  await conn.transaction(async (tx) => {
    let sum = 0;
    let count = 0;
    for await (const row of tx.cursor<{ n: number }>('SELECT n FROM generate_series(1, $1::int) AS n', 1000, {
      prefetch: 64,
    })) {
      sum += row.n;
      count++;
    }
    assert.equal(count, 1000);
    assert.equal(sum, 500_500);
    const cur = tx.cursor('SELECT n FROM generate_series(1, 5) AS n');
    assert.ok(cur instanceof Cursor);
    assert.deepEqual(await cur.fetch(2), [{ n: 1 }, { n: 2 }]);
    assert.deepEqual(await cur.fetchrow(), { n: 3 });
    assert.deepEqual(await cur.fetch(10), [{ n: 4 }, { n: 5 }]);
    assert.deepEqual(await cur.fetch(10), []);
    assert.equal(await cur.fetchrow(), null);
    await cur.close();
    await cur.close();
    await assert.rejects(cur.fetch(1), /the cursor is closed/);
    // break closes the cursor on the server.
    for await (const row of tx.cursor('SELECT n FROM generate_series(1, 100) AS n', { prefetch: 10 })) {
      assert.deepEqual(row, { n: 1 });
      break;
    }
    assert.equal(await tx.fetchval("SELECT count(*)::int FROM pg_cursors WHERE name LIKE 'tsaio%'"), 0);
    assert.throws(() => tx.cursor('SELECT 1', { prefetch: 0 }), RangeError);
    await assert.rejects(tx.cursor('SELECT 1').fetch(0), RangeError);
  });
});

// ---------------------------------------------------------------- cancellation

pgTest(
  'cancellation mid-query: the server really stops it (pg_stat_activity), CancelledError, connection clean',
  async () => {
    const conn = await open();
    const pid = conn.pid;
    const ac = new AbortController();
    const start = performance.now();
    const running = conn.execute('SELECT pg_sleep(30)', { signal: ac.signal });
    await until(async () => (await activity(pid))?.state === 'active', 'the query is running on the server');
    ac.abort('enough');
    const e = await rejection(running);
    assert.ok(e instanceof CancelledError, String(e));
    assert.equal((e as Error).cause, 'enough');
    assert.ok(since(start) < 15_000, 'rejected long before pg_sleep(30) would end');
    const after = await activity(pid);
    assert.equal(after?.state, 'idle', `the server stopped the query: ${JSON.stringify(after)}`);
    assert.equal(conn.isInTransaction(), false);
    assert.equal(await conn.fetchval('SELECT 42'), 42, 'the next query is not hit by the cancel');
    assert.equal(_hookCount(ac.signal), 0, 'no hook left on the signal');
  },
);

pgTest(
  'timeout mid-query: TimeoutError after the server stopped it; commandTimeout is the default',
  async () => {
    const conn = await open({ commandTimeout: 100 });
    const start = performance.now();
    const e = await rejection(conn.execute('SELECT pg_sleep(30)'));
    assert.ok(e instanceof TimeoutError, String(e));
    assert.match((e as Error).message, /Connection\.execute \(timeout 100 ms\) timed out/);
    assert.ok(since(start) >= 99);
    assert.equal((await activity(conn.pid))?.state, 'idle');
    assert.equal(await conn.fetchval('SELECT 1', { timeout: null }), 1);
    assert.ok(
      (await rejection(conn.fetchval('SELECT pg_sleep(30)', { timeout: 50 }))) instanceof TimeoutError,
    );
    assert.equal(await conn.fetchval('SELECT 2', { timeout: 5_000 }), 2);
  },
);

pgTest(
  'cancellation: a pre-aborted signal sends nothing; a queued call leaves no trace; a task cancel reaches the query',
  async () => {
    const conn = await open();
    await conn.execute('CREATE TABLE cx (n int)');
    const ac = new AbortController();
    ac.abort();
    assert.ok(
      (await rejection(conn.execute('INSERT INTO cx VALUES (1)', { signal: ac.signal }))) instanceof
        CancelledError,
    );
    // Queued behind a running statement, then cancelled: it never runs.
    const slow = conn.execute('SELECT pg_sleep(0.3)');
    const queued = new AbortController();
    const second = conn.execute('INSERT INTO cx VALUES (2)', { signal: queued.signal });
    await sleep(20);
    queued.abort();
    assert.ok((await rejection(second)) instanceof CancelledError);
    assert.equal(await slow, 'SELECT 1');
    assert.equal(await conn.fetchval('SELECT count(*)::int FROM cx'), 0);
    // A task's signal, cancelled by task.cancel().
    const task = createTask((signal) => conn.execute('SELECT pg_sleep(30)', { signal }));
    await until(async () => (await activity(conn.pid))?.state === 'active', 'running');
    task.cancel('stop');
    await assert.rejects(task, CancelledError);
    assert.equal(task.cancelled(), true);
    assert.equal((await activity(conn.pid))?.state, 'idle');
    // One long-lived signal for many queries collects no hooks.
    const long = new AbortController();
    for (let i = 0; i < 50; i++) await conn.fetchval('SELECT $1::int', i, { signal: long.signal });
    assert.equal(_hookCount(long.signal), 0);
  },
);

pgTest(
  'cancellation inside a transaction: the callback rolls it back and the connection is clean',
  async () => {
    const conn = await open();
    await conn.execute('CREATE TABLE ctx (n int)');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const e = await rejection(
      conn.transaction(async (tx) => {
        await tx.execute('INSERT INTO ctx VALUES (1)');
        await tx.execute('SELECT pg_sleep(30)', { signal: ac.signal });
      }),
    );
    assert.ok(e instanceof CancelledError, String(e));
    assert.equal(conn.isInTransaction(), false);
    assert.equal(await conn.fetchval('SELECT count(*)::int FROM ctx'), 0);
  },
);

pgTest('calls on one connection run one at a time, in call order', async () => {
  const conn = await open();
  const order: number[] = [];
  await gather(
    Array.from({ length: 20 }, (_, i) => async () => {
      await conn.fetchval('SELECT pg_sleep(0.001), $1::int', i);
      order.push(i);
    }),
  );
  assert.deepEqual(
    order,
    Array.from({ length: 20 }, (_, i) => i),
  );
});

// ---------------------------------------------------------------- pool

pgTest('pool: 10 concurrent queries on at most maxSize connections; shortcuts; sizes', async () => {
  const p = await pool({ minSize: 2, maxSize: 4 });
  assert.equal(p.getSize(), 2);
  assert.equal(p.getIdleSize(), 2);
  assert.equal(p.getMinSize(), 2);
  assert.equal(p.getMaxSize(), 4);
  const pids = new Set<number>();
  const results = await gather(
    Array.from({ length: 10 }, (_, i) => async () => {
      await using conn = await p.acquire();
      assert.ok(conn instanceof PoolConnection);
      pids.add(conn.pid);
      return conn.fetchrow('SELECT $1::int AS id, pg_sleep(0.05)::text AS s', i + 1);
    }),
  );
  assert.deepEqual(
    results.map((r) => r?.id),
    Array.from({ length: 10 }, (_, i) => i + 1),
  );
  assert.ok(pids.size <= 4, `at most maxSize connections: ${pids.size}`);
  assert.equal(p.getSize(), 4);
  assert.equal(await p.fetchval('SELECT $1::int + 1', 41), 42);
  assert.deepEqual(await p.fetch('SELECT 1 AS a'), [{ a: 1 }]);
  assert.deepEqual(await p.fetchrow('SELECT 2 AS b'), { b: 2 });
  assert.equal(await p.execute('SELECT 3'), 'SELECT 1');
  await p.execute('CREATE TABLE pm (n int)');
  await p.executemany('INSERT INTO pm VALUES ($1)', [[1], [2]]);
  assert.equal(await p.fetchval('SELECT count(*)::int FROM pm'), 2);
  assert.match(String(p), /^<Pool size=4 idle=4 inUse=0 max=4>$/);
  await assert.rejects(
    createPool({ ...base, minSize: 5, maxSize: 2 }),
    /minSize \(5\) must not exceed maxSize \(2\)/,
  );
  await assert.rejects(createPool({ ...base, maxSize: 0 }), RangeError);
  await assert.rejects(createPool({ ...base, setup: 5 as never }), TypeError);
});

pgTest(
  'pool exhaustion: acquire waits FIFO, times out with TimeoutError, cancels with its signal',
  async () => {
    const p = await pool({ minSize: 1, maxSize: 1 });
    const held = await p.acquire();
    const start = performance.now();
    const e = await rejection(p.acquire({ timeout: 100 }));
    assert.ok(e instanceof TimeoutError, String(e));
    assert.match((e as Error).message, /Pool\.acquire \(timeout 100 ms\) timed out/);
    assert.ok(since(start) >= 99);
    const shortcut = await rejection(p.fetchval('SELECT 1', { timeout: 50 }));
    assert.ok(shortcut instanceof TimeoutError);
    const ac = new AbortController();
    const cancelled = p.acquire({ signal: ac.signal });
    const order: string[] = [];
    const first = p.acquire().then(async (c) => {
      order.push('first');
      await c.release();
    });
    const second = p.acquire().then(async (c) => {
      order.push('second');
      await c.release();
    });
    ac.abort();
    assert.ok((await rejection(cancelled)) instanceof CancelledError);
    await held.release();
    await Promise.all([first, second]);
    assert.deepEqual(
      order,
      ['first', 'second'],
      'the cancelled waiter took nothing, the others came in order',
    );
    assert.equal(p.getSize(), 1);
  },
);

pgTest(
  'pool release: the connection comes back clean (transaction rolled back, session reset); a released handle is dead',
  async () => {
    const p = await pool({ minSize: 1, maxSize: 1 });
    await p.execute('CREATE TABLE rel (n int)');
    const c = await p.acquire();
    const pid = c.pid;
    await c.execute("SET application_name = 'dirty'");
    await c.execute('BEGIN');
    await c.execute('INSERT INTO rel VALUES (1)');
    await c.release();
    await c.release();
    await assert.rejects(
      c.fetch('SELECT 1'),
      /PoolConnection\.fetch: the connection was released to the pool/,
    );
    assert.throws(() => c.pid, InvalidStateError);
    assert.equal(String(c), '<PoolConnection released>');
    {
      await using again = await p.acquire();
      assert.equal(again.pid, pid, 'the same connection');
      assert.equal(again.isInTransaction(), false);
      assert.notEqual(await again.fetchval('SHOW application_name'), 'dirty');
      assert.equal(await again.fetchval('SELECT count(*)::int FROM rel'), 0);
    }
    // A shortcut that changes session state is reset too.
    await p.execute("SET application_name = 'shortcut'");
    assert.notEqual(await p.fetchval('SHOW application_name'), 'shortcut');
    await assert.rejects(p.release({} as never), TypeError);
  },
);

pgTest(
  'pool: cancelling a query of an acquired connection inside BEGIN leaves no half-open transaction in the pool',
  async () => {
    const p = await pool({ minSize: 1, maxSize: 1 });
    const ac = new AbortController();
    {
      await using conn = await p.acquire();
      await conn.execute('BEGIN');
      setTimeout(() => ac.abort(), 100);
      assert.ok(
        (await rejection(conn.execute('SELECT pg_sleep(30)', { signal: ac.signal }))) instanceof
          CancelledError,
      );
    }
    await using next = await p.acquire();
    assert.equal(next.isInTransaction(), false);
    assert.equal((await activity(next.pid))?.state, 'idle', 'idle, not idle in transaction');
  },
);

pgTest(
  'pool: setup on every acquire, init once per connection, maxQueries replaces, idle lifetime closes',
  async () => {
    const inits: number[] = [];
    let setups = 0;
    const p = await pool({
      minSize: 1,
      maxSize: 1,
      maxQueries: 3,
      maxInactiveConnectionLifetime: 200,
      init: async (conn) => {
        inits.push(conn.pid);
        await conn.execute('CREATE TEMP TABLE from_init (n int)');
      },
      setup: () => {
        setups++;
      },
    });
    assert.equal(inits.length, 1);
    const first = await p.fetchval<number>('SELECT pg_backend_pid()');
    assert.equal(await p.fetchval('SELECT count(*)::int FROM from_init'), 0, 'init ran on this connection');
    await p.fetchval('SELECT 1');
    const third = await p.fetchval<number>('SELECT pg_backend_pid()');
    assert.notEqual(third, first, 'replaced after maxQueries statements (init counts one)');
    assert.equal(inits.length, 2);
    {
      await using _held = await p.acquire();
      assert.equal(setups, 1);
    }
    assert.equal(p.getIdleSize(), 1);
    await until(() => p.getSize() === 0, 'the idle connection closed after 200 ms', 5_000);
    assert.equal(await p.fetchval('SELECT 1'), 1, 'and a new one opens on demand');
    const failing = await pool({
      minSize: 0,
      maxSize: 1,
      setup: () => Promise.reject(new Error('setup failed')),
    });
    await assert.rejects(failing.acquire(), /setup failed/);
    assert.equal(await failing.fetchval('SELECT 5'), 5, 'the pool still works (shortcuts run no setup)');
    await assert.rejects(
      pool({ minSize: 1, init: () => Promise.reject(new Error('init failed')) }),
      /init failed/,
    );
  },
);

pgTest(
  'pool close waits for connections in use; waiters and new acquires fail; terminate ends queries',
  async () => {
    const p = await pool({ minSize: 1, maxSize: 1 });
    const held = await p.acquire();
    const waiter = p.acquire();
    const shortcut = p.fetchval('SELECT 1'); // waits for the one connection too
    let closed = false;
    const closing = p.close().then(() => (closed = true));
    assert.ok((await rejection(waiter)) instanceof InvalidStateError);
    const late = await rejection(shortcut);
    assert.ok(
      late instanceof InvalidStateError && /Pool\.fetchval: the pool is closing/.test(late.message),
      String(late),
    );
    await assert.rejects(p.acquire(), /Pool\.acquire: the pool is closing/);
    await sleep(50);
    assert.equal(closed, false, 'close waits for the connection in use');
    assert.equal(await held.fetchval('SELECT 1'), 1);
    await held.release();
    await closing;
    assert.equal(p.getSize(), 0);
    assert.equal(p.isClosing(), true);
    const q = await pool({ minSize: 1, maxSize: 1 });
    const c = await q.acquire();
    const running = c.fetchval('SELECT pg_sleep(30)');
    await sleep(50);
    await q.terminate();
    const e = await rejection(running);
    assert.ok(e instanceof PostgresConnectionError, String(e));
    await c.release();
  },
);

// ---------------------------------------------------------------- pipelining

/** Statements in flight on the pool's pipelining connections (its lanes). */
function laneLoads(p: Pool): number[] {
  return (p as unknown as { _lanes: { _laneLoad: number }[] })._lanes.map((c) => c._laneLoad);
}

/** Prepares `sql` on each of the pool's `n` connections (each acquired and run once). */
async function prepareOnAll(p: Pool, n: number, sql: string, ...args: unknown[]): Promise<void> {
  const held = await Promise.all(Array.from({ length: n }, () => p.acquire()));
  for (const c of held) await c.fetch(sql, ...args);
  for (const c of held) await c.release();
}

pgTest(
  'pool: fetch calls without signal or timeout are pipelined on busy connections, answers in order',
  async () => {
    const p = await pool({ minSize: 2, maxSize: 2 });
    const sql = 'SELECT $1::int AS v';
    await prepareOnAll(p, 2, sql, 0);
    const calls = Array.from({ length: 40 }, (_, i) =>
      i % 3 === 0 ? p.fetchval(sql, i) : i % 3 === 1 ? p.fetchrow(sql, i) : p.fetch(sql, i),
    );
    const loads = laneLoads(p);
    assert.equal(loads.length, 2, 'both connections pipeline');
    assert.equal(
      loads.reduce((a, b) => a + b, 0),
      40,
      'every call was sent without waiting for a connection',
    );
    const got = await Promise.all(calls);
    got.forEach((v, i) => assert.deepEqual(v, i % 3 === 0 ? i : i % 3 === 1 ? { v: i } : [{ v: i }]));
    assert.deepEqual(laneLoads(p), []);
    assert.equal(p.getIdleSize(), 2);
    // A call with a signal or a timeout, or that is not a read, is never pipelined.
    await prepareOnAll(p, 2, 'SELECT $1::int AS v', 0);
    const busy = [p.fetchval(sql, 1), p.fetchval(sql, 2)];
    const own = [
      p.fetchval(sql, 3, { timeout: 5_000 }),
      p.fetchval(sql, 4, { signal: new AbortController().signal }),
      p.execute('SELECT 1'),
    ];
    assert.deepEqual(
      laneLoads(p).reduce((a, b) => a + b, 0),
      2,
      'only the two plain reads are in the lanes',
    );
    assert.deepEqual(await Promise.all([...busy, ...own]), [1, 2, 3, 4, 'SELECT 1']);
  },
);

pgTest('pool pipelining: an error fails only its own statement, never the others in flight', async () => {
  const p = await pool({ minSize: 1, maxSize: 1 });
  const sql = 'SELECT 100 / $1::int AS v';
  await p.fetchval(sql, 1);
  const calls = Array.from({ length: 30 }, (_, i) => p.fetchval(sql, i % 3 === 0 ? 0 : i));
  assert.deepEqual(laneLoads(p), [30]);
  const settled = await Promise.allSettled(calls);
  settled.forEach((r, i) => {
    if (i % 3 === 0) {
      assert.ok(r.status === 'rejected' && r.reason instanceof DivisionByZeroError, String(r));
    } else {
      assert.deepEqual(r, { status: 'fulfilled', value: Math.trunc(100 / i) });
    }
  });
  // A value that cannot be sent fails that call alone, before anything is sent.
  const mixed = [
    p.fetchval(sql, 5),
    p.fetchval(sql, Symbol('x')),
    p.fetchval(sql, 10, 11),
    p.fetchval(sql, 20),
  ];
  const [ok1, bad, many, ok2] = await Promise.allSettled(mixed);
  assert.deepEqual(
    [ok1, ok2],
    [
      { status: 'fulfilled', value: 20 },
      { status: 'fulfilled', value: 5 },
    ],
  );
  assert.ok(bad!.status === 'rejected' && bad.reason instanceof TypeError, String(bad));
  assert.ok(many!.status === 'rejected' && many.reason instanceof TypeError, String(many));
  // The connection came back clean, outside any transaction, and is still the same one.
  assert.equal(p.getSize(), 1);
  assert.equal(p.getIdleSize(), 1);
  await using c = await p.acquire();
  assert.equal(c.isInTransaction(), false);
  assert.equal(await c.fetchval(sql, 4), 25);
});

pgTest("pool pipelining: a cancelled or timed-out call never cancels another task's statement", async () => {
  const p = await pool({ minSize: 1, maxSize: 1 });
  const sql = 'SELECT pg_sleep($1::float8), $2::int AS v';
  await p.fetchval(sql, 0, 0, { column: 'v' });
  // A lane is running: a call with a timeout waits for the connection, and times out waiting.
  const lane = [p.fetchval(sql, 0.3, 1, { column: 'v' }), p.fetchval(sql, 0, 2, { column: 'v' })];
  const waited = await rejection(p.fetchval(sql, 0, 3, { column: 'v', timeout: 50 }));
  assert.ok(waited instanceof TimeoutError, String(waited));
  const ac = new AbortController();
  const aborted = p.fetchval(sql, 0, 4, { column: 'v', signal: ac.signal });
  ac.abort();
  assert.ok((await rejection(aborted)) instanceof CancelledError);
  assert.deepEqual(await Promise.all(lane), [1, 2]);
  // A call with a timeout runs alone: the reads issued behind it wait, and its cancel request reaches only it.
  const slow = p.fetchval(sql, 30, 5, { column: 'v', timeout: 100 });
  const behind = Array.from({ length: 5 }, (_, i) => p.fetchval(sql, 0.05, 10 + i, { column: 'v' }));
  assert.deepEqual(laneLoads(p), []);
  assert.ok((await rejection(slow)) instanceof TimeoutError);
  assert.deepEqual(await Promise.all(behind), [10, 11, 12, 13, 14]);
  assert.equal(p.getIdleSize(), 1);
});

pgTest(
  'pool pipelining: no read joins a lane stalled on a slow statement while another lane answers',
  async () => {
    const p = await pool({ minSize: 2, maxSize: 2 });
    const sql = 'SELECT pg_sleep($1::float8), $2::int AS v';
    const v = { column: 'v' };
    await prepareOnAll(p, 2, sql, 0, 0);
    const held = await p.acquire();
    // One lane: three reads, the first answered after 50 ms, the others at 350 and 650 ms.
    const busy = [p.fetchval(sql, 0.05, 1, v), p.fetchval(sql, 0.3, 2, v), p.fetchval(sql, 0.3, 3, v)];
    await held.release();
    // The other connection: one slow read, no answer for 600 ms.
    const slow = p.fetchval(sql, 0.6, 4, v);
    assert.deepEqual(laneLoads(p), [3, 1]);
    await sleep(200);
    assert.deepEqual(laneLoads(p), [2, 1]);
    // The least busy lane is stalled: the read joins the one that answers.
    const late = p.fetchval(sql, 0, 5, v);
    assert.deepEqual(laneLoads(p), [3, 1]);
    assert.deepEqual(await Promise.all([...busy, slow, late]), [1, 2, 3, 4, 5]);
  },
);

pgTest(
  'pool pipelining: a statement gone stale is prepared again; a lost connection fails its lane and is replaced',
  async () => {
    const p = await pool({ minSize: 1, maxSize: 1 });
    await p.execute('CREATE TABLE lane_t (a int)');
    await p.execute('INSERT INTO lane_t VALUES (1)');
    const sql = 'SELECT * FROM lane_t';
    await p.fetch(sql);
    await p.execute('ALTER TABLE lane_t ADD COLUMN b int DEFAULT 2');
    const rows = await Promise.all(Array.from({ length: 5 }, () => p.fetch(sql)));
    for (const r of rows) assert.deepEqual(r, [{ a: 1, b: 2 }]);

    const pid = await p.fetchval<number>('SELECT pg_backend_pid()');
    await p.fetchval('SELECT pg_sleep($1::float8)', 0);
    const lane = Array.from({ length: 5 }, () => p.fetchval('SELECT pg_sleep($1::float8)', 0.2));
    assert.deepEqual(laneLoads(p), [5]);
    await using admin = await connect(sharedDsn());
    await admin.fetchval('SELECT pg_terminate_backend($1::int)', pid);
    for (const r of await Promise.allSettled(lane))
      assert.ok(
        (r.status === 'rejected' && r.reason instanceof PostgresError) ||
          (r.status === 'rejected' && r.reason instanceof PostgresConnectionError),
        String(r.status === 'rejected' ? r.reason : r.value),
      );
    assert.notEqual(await p.fetchval('SELECT pg_backend_pid()'), pid);
    assert.equal(p.getSize(), 1);
  },
);

pgTest('pool pipelining: close waits for the lanes; terminate fails them', async () => {
  const p = await pool({ minSize: 1, maxSize: 1 });
  const sql = 'SELECT pg_sleep($1::float8), $2::int AS v';
  await p.fetchval(sql, 0, 0, { column: 'v' });
  const lane = [p.fetchval(sql, 0.1, 1, { column: 'v' }), p.fetchval(sql, 0, 2, { column: 'v' })];
  await p.close();
  assert.deepEqual(await Promise.all(lane), [1, 2]);
  assert.equal(p.getSize(), 0);
  const q = await pool({ minSize: 1, maxSize: 1 });
  await q.fetchval(sql, 0, 0, { column: 'v' });
  const doomed = [q.fetchval(sql, 30, 1, { column: 'v' }), q.fetchval(sql, 0, 2, { column: 'v' })];
  await sleep(50);
  await q.terminate();
  for (const e of await Promise.all(doomed.map(rejection)))
    assert.ok(e instanceof PostgresConnectionError, String(e));
});

pgTest(
  'pool: a call with a signal waiting for a connection parks on that signal: cancelled by it, refused by close, no hook left',
  async () => {
    const p = await pool({ minSize: 1, maxSize: 1 });
    const ac = new AbortController();
    const held = await p.acquire();
    const waiting = Array.from({ length: 3 }, (_, i) =>
      p.fetchval('SELECT $1::int', i, { signal: ac.signal }),
    );
    assert.equal(_hookCount(ac.signal), 6, 'each call: its scope and its wait');
    const other = new AbortController();
    const cancelled = p.fetchval('SELECT 1', { signal: other.signal });
    other.abort(new Error('stop'));
    assert.ok((await rejection(cancelled)) instanceof CancelledError);
    await held.release();
    assert.deepEqual(await Promise.all(waiting), [0, 1, 2]);
    assert.equal(_hookCount(ac.signal), 0);
    const again = await p.acquire();
    const refused = p.fetchval('SELECT 1', { signal: ac.signal });
    const closing = p.close();
    const e = await rejection(refused);
    assert.ok(e instanceof InvalidStateError, String(e));
    await again.release();
    await closing;
    assert.equal(_hookCount(ac.signal), 0);
  },
);
