// Seed §7 "Queue: Producer-Consumer Pattern" across three OS processes, with
// tsaio/nats's DistributedQueue on NATS JetStream. Mirrors:
//   async def producer(queue, n):
//       for i in range(n):
//           await asyncio.sleep(0.5); await queue.put(i)
//           print(f"Produced: {i}, queue size: {queue.qsize()}")
//       await queue.put(None)  # End signal
//   async def consumer(queue, name):
//       while True:
//           item = await queue.get()
//           if item is None: queue.task_done(); break
//           await asyncio.sleep(1); print(f"[{name}] Consumed: {item}"); queue.task_done()
//   queue = asyncio.Queue(maxsize=5)
//   await asyncio.gather(producer(queue, 10), consumer(queue, "Consumer A"), consumer(queue, "Consumer B"))
// This process is the producer; it starts the two consumers as processes of
// their own (this same file, with `consumer NAME QUEUE`), which open the queue
// by its name on the NATS server. Instead of one `None` per consumer, the
// producer calls `queue.shutdown()`: every process's `for await` ends once
// the queue is drained. `qsize()` asks the server, so it is awaited.
// Needs a NATS server with JetStream at 127.0.0.1:4222 (`nats-server -js`).
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/07-distributed-queue.ts
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { run, sleep } from 'tsaio';
import { connect, DistributedQueue } from 'tsaio/nats';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;
const [role, consumerName, queueName] = process.argv.slice(2);

async function consumer(name: string, queue: DistributedQueue<number>, signal: AbortSignal): Promise<void> {
  for await (const item of queue) {
    await sleep(1 * UNIT, undefined, { signal }); // simulate consumption
    console.log(`[${name}] Consumed: ${item}`);
    queue.taskDone();
  }
  console.log(`[${name}] Queue shut down and drained, stopping`);
}

/** Starts a consumer process; resolves once it is ready, with a function that waits for its exit. */
function startConsumer(name: string, queue: string): Promise<() => Promise<void>> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), 'consumer', name, queue],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((ready) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'ready') ready(() => exited);
      else console.log(line); // the consumer's output, on ours
    });
  });
}

await run(async (signal) => {
  await using conn = await connect('127.0.0.1:4222');
  if (role === 'consumer') {
    await using queue = await DistributedQueue.open<number>(conn, queueName!);
    console.log('ready');
    await consumer(consumerName!, queue, signal);
    return;
  }
  const queue = await DistributedQueue.open<number>(conn, `seed-07-${process.pid}`, { maxsize: 5 }); // max capacity: 5
  const consumers = await Promise.all(
    ['Consumer A', 'Consumer B'].map((name) => startConsumer(name, queue.name)),
  );
  const start = performance.now();
  for (let i = 0; i < 10; i++) {
    await sleep(0.5 * UNIT, undefined, { signal }); // simulate production
    await queue.put(i, { signal }); // waits while the queue holds 5 items
    console.log(`Produced: ${i}, queue size: ${await queue.qsize()}`);
  }
  await queue.shutdown(); // the end signal, for every consumer process at once
  await queue.join({ signal }); // every item put has been marked done, in whichever process
  console.log('Queue joined: all items processed');
  await Promise.all(consumers.map((exited) => exited())); // both consumer processes have exited
  console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
  await queue.destroy();
});
