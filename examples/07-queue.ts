// Seed §7 "Queue: Producer-Consumer Pattern". Mirrors:
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
// One fix: the seed puts a single None, which stops only one of its two
// consumers; the other waits in queue.get() forever, so gather() never
// returns and the seed's program hangs (in Node, with nothing left to wait
// for, it would die with exit code 13, an unsettled top-level await). The
// producer here puts one end signal per consumer.
// It also shows queue.join(): it returns once every item put (end signals
// too) has been marked done with taskDone().
// `queue size` counts items waiting in the queue: an item put while a
// consumer is already waiting in get() goes straight to that consumer.
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/07-queue.ts
import { run, sleep, gather, createTask, Queue } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

async function producer(
  queue: Queue<number | null>,
  n: number,
  consumers: number,
  signal: AbortSignal,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    await sleep(0.5 * UNIT, undefined, { signal }); // simulate production
    await queue.put(i, { signal }); // waits while the queue holds 5 items
    console.log(`Produced: ${i}, queue size: ${queue.qsize()}`);
  }
  // End signal: one per consumer (the seed's single None stops only one).
  for (let c = 0; c < consumers; c++) await queue.put(null, { signal });
}

async function consumer(queue: Queue<number | null>, name: string, signal: AbortSignal): Promise<void> {
  for (;;) {
    const item = await queue.get({ signal });
    if (item === null) {
      console.log(`[${name}] End signal, stopping`);
      queue.taskDone();
      break;
    }
    await sleep(1 * UNIT, undefined, { signal }); // simulate consumption
    console.log(`[${name}] Consumed: ${item}`);
    queue.taskDone();
  }
}

await run(async (signal) => {
  const start = performance.now();
  const queue = new Queue<number | null>(5); // max capacity: 5
  const names = ['Consumer A', 'Consumer B'];
  const consumers = names.map((name) => createTask((s) => consumer(queue, name, s)));
  await producer(queue, 10, consumers.length, signal);
  await queue.join({ signal }); // every item put has been marked done
  console.log('Queue joined: all items processed');
  await gather(consumers); // both consumers have stopped
  console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
});
