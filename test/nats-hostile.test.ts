// tsaio/nats against hostile peers: cancellation storms on the queue's gets,
// a publisher of garbage, `null` and forged outcomes on a submitter's result
// subject, garbage jobs and jobs naming hostile reply subjects for
// `tsaio worker`. Every test counts what it injected and checks that nothing
// was lost, nothing crashed and nothing leaked (docs/reliability.md has the
// figures).
import assert from 'node:assert/strict';
import { CancelledError, sleep, waitFor } from '../src/index.ts';
import {
  DistributedQueue,
  RemoteExecutor,
  connect,
  serve,
  type Connection,
  type Delivery,
} from '../src/nats/index.ts';
import { assertNoLeaks } from './_helpers.ts';
import { NATS_URL, natsTest, spawnFixture, uniqueName } from './_nats.ts';

const CLI = 'dist/cli/main.js';
const enc = new TextEncoder();
const dec = new TextDecoder();

/** Polls `cond` every 10 ms for at most `ms`; false if it never held. */
async function until(cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** Deletes the streams of queue `name`. */
async function dropQueue(conn: Connection, name: string): Promise<void> {
  for (const s of ['', '_DLQ', '_CTL', '_HB'])
    await conn.jsm.streams.delete(`TSAIO_Q_${name}${s}`).catch(() => {});
}

/** Messages in the dead-letter stream of queue `name`. */
async function deadLetters(conn: Connection, name: string): Promise<number> {
  return (await conn.jsm.streams.info(`TSAIO_Q_${name}_DLQ`)).state.messages;
}

/** A stream that a purge would empty: 3 messages; the test checks they are still there. */
async function victimStream(conn: Connection): Promise<string> {
  const name = `VICTIM_${uniqueName('v').replace(/-/g, '_')}`;
  await conn.jsm.streams.add({ name, subjects: [`victim.${name}`] });
  for (let i = 0; i < 3; i++) await conn.js.publish(`victim.${name}`, enc.encode(`keep-${i}`));
  return name;
}

/** One get aborted `ms` after it started: the delivery, or `null` if it was cancelled. */
async function abortedGet<T>(q: DistributedQueue<T>, ms: number): Promise<Delivery<T> | null> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    return await q.receive({ signal: ac.signal });
  } catch (error) {
    assert.ok(error instanceof CancelledError, `an aborted get rejects with CancelledError, not ${error}`);
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** What one storm did: the deliveries its gets took, and how many gets were cancelled. */
interface Storm {
  taken: Delivery<number>[];
  cancelled: number;
}

/** `gets` gets over `handles`, each aborted at random after 0..`maxMs` ms. */
async function storm(handles: DistributedQueue<number>[], gets: number, maxMs: number): Promise<Storm> {
  const outcomes = await Promise.all(
    Array.from({ length: gets }, (_, i) => abortedGet(handles[i % handles.length]!, Math.random() * maxMs)),
  );
  const taken = outcomes.filter((d): d is Delivery<number> => d !== null);
  return { taken, cancelled: gets - taken.length };
}

/** Normal gets on every handle until `want` items are taken or `ms` passes. */
async function drain(handles: DistributedQueue<number>[], want: number, ms: number) {
  const taken: Delivery<number>[] = [];
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), ms);
  await Promise.all(
    handles.map(async (h) => {
      while (taken.length < want) {
        try {
          taken.push(await h.receive({ signal: stop.signal }));
        } catch (error) {
          if (error instanceof CancelledError) return;
          throw error;
        }
        if (taken.length >= want) stop.abort();
      }
    }),
  );
  clearTimeout(timer);
  return taken;
}

/** A delivery as a failed check shows it: item, delivery count, and the server's own count. */
function described(d: Delivery<number>): string {
  return `item ${d.value} (seq ${d.seq}): count ${d.deliveryCount}, server's ${d._raw.info.deliveryCount}`;
}

/** The items 0..n-1 not taken exactly once, with the deliveries that took them. */
function notOnce(taken: Delivery<number>[], n: number): string[] {
  const by = new Map<number, Delivery<number>[]>();
  for (const d of taken) by.set(d.value, [...(by.get(d.value) ?? []), d]);
  return [...Array(n).keys()]
    .filter((v) => by.get(v)?.length !== 1)
    .map((v) => `item ${v}: ${(by.get(v) ?? []).map(described).join('; ') || 'never taken'}`);
}

/** `n` handles of queue `name`, each on its own connection (as in as many processes). */
async function handlesOf(name: string, n: number, opts: object) {
  const conns = await Promise.all(Array.from({ length: n }, () => connect(NATS_URL)));
  const handles = await Promise.all(conns.map((c) => DistributedQueue.open<number>(c, name, opts)));
  return { conns, handles };
}

natsTest(
  'a cancellation storm (300 items, 1,500 gets aborted after 0-40 ms on 3 handles) strands nothing: normal gets take the rest at once, every delivery count 1',
  async (t) => {
    const name = uniqueName('storm');
    const { conns, handles } = await handlesOf(name, 3, {});
    try {
      // Half the items wait in the queue, half arrive during the storm: deliveries race the aborts.
      for (let i = 0; i < 150; i++) await handles[0]!.put(i);
      const puts = (async () => {
        for (let i = 150; i < 300; i++) await handles[i % 3]!.put(i);
      })();
      const s = await storm(handles, 1500, 40);
      await puts;
      for (const d of s.taken) d.done();
      const remaining = 300 - s.taken.length;
      const waiting = await handles[1]!.qsize();
      const start = performance.now();
      const rest = await drain(handles, remaining, 10_000);
      const ms = performance.now() - start;
      for (const d of rest) d.done();
      const all = [...s.taken, ...rest];
      const counts = all.filter((d) => d.deliveryCount !== 1).map(described);
      const handedBack = handles.reduce((n, h) => n + h.statistics().handedBack, 0);
      const report =
        `${s.cancelled} gets cancelled, ${s.taken.length} took an item, qsize then ${waiting}, ` +
        `${rest.length} taken by normal gets in ${ms.toFixed(0)} ms, ${handedBack} deliveries handed back`;
      t.diagnostic(report);
      assert.equal(rest.length, remaining, `normal gets took every item left within 10 s (${report})`);
      assert.deepEqual(notOnce(all, 300), [], 'each item taken exactly once');
      assert.deepEqual(counts, [], 'every item on its first delivery');
      assert.ok(waiting >= remaining - handedBack, `qsize ${waiting} with ${remaining} items waiting`);
      await handles[0]!.join();
      assert.equal(await deadLetters(conns[0]!, name), 0);
    } finally {
      for (const h of handles) await h.close();
      await dropQueue(conns[0]!, name);
      for (const c of conns) await c.close();
    }
    await assertNoLeaks();
  },
  { timeout: 120_000 },
);

natsTest(
  'ackWait 1 s, maxDeliveries 2: three rounds of aborted gets send no item to the dead letters',
  async (t) => {
    const name = uniqueName('storm-dlq');
    const { conns, handles } = await handlesOf(name, 3, { ackWait: 1000, maxDeliveries: 2 });
    try {
      for (let i = 0; i < 100; i++) await handles[0]!.put(i);
      const taken: Delivery<number>[] = [];
      for (let round = 0; round < 3; round++) {
        const s = await storm(handles, 300, 40);
        for (const d of s.taken) d.done();
        taken.push(...s.taken);
        await sleep(1500); // past the ack wait: a delivery stranded by an aborted get would now come back, counted
      }
      const rest = await drain(handles, 100 - taken.length, 10_000);
      for (const d of rest) d.done();
      taken.push(...rest);
      const counts = taken.filter((d) => d.deliveryCount !== 1).map(described);
      const dead = await deadLetters(conns[0]!, name);
      t.diagnostic(
        `${taken.length - rest.length} taken during the rounds, ${rest.length} after, ${dead} dead`,
      );
      assert.equal(dead, 0, 'no item was dead-lettered because of aborted gets');
      assert.deepEqual(notOnce(taken, 100), [], 'each item taken exactly once');
      assert.deepEqual(counts, [], 'every item on its first delivery');
    } finally {
      for (const h of handles) await h.close();
      await dropQueue(conns[0]!, name);
      for (const c of conns) await c.close();
    }
    await assertNoLeaks();
  },
  { timeout: 120_000 },
);

natsTest(
  'one item, a get aborted after 0-6 ms, 20 times: each time a normal get takes it within 2 s, delivery count 1',
  async (t) => {
    const conn = await connect(NATS_URL);
    const q = await DistributedQueue.open<number>(conn, uniqueName('one-item'));
    let cancelled = 0;
    try {
      for (let round = 0; round < 20; round++) {
        await q.put(round);
        let d = await abortedGet(q, Math.random() * 6);
        if (d === null) {
          cancelled++;
          d = await q.receive({ signal: AbortSignal.timeout(2000) }).catch((e: unknown) => {
            assert.fail(`round ${round}: the item could not be taken within 2 s (${e})`);
          });
        }
        assert.deepEqual([d.value, d.deliveryCount], [round, 1], `round ${round}`);
        d.done();
      }
      t.diagnostic(`${cancelled} of 20 gets were cancelled before they took the item`);
    } finally {
      await q.destroy();
      await conn.close();
    }
    await assertNoLeaks();
  },
);

natsTest(
  'items a closing handle hands back untouched (prefetched) keep delivery count 1 on another handle',
  async () => {
    const conn = await connect(NATS_URL);
    const other = await connect(NATS_URL);
    const name = uniqueName('handback');
    const q = await DistributedQueue.open<number>(conn, name, { prefetch: 3 });
    try {
      for (let i = 0; i < 4; i++) await q.put(i);
      const first = await q.receive();
      first.done();
      assert.ok(await until(() => q.statistics().buffered === 3), 'three items prefetched');
      await q.close();
      const r = await DistributedQueue.open<number>(other, name);
      const got: string[] = [];
      for (let i = 0; i < 3; i++) {
        const d = await r.receive({ signal: AbortSignal.timeout(5000) });
        got.push(`${d.value}:${d.deliveryCount}`);
        d.done();
      }
      assert.deepEqual(got.sort(), ['1:1', '2:1', '3:1']);
      await r.close();
    } finally {
      await dropQueue(conn, name);
      await other.close();
      await conn.close();
    }
    await assertNoLeaks();
  },
);

/** A job as a hostile subscriber of the job subject sees it. */
type SeenJob = Record<string, unknown>;

natsTest(
  'a hostile publisher on the result subject: null, garbage and forged outcomes are dropped and counted; the connection lives and no hostile reply is answered',
  async (t) => {
    const exec = uniqueName('hostile-results');
    const conn = await connect(NATS_URL);
    const evil = await connect(NATS_URL);
    const workerConn = await connect(NATS_URL);
    const victim = await victimStream(evil);
    const stop = new AbortController();
    let worker: Promise<unknown> | null = null;
    try {
      const pool = await RemoteExecutor.open(conn, { name: exec });
      const jobs: SeenJob[] = [];
      const spy = evil.raw.subscribe(`tsaio.q.exec-${exec}`, {
        callback: (_e, m) => void jobs.push(JSON.parse(dec.decode(m.data)) as SeenJob),
      });
      await evil.raw.flush();
      const f = pool.submit<number>('add', 2, 3);
      assert.ok(await until(() => jobs.length === 1), 'the job was seen on its subject');
      const job = jobs[0]!;
      // Where a result for this job goes, as anyone who reads the job can tell.
      const target =
        typeof job['reply'] === 'string'
          ? job['reply']
          : `tsaio.x.${exec}.result.${String(job['submitter'])}`;
      const id = job['id'];
      const garbage: (string | Uint8Array)[] = [
        'null',
        'not json at all',
        new Uint8Array([0xff, 0xfe, 0x00, 0x7b]),
        '',
        '[]',
        '42',
        '"a string"',
        'true',
        '{}',
        '{"id":5}',
        JSON.stringify({ id, worker: 'evil', ok: 'yes', value: 1 }),
        JSON.stringify({ id, worker: 'evil', ok: false, error: null }),
        JSON.stringify({ id, worker: 'evil', ok: false, error: { name: 1, message: [] } }),
        JSON.stringify({ id, worker: 7, ok: true, value: 1 }),
        JSON.stringify({ id: { toString: 1 }, worker: 'evil', ok: true, value: 1 }),
        '{"__proto__":{"ok":true},"id":"x"}',
        '{'.repeat(10_000),
      ];
      for (const g of garbage) evil.raw.publish(target, typeof g === 'string' ? enc.encode(g) : g);
      // Well-formed outcomes without the job's token: forged.
      const forged = [
        { id, worker: 'evil', ok: true, value: 666 },
        { id, worker: 'evil', ok: false, error: { name: 'Error', message: 'forged' } },
        { id, worker: 'evil', cancelled: true },
        { id, worker: 'evil', ok: true, value: 667, token: 'guessed' },
      ];
      for (const o of forged) evil.raw.publish(target, enc.encode(JSON.stringify(o)));
      // Well-formed outcomes of no pending job, sent as requests whose reply subject is a JetStream API call.
      const purge = `$JS.API.STREAM.PURGE.${victim}`;
      evil.raw.publish(target, enc.encode(JSON.stringify({ id, worker: 'evil', ok: true, value: 668 })), {
        reply: purge,
      });
      evil.raw.publish(
        target,
        enc.encode(JSON.stringify({ id: 'nobody', worker: 'evil', ok: true, value: 1 })),
        {
          reply: purge,
        },
      );
      await evil.raw.flush();
      await sleep(300);
      assert.equal(f.done(), false, 'no forged or malformed outcome settled the future');
      // The submitter's connection still works: another queue opens, and a real worker's result arrives.
      const probe = await DistributedQueue.open<number>(conn, uniqueName('alive'), {
        signal: AbortSignal.timeout(5000),
      });
      await probe.destroy();
      worker = serve(
        workerConn,
        { add: (a: number, b: number) => a + b },
        { executor: exec, signal: stop.signal },
      );
      assert.equal(await waitFor(f, 10_000), 5);
      assert.equal(await waitFor(pool.submit<number>('add', 1, 1), 10_000), 2);
      const stats = pool.statistics();
      t.diagnostic(`${garbage.length + forged.length + 2} hostile messages: ${JSON.stringify(stats)}`);
      assert.equal(stats.malformed, garbage.length);
      assert.equal(stats.forged, forged.length + 1);
      assert.equal(stats.unknown, 1);
      assert.equal(stats.results, 2);
      assert.equal(
        (await evil.jsm.streams.info(victim)).state.messages,
        3,
        'no hostile reply subject was answered',
      );
      spy.unsubscribe();
      stop.abort();
      await worker;
      await pool.shutdown();
    } finally {
      stop.abort();
      await worker?.catch(() => {});
      await dropQueue(evil, `exec-${exec}`);
      await evil.jsm.streams.delete(victim).catch(() => {});
      for (const c of [conn, evil, workerConn]) await c.close();
    }
    await assertNoLeaks();
  },
);

natsTest(
  '`tsaio worker` and garbage jobs (JSON null, non-JSON, wrong shapes): each is dead-lettered as malformed, counted, and the worker goes on',
  async () => {
    const exec = uniqueName('hostile-jobs');
    const conn = await connect(NATS_URL);
    const worker = spawnFixture(CLI, ['worker', 'test/fixtures/nats-jobs.ts', '--executor', exec]);
    try {
      await worker.line(/ ready: /);
      const pool = await RemoteExecutor.open(conn, { name: exec });
      const subject = `tsaio.q.exec-${exec}`;
      const garbage: (string | Uint8Array)[] = [
        'null',
        'not json',
        new Uint8Array([0xff, 0xfe]),
        '[]',
        '7',
        '"job"',
        '{}',
        '{"id":"x"}',
        JSON.stringify({ id: 'x', fn: 'add', args: 'not an array', submitter: 's', token: 't' }),
        JSON.stringify({ id: 'x', fn: 42, args: [], submitter: 's', token: 't' }),
        JSON.stringify({ id: 'x.y.>', fn: 'add', args: [1, 2], submitter: 's', token: 't' }),
        JSON.stringify({ id: 'x', fn: 'add', args: [1, 2], submitter: '*', token: 't' }),
        JSON.stringify({ id: 'x', fn: 'add', args: [1, 2], submitter: 's' }),
      ];
      for (const g of garbage) await conn.js.publish(subject, typeof g === 'string' ? enc.encode(g) : g);
      // The worker takes jobs in order: once this one is answered, every garbage job was seen.
      assert.equal(await waitFor(pool.submit<number>('add', 2, 3), 20_000), 5);
      assert.equal(await waitFor(pool.submit<number>('add', 4, 4), 20_000), 8, 'the worker goes on');
      assert.ok(
        await until(async () => (await conn.jsm.streams.info(`TSAIO_Q_exec-${exec}`)).state.messages === 0),
        'no garbage job is left in the queue to be delivered again',
      );
      assert.equal(await deadLetters(conn, `exec-${exec}`), garbage.length, 'each garbage job dead-lettered');
      await pool.shutdown();
      worker.child.kill('SIGINT');
      assert.equal(await worker.exit(), 130, worker.stderr());
      assert.match(
        worker.lines.at(-1)!,
        new RegExp(`^tsaio worker stopped: 2 done, .*${garbage.length} malformed`),
      );
    } finally {
      worker.child.kill('SIGKILL');
      await worker.exit();
      await dropQueue(conn, `exec-${exec}`);
      await conn.close();
    }
    await assertNoLeaks();
  },
  { timeout: 90_000 },
);

natsTest(
  '`tsaio worker` replies only to the submitter: a job naming $JS.API.STREAM.PURGE as its reply purges nothing',
  async () => {
    const exec = uniqueName('hostile-reply');
    const conn = await connect(NATS_URL);
    const victim = await victimStream(conn);
    const worker = spawnFixture(CLI, ['worker', 'test/fixtures/nats-jobs.ts', '--executor', exec]);
    try {
      await worker.line(/ ready: /);
      const pool = await RemoteExecutor.open(conn, { name: exec });
      const purge = `$JS.API.STREAM.PURGE.${victim}`;
      const hostile = [
        { id: 'evil1', fn: 'add', args: [1, 2], reply: purge },
        { id: 'evil2', fn: 'add', args: [1, 2], reply: purge, submitter: 'someone', token: 'abc' },
        { id: 'evil3', fn: 'add', args: [1, 2], submitter: `x.${purge}`, token: 'abc' },
        { id: 'evil4', fn: 'add', args: [1, 2], submitter: '>', token: 'abc' },
      ];
      for (const job of hostile)
        await conn.js.publish(`tsaio.q.exec-${exec}`, enc.encode(JSON.stringify(job)));
      assert.equal(await waitFor(pool.submit<number>('add', 2, 3), 20_000), 5);
      await sleep(200);
      assert.equal(
        (await conn.jsm.streams.info(victim)).state.messages,
        3,
        'the victim stream was not purged',
      );
      await pool.shutdown();
      worker.child.kill('SIGINT');
      assert.equal(await worker.exit(), 130, worker.stderr());
    } finally {
      worker.child.kill('SIGKILL');
      await worker.exit();
      await dropQueue(conn, `exec-${exec}`);
      await conn.jsm.streams.delete(victim).catch(() => {});
      await conn.close();
    }
    await assertNoLeaks();
  },
  { timeout: 90_000 },
);
