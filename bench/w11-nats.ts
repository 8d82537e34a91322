// W11: 100,000 small items through NATS JetStream, 1 producer and 4
// consumers, every item acknowledged: tsaio's DistributedQueue against the
// official JetStream client doing the same publish / consume / ack by hand.
//
// Both variants use the machine's NATS server (127.0.0.1:4222), a fresh
// work-queue stream (file storage) with one durable pull consumer, five
// connections (one producer, four consumers), and the same window: the raw
// consumers `consume({ max_messages: 100 })`, the queue handles
// `prefetch: 100`. The producer awaits each publish (`js.publish` /
// `queue.put`: resolved by the server's PubAck). Items are `{ i, t }`, `t`
// the producer's clock at the put; each consumer records `now - t` when it
// gets the item (one process, one clock): the put→get latency. The run
// ends when every item was taken and acknowledged (the queue: `join()`; raw:
// the count, then the stream is empty). Each variant fails unless every
// item was taken exactly once.
import type { Workload } from './_workload.ts';

const CONSUMERS = 4;
const WINDOW = 100;
const SERVER = '127.0.0.1:4222';

/** Records what consumers took; `check` throws unless each item came once; `figures` are the latency percentiles. */
function ledger(n: number) {
  const seen = new Uint8Array(n);
  const latency = new Float64Array(n);
  let taken = 0;
  let twice = 0;
  return {
    take(item: { i: number; t: number }): number {
      if (seen[item.i]++ !== 0) twice++;
      latency[taken] = performance.now() - item.t;
      return ++taken;
    },
    check(): void {
      if (taken !== n || twice !== 0 || seen.includes(0)) {
        throw new Error(`W11 check failed: ${taken}/${n} taken, ${twice} taken twice`);
      }
    },
    figures(elapsedMs: number): Record<string, number> {
      const sorted = latency.slice(0, taken).sort();
      return {
        itemsPerSec: n / (elapsedMs / 1000),
        p50Ms: sorted[Math.floor(taken * 0.5)]!,
        p99Ms: sorted[Math.floor(taken * 0.99)]!,
      };
    },
  };
}

const name = () => `bench-w11-${process.pid}-${Date.now().toString(36)}`;

export const w11: Workload = {
  id: 'W11',
  title: 'NATS JetStream: 100,000 items, 1 producer, 4 consumers, every item acknowledged',
  n: 100_000,
  note:
    "Both variants on the machine's nats-server (file storage, one work-queue stream and one durable pull " +
    'consumer, five connections: one producer, four consumers). The producer awaits each publish (the ' +
    "server's PubAck); raw consumers use `consume({ max_messages: 100 })`, queue handles `prefetch: 100`. " +
    "items/s is N over the elapsed time; put→get latency is the consumer's clock when it gets an item minus " +
    "the producer's at the put (same process), p50 and p99 over all N items. Each variant fails unless every " +
    "item was taken exactly once. The machine's load weighs on every figure (a JetStream publish is a round " +
    'trip to another process).',
  unit: 'item',
  baseline: 'raw-jetstream',
  variants: [
    {
      name: 'raw-jetstream',
      code:
        'jsm.streams.add({ retention: Workqueue }); jsm.consumers.add({ ack_policy: Explicit }); producer: ' +
        'await js.publish(subject, JSON bytes) ×N; 4 consumers: for await (const m of await c.consume({ max_messages: 100 })) { JSON.parse; m.ack() }',
      async load() {
        const { connect } = await import('@nats-io/transport-node');
        const { jetstream, jetstreamManager, AckPolicy, RetentionPolicy } =
          await import('@nats-io/jetstream');
        return async (n, mark) => {
          const stream = name();
          const subject = `bench.${stream}`;
          const pc = await connect({ servers: SERVER });
          const jsm = await jetstreamManager(pc);
          await jsm.streams.add({ name: stream, subjects: [subject], retention: RetentionPolicy.Workqueue });
          await jsm.consumers.add(stream, {
            durable_name: 'c',
            ack_policy: AckPolicy.Explicit,
            max_ack_pending: -1,
          });
          const js = jetstream(pc);
          const log = ledger(n);
          const start = performance.now();
          const conns = await Promise.all(
            Array.from({ length: CONSUMERS }, () => connect({ servers: SERVER })),
          );
          let resolveAll!: () => void;
          const all = new Promise<void>((r) => (resolveAll = r));
          const iters = await Promise.all(
            conns.map(async (nc) =>
              (await jetstream(nc).consumers.get(stream, 'c')).consume({ max_messages: WINDOW }),
            ),
          );
          const loops = iters.map(async (msgs) => {
            for await (const m of msgs) {
              const item = JSON.parse(new TextDecoder().decode(m.data)) as { i: number; t: number };
              m.ack();
              if (log.take(item) === n) resolveAll();
            }
          });
          const enc = new TextEncoder();
          for (let i = 0; i < n; i++) {
            if (i === n >> 1) mark();
            await js.publish(subject, enc.encode(JSON.stringify({ i, t: performance.now() })));
          }
          await all;
          for (const nc of conns) await nc.flush();
          const elapsed = performance.now() - start;
          for (const it of iters) await it.close();
          await Promise.all(loops);
          log.check();
          for (;;) {
            if ((await jsm.streams.info(stream)).state.messages === 0) break;
            await new Promise((r) => setTimeout(r, 5));
          }
          await jsm.streams.delete(stream);
          for (const nc of [pc, ...conns]) await nc.close();
          return log.figures(elapsed);
        };
      },
    },
    {
      name: 'tsaio',
      code:
        'const q = await DistributedQueue.open(conn, name, { prefetch: 100 }); producer: await q.put({ i, t }) ×N, ' +
        'await q.join(); 4 consumers, each on its own connection: for await (const item of q) { q.taskDone() }',
      async load() {
        const { connect, DistributedQueue } = await import('tsaio/nats');
        return async (n, mark) => {
          const queue = name();
          const pc = await connect(SERVER);
          const q = await DistributedQueue.open<{ i: number; t: number }>(pc, queue);
          const log = ledger(n);
          const start = performance.now();
          const conns = await Promise.all(Array.from({ length: CONSUMERS }, () => connect(SERVER)));
          const handles = await Promise.all(
            conns.map((c) => DistributedQueue.open<{ i: number; t: number }>(c, queue, { prefetch: WINDOW })),
          );
          const loops = handles.map(async (h) => {
            for await (const item of h) {
              h.taskDone();
              log.take(item);
            }
          });
          for (let i = 0; i < n; i++) {
            if (i === n >> 1) mark();
            await q.put({ i, t: performance.now() });
          }
          await q.join();
          const elapsed = performance.now() - start;
          await q.shutdown();
          await Promise.all(loops);
          log.check();
          await q.destroy();
          for (const c of [pc, ...conns]) await c.close();
          return log.figures(elapsed);
        };
      },
    },
  ],
};
