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
import { CancelledError, InvalidStateError } from '../src/index.ts';
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

// The channel (`src/sqlite/_channel.ts`): batches of requests and replies in shared memory, with the
// port for what does not fit. Its reply area holds 1 MiB, its request area 256 KiB.

/** How many of each kind of active resource (`process.getActiveResourcesInfo()`). */
function resources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

void test('the channel: rows, parameters and batches bigger than its areas go through the port, in order', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB, note TEXT)');
  const big = Buffer.alloc(3 * 1024 * 1024, 7); // a parameter bigger than the request area
  const text = 'é'.repeat(700_000); // 1.4 MB of UTF-8
  await db.execute('INSERT INTO t VALUES (1, ?, ?)', [big, text]);
  // A chunk of rows bigger than the reply area: 256 rows of 8 KiB.
  await db.executemany(
    'INSERT INTO t VALUES (?, ?, ?)',
    Array.from({ length: 300 }, (_, i) => [i + 2, Buffer.alloc(8192, i % 256), `row ${i + 2}`]),
  );
  await db.commit();
  // Small and big calls made in one turn go in one batch: each settles with its own result.
  const [one, first, small, all, count] = await Promise.all([
    db.execute('SELECT body, note FROM t WHERE id = 1').then((c) => c.fetchone()),
    db.execute('SELECT id FROM t WHERE id = 2').then((c) => c.fetchone()),
    db.execute('SELECT ? AS echo', ['x'.repeat(100)]).then((c) => c.fetchone()),
    db
      .execute('SELECT id, body FROM t WHERE id > 1 ORDER BY id', [], { rowMode: 'array' })
      .then((c) => c.fetchall()),
    db.execute('SELECT count(*) AS n FROM t').then((c) => c.fetchone()),
  ]);
  assert.ok(Buffer.isBuffer((one as { body: unknown }).body), 'a BLOB comes back as a Buffer');
  assert.ok((one as { body: Buffer }).body.equals(big), 'the 3 MB blob is whole');
  assert.equal((one as { note: string }).note, text, 'the 1.4 MB text is whole');
  assert.deepEqual(first, { id: 2 });
  assert.deepEqual(small, { echo: 'x'.repeat(100) });
  assert.deepEqual(count, { n: 301 });
  const rows = all as [number, Buffer][];
  assert.equal(rows.length, 300);
  rows.forEach(([id, body], i) => {
    assert.equal(id, i + 2);
    assert.ok(Buffer.isBuffer(body) && body.length === 8192 && body[0] === i % 256 && body[8191] === i % 256);
  });
  // A batch of many medium requests that together overflow the request area: split over batches.
  const medium = 'm'.repeat(40_000);
  const echoes = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      db.execute('SELECT ? AS v, ? AS i', [medium, i]).then((c) => c.fetchone()),
    ),
  );
  echoes.forEach((row, i) => assert.deepEqual(row, { v: medium, i }));
});

void test('the channel: 300 concurrent tasks on one connection, more than the window, each sees its own results', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (task INTEGER, seq INTEGER, PRIMARY KEY (task, seq))');
  const TASKS = 300;
  const EACH = 40;
  await Promise.all(
    Array.from({ length: TASKS }, async (_, task) => {
      for (let seq = 0; seq < EACH; seq++) {
        const cur = await db.execute('INSERT INTO t VALUES (?, ?)', [task, seq]);
        assert.equal(cur.rowcount, 1);
        const row = await (await db.execute('SELECT count(*) AS n FROM t WHERE task = ?', [task])).fetchone();
        assert.deepEqual(row, { n: seq + 1 }, `task ${task} sees its own rows`);
      }
    }),
  );
  await db.commit();
  assert.deepEqual(await (await db.execute('SELECT count(*) AS n FROM t')).fetchone(), { n: TASKS * EACH });
});

void test('the channel: calls cancelled while their batch waits behind a slow statement never run; the rest do', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (n INTEGER)');
  const slow = db.execute(SLOW); // the worker is busy with it: the calls below wait in the channel
  const controllers = Array.from({ length: 100 }, () => new AbortController());
  const calls = controllers.map((ctl, i) =>
    db.execute('INSERT INTO t VALUES (?)', [i], { signal: ctl.signal }),
  );
  await new Promise((r) => setTimeout(r, 20)); // the batch was written, the main thread waits for it
  for (let i = 0; i < 100; i += 3) controllers[i]!.abort(`stop ${i}`);
  const settled = await Promise.allSettled(calls);
  await slow;
  const present = new Set(
    ((await (await db.execute('SELECT n FROM t', [], { rowMode: 'array' })).fetchall()) as number[][]).map(
      (r) => r[0],
    ),
  );
  settled.forEach((r, i) => {
    if (i % 3 === 0) {
      assert.ok(
        r.status === 'rejected' && r.reason instanceof CancelledError,
        `call ${i}: ${String(r.status)}`,
      );
      assert.equal((r.reason as Error).cause, `stop ${i}`);
      assert.ok(!present.has(i), `cancelled insert ${i} did not run`);
    } else {
      assert.equal(r.status, 'fulfilled', `call ${i}`);
      assert.ok(present.has(i), `insert ${i} ran`);
    }
  });
  for (const ctl of controllers) assert.ok(_hookCount(ctl.signal) <= 0, 'no hook left on a signal');
});

void test('the channel: close while statements are in flight answers them first, then ends the thread; nothing is left active', async () => {
  const before = resources();
  const db = await connect(join(dir, `db${++fileNo}.sqlite`));
  await db.execute('CREATE TABLE t (n INTEGER)');
  const inFlight = Array.from({ length: 500 }, (_, i) => db.execute('INSERT INTO t VALUES (?)', [i]));
  const slow = db.execute(SLOW);
  const closing = db.close();
  const after = await rejection(db.execute('SELECT 1'));
  assert.ok(after instanceof InvalidStateError, String(after));
  for (const r of await Promise.allSettled(inFlight)) assert.equal(r.status, 'fulfilled');
  assert.equal(((await slow) as { rowcount: number }).rowcount, -1);
  await closing;
  assert.equal(db._worker.threadId, -1, 'the worker thread has exited');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(resources(), before, 'no worker, port or timer left active');
  // Crashed with calls in flight: the same.
  const crashed = await connect(':memory:');
  const pending = Array.from({ length: 50 }, () => crashed.execute(SLOW));
  await new Promise((r) => setTimeout(r, 20));
  await crashed._worker.terminate();
  for (const r of await Promise.allSettled(pending)) assert.equal(r.status, 'rejected');
  await crashed.close();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(resources(), before, 'no worker, port or timer left active after a crash');
});

void test('the channel: a long run of tiny awaited statements lets the event loop turn', async () => {
  const db = await open();
  await db.execute('CREATE TABLE t (n INTEGER)');
  let turns = 0;
  let stop = false;
  const spin = (): void => {
    turns++;
    if (!stop) setImmediate(spin);
  };
  setImmediate(spin);
  for (let i = 0; i < 20_000; i++) await db.execute('INSERT INTO t VALUES (?)', [i]);
  stop = true;
  await new Promise((r) => setImmediate(r));
  assert.ok(turns >= 3, `the loop turned ${turns} times during 20,000 statements`);
  await db.commit();
  assert.deepEqual(await (await db.execute('SELECT count(*) AS n FROM t')).fetchone(), { n: 20_000 });
});

void test('the channel: an idle connection costs no CPU (the worker watches for a next batch only briefly, then sleeps)', async () => {
  const db = await open();
  await db.execute('SELECT 1');
  const start = process.cpuUsage();
  await new Promise((r) => setTimeout(r, 300));
  const { user, system } = process.cpuUsage(start);
  // A worker spinning while idle would use about 300 ms of CPU here.
  assert.ok(user + system < 100_000, `${Math.round((user + system) / 1000)} ms of CPU in 300 idle ms`);
  await db.close();
});
