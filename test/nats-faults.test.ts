// Faults: a consumer killed mid-item, the NATS server restarted under a run
// of 10,000 items, the connection lost in the middle of a put. The server
// restarts and kills happen on a private nats-server (its own port and
// store), never on the machine's shared one.
import assert from 'node:assert/strict';
import { TimeoutError, sleep } from '../src/index.ts';
import { ConnectionLostError, DistributedQueue, connect } from '../src/nats/index.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';
import { NATS_URL, natsTest, settled, spawnFixture, startPrivateNats, uniqueName } from './_nats.ts';

natsTest(
  'a consumer killed with SIGKILL mid-item: the item is delivered again, and processed exactly once more',
  async () => {
    const conn = await connect(NATS_URL);
    const q = await DistributedQueue.open<string>(conn, uniqueName('sigkill'), { ackWait: 1000 });
    try {
      await q.put('job-1');
      const child = spawnFixture('test/fixtures/nats-consumer.ts', [NATS_URL, q.name, 'hang']);
      assert.equal(await child.line(/^started /), 'started "job-1" 1');
      child.child.kill('SIGKILL');
      assert.equal(await child.exit(), 'SIGKILL');
      const start = performance.now();
      const d = await q.receive();
      assert.deepEqual([d.value, d.deliveryCount], ['job-1', 2], 'the same item, on its second delivery');
      assert.ok(performance.now() - start < 10_000);
      d.done();
      await q.join();
      await sleep(2500); // more than two ack waits: a third delivery would have come by now
      const info = await conn.jsm.consumers.info(q.stream, 'tsaio');
      assert.equal(info.delivered.consumer_seq, 2, 'two deliveries in all: the killed one and ours');
      assert.equal(info.num_ack_pending, 0);
      assert.equal((await conn.jsm.streams.info(q.stream)).state.messages, 0);
    } finally {
      await q.destroy();
      await conn.close();
    }
    await assertNoLeaks();
  },
);

natsTest(
  'the NATS server restarted during a run of 10,000 items: every item processed at least once, none lost',
  async (t) => {
    const N = 10_000;
    await using server = await startPrivateNats();
    const opts = { servers: server.url, reconnectTimeWait: 100 };
    const [pc, c1, c2] = await Promise.all([connect(opts), connect(opts), connect(opts)]);
    const name = uniqueName('restart');
    const q = await DistributedQueue.open<number>(pc, name, { ackWait: 2000 });
    const processed = new Uint16Array(N);
    let total = 0;
    let restarted = null as Promise<void> | null; // set by a consumer, mid-run
    let putRetries = 0;
    const consume = async (c: typeof pc) => {
      const h = await DistributedQueue.open<number>(c, name, { prefetch: 20 });
      for await (const i of h) {
        processed[i]!++;
        total++;
        h.taskDone();
        if (total === 3000) restarted = server.restart({ downMs: 500 });
      }
      await h.close();
    };
    const consumers = [consume(c1), consume(c2)];
    for (let i = 0; i < N; i++) {
      for (;;) {
        try {
          await q.put(i, { id: `item-${i}` }); // the same id on a retry: stored at most once
          break;
        } catch (error) {
          if (!(error instanceof ConnectionLostError || error instanceof TimeoutError)) throw error;
          putRetries++;
          await sleep(50);
        }
      }
    }
    assert.ok(restarted !== null, 'the server was restarted during the run');
    await restarted;
    await q.join();
    await q.shutdown();
    await Promise.all(consumers);
    const lost = processed.reduce((n, x) => n + (x === 0 ? 1 : 0), 0);
    const duplicates = processed.reduce((n, x) => n + Math.max(0, x - 1), 0);
    const report = `${N} items, ${total} processed, ${duplicates} duplicates, ${lost} lost, ${putRetries} puts retried`;
    t.diagnostic(report);
    console.log(`server restart run: ${report}`);
    assert.equal(lost, 0, report);
    assert.equal(total, N + duplicates);
    assert.equal((await pc.jsm.streams.info(q.stream)).state.messages, 0);
    await q.destroy();
    for (const c of [pc, c1, c2]) await c.close();
    await assertNoLeaks();
  },
  { timeout: 300_000 },
);

natsTest(
  'connection lost mid-put: the put rejects at once, nothing half-written, a retry with its id stores it once',
  async () => {
    await using server = await startPrivateNats();
    const conn = await connect({ servers: server.url, reconnectTimeWait: 100 });
    const q = await DistributedQueue.open<string>(conn, uniqueName('midput'));
    await q.put('a');
    await server.pause(); // the server reads nothing more: the next put waits for its PubAck
    const put = q.put('b', { id: 'the-b' });
    const err = rejection(put);
    await sleep(200);
    assert.equal(await settled(put), false, 'the put waits for the server');
    server.signal('SIGKILL'); // the connection drops with the put in flight
    await server.exited();
    const e = await err;
    assert.ok(e instanceof ConnectionLostError, String(e));
    assert.equal(e.id, 'the-b');
    assert.match(e.message, /wholly stored or not at all/);
    await server.start();
    await q.put('b', { id: e.id! }); // waits for the reconnection, then stores 'b' (once)
    await q.put('b', { id: e.id! }); // a duplicate: dropped by the server
    const seen: string[] = [];
    const info = await conn.jsm.streams.info(q.stream);
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await conn.jsm.streams.getMessage(q.stream, { seq }).catch(() => null);
      if (m !== null) seen.push(JSON.parse(new TextDecoder().decode(m.data)) as string); // every message decodes whole
    }
    assert.deepEqual(seen.sort(), ['a', 'b']);
    await q.destroy();
    await conn.close();
    await server.stop();
    await assertNoLeaks();
  },
);
