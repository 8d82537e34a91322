// `tsaio/sqlite` under cancellation storms and hostile messages. The
// contract's rule: a statement that ran when its cancellation is seen
// resolves with its result (the caller learns what happened; its next wait
// on the aborted signal rejects); one that did not run rejects with
// `CancelledError` and had no effect. The storm below used to commit 253 of
// 1,693 inserts that had rejected with `CancelledError`. And the worker
// thread ignores messages that no connection sends (`null`, garbage)
// instead of dying of them. After each test every connection is closed, its
// thread has exited, and no tsaio or Node timer is left.
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError } from '../src/index.ts';
import { _hookCount } from '../src/_cancel.ts';
import { connect, type Connection } from '../src/sqlite/index.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsaio-sqlite-faults-'));
let fileNo = 0;
const opened = new Set<Connection>();

async function open(): Promise<Connection> {
  const db = await connect(join(dir, `db${++fileNo}.sqlite`));
  opened.add(db);
  return db;
}

afterEach(async () => {
  for (const db of opened) {
    await db.close();
    assert.equal(db._worker.threadId, -1, `the worker thread of ${db.path} has exited`);
  }
  opened.clear();
  await assertNoLeaks();
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** A statement that keeps the worker busy for a while (hundreds of ms). */
const SLOW = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c`;

void test('4,000 inserts cancelled at random: every one that rejected is absent, every one that resolved is present', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY)');
  const N = 4_000;
  const timers = new Set<NodeJS.Timeout>();
  const aborted = new Set<number>();
  const signals: AbortSignal[] = [];
  const calls = Array.from({ length: N }, (_, id) => {
    const ctl = new AbortController();
    signals.push(ctl.signal);
    const cancel = () => {
      aborted.add(id);
      ctl.abort();
    };
    const when = Math.random();
    if (when < 0.1)
      queueMicrotask(cancel); // before it is posted, or queued behind the window
    else if (when < 0.8) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        cancel();
      }, Math.random() * 150); // anywhere in the run: queued, posted, running, answered
      timers.add(timer);
    }
    return db.execute('INSERT INTO t VALUES (?)', [id], { signal: ctl.signal }).then(
      () => (aborted.has(id) ? ('resolved after its abort' as const) : ('resolved' as const)),
      (e: unknown) => (e instanceof CancelledError ? ('cancelled' as const) : e),
    );
  });
  const outcomes = await Promise.all(calls);
  for (const timer of timers) clearTimeout(timer);
  await db.commit();
  const present = new Set(
    ((await (await db.execute('SELECT id FROM t', [], { rowMode: 'array' })).fetchall()) as number[][]).map(
      (r) => r[0],
    ),
  );
  const counts = { resolved: 0, cancelled: 0, resolvedAfterAbort: 0, mismatches: 0, other: 0 };
  outcomes.forEach((outcome, id) => {
    if (outcome === 'resolved' || outcome === 'resolved after its abort') {
      counts.resolved++;
      if (outcome !== 'resolved') counts.resolvedAfterAbort++;
      if (!present.has(id)) counts.mismatches++;
    } else if (outcome === 'cancelled') {
      counts.cancelled++;
      if (present.has(id)) counts.mismatches++;
    } else counts.other++;
  });
  console.log(`sqlite cancel storm: ${JSON.stringify(counts)}`);
  assert.equal(counts.other, 0, 'no other error');
  assert.equal(counts.mismatches, 0, `inserts whose outcome lies: ${JSON.stringify(counts)}`);
  assert.ok(counts.cancelled > 500 && counts.resolved > 500, JSON.stringify(counts));
  assert.ok(counts.resolvedAfterAbort > 0, 'some cancellations came while the statement ran or was answered');
  for (const signal of signals) assert.ok(_hookCount(signal) <= 0, 'no hook left on a signal');
});

void test('a statement running when its cancellation arrives resolves with its result; one still waiting behind it never runs', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (n INTEGER)');
  const ctl = new AbortController();
  const slowInsert = db.execute(`INSERT INTO t ${SLOW}`, [], { signal: ctl.signal });
  const behind = db.execute('INSERT INTO t VALUES (-1)', [], { signal: ctl.signal });
  await new Promise((r) => setTimeout(r, 100)); // the worker is in the slow insert now
  ctl.abort();
  const cursor = await slowInsert;
  assert.equal(cursor.rowcount, 1, 'the insert ran, and says so');
  assert.ok((await rejection(behind)) instanceof CancelledError);
  const next = await rejection(db.execute('SELECT 1', [], { signal: ctl.signal }));
  assert.ok(next instanceof CancelledError, 'the next wait on the aborted signal rejects');
  const rows = await (await db.execute('SELECT n FROM t')).fetchall();
  assert.deepEqual(rows, [{ n: 3_000_000 }], 'the insert that ran is there; the one behind it is not');
});

void test('a fetch that ran when its cancellation arrived resolves with its rows: none is lost', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (n INTEGER)');
  await db.executemany(
    'INSERT INTO t VALUES (?)',
    Array.from({ length: 1000 }, (_, i) => [i]),
  );
  const cursor = await db.execute('SELECT n FROM t ORDER BY n', [], { rowMode: 'array' });
  const seen: number[] = [];
  for (let round = 0; round < 200; round++) {
    const ctl = new AbortController();
    const rows = cursor.fetchmany(7, { signal: ctl.signal });
    if (round % 2 === 0) queueMicrotask(() => ctl.abort());
    else setImmediate(() => ctl.abort());
    try {
      for (const [n] of (await rows) as number[][]) seen.push(n!);
    } catch (e) {
      assert.ok(e instanceof CancelledError, String(e));
    }
  }
  for (const [n] of (await cursor.fetchall()) as number[][]) seen.push(n!);
  assert.deepEqual(
    seen,
    Array.from({ length: 1000 }, (_, i) => i),
    'every row once, in order',
  );
});

void test('null and garbage posted to the worker thread: ignored, the connection goes on', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (n INTEGER)');
  const garbage: unknown[] = [
    null,
    undefined,
    42,
    'execute',
    [],
    {},
    { id: 'x', op: 'execute' },
    { id: 1e9, op: 'no such op' },
    { id: 1e9 + 1, op: 'execute', sql: 42 },
    { id: 1e9 + 2, op: 'execute', sql: 'SELECT 1', params: 'not a list' },
    { id: 1e9 + 3, op: 'executemany', sql: 'INSERT INTO t VALUES (?)', list: null },
    { id: 1e9 + 4, op: 'fetch', cursor: {}, n: 'x' },
    { id: 1e9 + 5, op: 'closeCursor' },
  ];
  for (const msg of garbage) db._worker.postMessage(msg);
  await db.execute('INSERT INTO t VALUES (1)');
  await db.commit();
  assert.deepEqual(await (await db.execute('SELECT n FROM t')).fetchall(), [{ n: 1 }]);
  assert.equal(db.closed, false);
});
