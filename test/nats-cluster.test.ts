// A JetStream cluster of three private nats-servers, streams with three
// replicas: the stream leader is killed with SIGKILL while producers put and
// consumers take items, and while a RemoteExecutor's worker runs jobs. Every
// put the server confirmed must be received (0 lost); duplicates are counted
// and reported; the queue and the executor go on after the failover. Also: a
// get made just after its consumer's leader died resumes within seconds; a
// put no stream takes ends in a TimeoutError after putTimeout; a bad
// `replicas` is refused. The servers are private (free ports, temporary
// stores), so these tests never skip: without nats-server they fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { QueueShutDown, TimeoutError, sleep } from '../src/index.ts';
import {
  ConnectionLostError,
  DistributedQueue,
  RemoteExecutor,
  connect,
  serve,
  type Connection,
  type WorkerStats,
} from '../src/nats/index.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';
import { NATS_URL, natsTest, startNatsCluster, uniqueName, type NatsCluster } from './_nats.ts';

/** The server (`n1`…) leading stream `stream`, asked through `conn`, once it has one. */
async function leaderOf(conn: Connection, stream: string, ms = 30_000): Promise<string> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      const leader = (await conn.jsm.streams.info(stream)).cluster?.leader;
      if (leader) return leader;
    } catch {
      // no leader yet: ask again
    }
    if (performance.now() > deadline) throw new Error(`stream ${stream} has no leader after ${ms} ms`);
    await sleep(100);
  }
}

/**
 * Makes the leader of the queue's consumer the server that leads its stream
 * (asking the consumer's leader to step down until it is), so that killing
 * the stream leader kills the consumer's too: the harder failover.
 */
async function colocate(conn: Connection, stream: string): Promise<string> {
  const leader = await leaderOf(conn, stream);
  for (let i = 0; i < 20; i++) {
    const info = await conn.jsm.consumers.info(stream, 'tsaio').catch(() => null);
    if (info?.cluster?.leader === leader) return leader;
    if (info?.cluster?.leader) {
      await conn.raw
        .request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.tsaio`, undefined, { timeout: 5000 })
        .catch(() => {});
    }
    await sleep(500);
  }
  throw new Error(`the consumer of ${stream} never came to be led by ${leader}`);
}

/** Makes a server other than `avoid` lead the queue's consumer (by asking it to step down); resolves with its name. */
async function leadConsumerAway(conn: Connection, stream: string, avoid: string): Promise<string> {
  for (let i = 0; i < 20; i++) {
    const leader = (await conn.jsm.consumers.info(stream, 'tsaio').catch(() => null))?.cluster?.leader;
    if (leader && leader !== avoid) return leader;
    if (leader) {
      await conn.raw
        .request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${stream}.tsaio`, undefined, { timeout: 5000 })
        .catch(() => {});
    }
    await sleep(500);
  }
  throw new Error(`the consumer of ${stream} stayed led by ${avoid}`);
}

/** The longest time, in ms, from `since` to the first event after it, or between two events after it. */
function pause(times: readonly number[], since: number): number {
  let longest = 0;
  let last = since;
  for (const at of [...times].sort((a, b) => a - b)) {
    if (at <= since) continue;
    longest = Math.max(longest, at - last);
    last = at;
  }
  return Math.round(longest);
}

/** Waits until `check()` holds (it is asked again every 100 ms), or fails after `ms`. */
async function eventually(what: string, check: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

void test('DistributedQueue.open, RemoteExecutor.open and serve refuse a bad replicas before asking the server', async () => {
  const conn = { closed: false } as unknown as Connection; // never reached: the check comes first
  for (const bad of [0, -1, 1.5, 6, Number.NaN, '3', null]) {
    const r = bad as number;
    await assert.rejects(DistributedQueue.open(conn, 'q', { replicas: r }), RangeError);
    await assert.rejects(RemoteExecutor.open(conn, { replicas: r }), RangeError);
    await assert.rejects(serve(conn, { f: () => 1 }, { replicas: r }), RangeError);
  }
  await assert.rejects(DistributedQueue.open(conn, 'q', { replicas: 6 }), /replicas must be at most 5/);
});

natsTest(
  'a put that no stream takes (its stream deleted) is tried again until putTimeout, then a TimeoutError that says so, with the id',
  async () => {
    const conn = await connect(NATS_URL);
    try {
      const q = await DistributedQueue.open<string>(conn, uniqueName('nostream'), { putTimeout: 800 });
      await conn.jsm.streams.delete(q.stream);
      const start = performance.now();
      const e = await rejection(q.put('x', { id: 'the-x' }));
      const took = performance.now() - start;
      assert.ok(e instanceof TimeoutError, String(e));
      assert.equal((e as TimeoutError & { id: string }).id, 'the-x');
      assert.match(
        (e as Error).message,
        /no JetStream stream took the put .* within 800 ms: \d+ tries met no stream leader/,
      );
      assert.match((e as Error).message, /nothing was stored/);
      assert.ok(took >= 600 && took < 5000, `${Math.round(took)} ms`);
      await q.destroy();
    } finally {
      await conn.close();
    }
    await assertNoLeaks();
  },
);

void test(
  'a cluster of three, replicas 3: the stream leader killed with SIGKILL under producers and consumers loses no acknowledged item, and the queue and the executor go on',
  { timeout: 180_000 },
  async (t) => {
    const N = 3000;
    const PRODUCERS = 4;
    await using cluster: NatsCluster = await startNatsCluster(3);
    const opts = { servers: cluster.urls, reconnectTimeWait: 100, timeout: 10_000 };
    // Producers, two consumers, the executor, its worker: each its own connection to any of the three.
    const conns = await Promise.all(Array.from({ length: 5 }, () => connect(opts)));
    const [pc, c1, c2, ec, wc] = conns as [Connection, Connection, Connection, Connection, Connection];
    const stopWorker = new AbortController();
    let worker: Promise<WorkerStats> | null = null;
    try {
      const name = uniqueName('cluster');
      const q = await DistributedQueue.open<number>(pc, name, { replicas: 3, ackWait: 3000 });
      // `replicas` reaches every stream the queue makes, and its consumer.
      for (const stream of [q.stream, q.deadLetterStream, `${q.stream}_HB`, `${q.stream}_CTL`]) {
        const info = await pc.jsm.streams.info(stream);
        assert.equal(info.config.num_replicas, 3, stream);
        assert.equal(info.cluster?.replicas?.length, 2, `${stream}: a leader and two replicas`);
      }
      const consumerInfo = await pc.jsm.consumers.info(q.stream, 'tsaio');
      assert.equal(consumerInfo.cluster?.replicas?.length, 2, 'the consumer: a leader and two replicas');

      const executor = uniqueName('cluster-x');
      const pool = await RemoteExecutor.open(ec, { name: executor, replicas: 3, ackWait: 3000 });
      const jobStream = `TSAIO_Q_exec-${executor}`;
      assert.equal((await ec.jsm.streams.info(jobStream)).config.num_replicas, 3);
      const double = (n: number): number => 2 * n;
      worker = serve(wc, { double }, { executor, replicas: 3, concurrency: 4, signal: stopWorker.signal });
      assert.equal(await pool.submit('double', 21), 42);

      // The harder case: the server killed leads the consumer too.
      const leader = await colocate(pc, q.stream);

      const received = new Uint16Array(N);
      const acked = new Uint8Array(N);
      const putTimes: number[] = [];
      const getTimes: number[] = [];
      const putErrors = new Map<string, number>();
      const getErrors = new Map<string, number>();
      let total = 0;
      let killedAt = 0;
      let killing = null as Promise<void> | null; // set by a producer, mid-run
      let duringFailover: Promise<number>[] = [];
      const note = (map: Map<string, number>, error: unknown): void => {
        const e = error as Error;
        const key = `${e.name}: ${e.message.replace(/'[^']*'/g, '…').replace(/\d+/g, '#')}`;
        map.set(key, (map.get(key) ?? 0) + 1);
      };
      const kill = async (): Promise<void> => {
        assert.equal(await leaderOf(pc, q.stream), leader, 'the stream kept its leader');
        const node = cluster.node(leader);
        const jobLeader = await leaderOf(ec, jobStream);
        t.diagnostic(
          `killing ${leader}, leader of the queue's stream and consumer (the job stream's: ${jobLeader})`,
        );
        killedAt = performance.now();
        await node.kill();
        // Jobs submitted during the failover: they complete once the cluster has recovered.
        duringFailover = Array.from({ length: 10 }, (_, k) => pool.submit<number>('double', 100 + k));
      };

      const consume = async (c: Connection): Promise<void> => {
        const h = await DistributedQueue.open<number>(c, name, { prefetch: 20 });
        for (;;) {
          let i: number;
          try {
            i = await h.get();
          } catch (error) {
            if (error instanceof QueueShutDown) break;
            note(getErrors, error);
            await sleep(50);
            continue;
          }
          received[i]!++;
          total++;
          getTimes.push(performance.now());
          h.taskDone();
        }
        await h.close();
      };
      const consumers = [consume(c1), consume(c2)];

      let next = 0;
      let retries = 0;
      const produce = async (): Promise<void> => {
        for (let i = next++; i < N; i = next++) {
          for (;;) {
            try {
              await q.put(i, { id: `item-${i}` });
              break;
            } catch (error) {
              // Not acknowledged: put again with the same id (the server keeps one copy).
              if (!(error instanceof ConnectionLostError || error instanceof TimeoutError)) throw error;
              note(putErrors, error);
              retries++;
            }
          }
          acked[i] = 1;
          putTimes.push(performance.now());
          if (putTimes.length === Math.floor(N / 3)) killing = kill();
        }
      };
      const started = performance.now();
      await Promise.all(Array.from({ length: PRODUCERS }, produce));
      assert.ok(killing !== null, 'the leader was killed during the run');
      await killing;
      const newLeader = await leaderOf(pc, q.stream);
      assert.notEqual(newLeader, leader);

      // The executor goes on: the jobs submitted during the failover, and new ones, complete.
      const later = Array.from({ length: 20 }, (_, k) => pool.submit<number>('double', k));
      assert.deepEqual(
        await Promise.all(duringFailover),
        Array.from({ length: 10 }, (_, k) => 200 + 2 * k),
      );
      assert.deepEqual(
        await Promise.all(later),
        Array.from({ length: 20 }, (_, k) => 2 * k),
      );

      await eventually(
        'every acknowledged item received',
        () => acked.every((a, i) => a === 0 || received[i]! > 0),
        60_000,
      );
      await q.join();
      // The state stream elects its own leader, sometimes later than the item stream: a
      // shutdown not confirmed within putTimeout is a TimeoutError, and a second one is harmless.
      let shutdownRetries = 0;
      for (;;) {
        try {
          await q.shutdown();
          break;
        } catch (error) {
          if (!(error instanceof TimeoutError) || ++shutdownRetries > 5) throw error;
        }
      }
      await Promise.all(consumers);
      const runMs = performance.now() - started;

      const ackedCount = acked.reduce((n, a) => n + a, 0);
      const lost = acked.reduce((n, a, i) => n + (a === 1 && received[i] === 0 ? 1 : 0), 0);
      const duplicates = received.reduce((n, x) => n + Math.max(0, x - 1), 0);
      const report =
        `${N} items, ${ackedCount} acknowledged, ${total} received, ${lost} acknowledged lost, ` +
        `${duplicates} duplicates, ${retries} puts retried, ${shutdownRetries} shutdowns retried; killed ${leader}, new leader ${newLeader}; ` +
        `no put confirmed for ${pause(putTimes, killedAt)} ms, no item received for ${pause(getTimes, killedAt)} ms ` +
        `after the kill; run ${Math.round(runMs)} ms; put errors ${JSON.stringify([...putErrors])}; ` +
        `get errors ${JSON.stringify([...getErrors])}`;
      t.diagnostic(report);
      console.log(`cluster leader kill: ${report}`);
      assert.equal(ackedCount, N);
      assert.equal(lost, 0, report);
      assert.equal(total, N + duplicates);
      assert.equal(getErrors.size, 0, report);

      // The killed server comes back, catches up, and the queue works on.
      const dead = cluster.node(leader);
      await dead.start();
      await cluster.ready();
      await eventually('the restarted server is a current replica again', async () => {
        const info = await pc.jsm.streams.info(q.stream).catch(() => null);
        const current = (info?.cluster?.replicas ?? []).filter((r) => r.current).map((r) => r.name);
        return info?.cluster?.leader === dead.name || current.includes(dead.name);
      });
      assert.equal(await pool.submit('double', 500), 1000, 'a job after the rejoin');
      stopWorker.abort();
      const stats = await worker;
      assert.ok(stats.done >= 32, `the worker ran ${stats.done} jobs`);
      await pool.shutdown();
      // Closed, not destroyed: the cluster's stores go with it, and the JetStream API of a
      // cluster that just took a server back can take longer than the client's 5 s to answer.
      await q.close();
    } finally {
      stopWorker.abort();
      await worker?.catch(() => {});
      for (const c of conns) await c.close();
      await cluster.stop();
    }
    await assertNoLeaks();
  },
);

void test(
  "a get made just after its consumer's leader was killed with SIGKILL takes the next item once the cluster has a new leader, without waiting for its pull to expire",
  { timeout: 120_000 },
  async (t) => {
    await using cluster = await startNatsCluster(3);
    const near = cluster.nodes[0]!; // the client's server: it stays up
    const conn = await connect({ servers: near.url, reconnectTimeWait: 100 });
    try {
      const q = await DistributedQueue.open<string>(conn, uniqueName('cluster-get'), { replicas: 3 });
      const leader = await leadConsumerAway(conn, q.stream, near.name);
      await cluster.node(leader).kill();
      const killedAt = performance.now();
      const got = q.get(); // its pull request goes out while the consumer has no leader
      for (;;) {
        try {
          await q.put('after', { id: 'after' });
          break;
        } catch (error) {
          if (!(error instanceof TimeoutError)) throw error;
        }
      }
      const putMs = performance.now() - killedAt;
      assert.equal(await got, 'after');
      const getMs = performance.now() - killedAt;
      t.diagnostic(
        `killed ${leader}: put confirmed after ${Math.round(putMs)} ms, the waiting get took it after ${Math.round(getMs)} ms`,
      );
      assert.ok(getMs < 20_000, `the get took ${Math.round(getMs)} ms`);
      q.taskDone();
      await q.close(); // not destroyed: a cluster short of a server can take longer than 5 s to delete streams
    } finally {
      await conn.close();
      await cluster.stop();
    }
    await assertNoLeaks();
  },
);
