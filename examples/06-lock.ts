// Seed §6 "Lock: Mutual Exclusion". Mirrors:
//   async with lock:  # Acquire lock; others wait
//       val = shared_resource
//       await asyncio.sleep(0.1)  # Simulate work
//       shared_resource = val + 1
//       print(f"{name}: {shared_resource}")
//   await asyncio.gather(*[worker(f"W{i}") for i in range(5)])
// `async with lock:` is `using _ = await lock.acquire()`: the handle releases
// the lock when the block ends, even if it throws. Without the lock every
// worker would read 0 and print 1; with it they take turns, in FIFO order.
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/06-lock.ts
import { run, sleep, gather, Lock } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

const lock = new Lock();
let sharedResource = 0;

async function worker(name: string, signal: AbortSignal): Promise<void> {
  using _ = await lock.acquire({ signal }); // acquire the lock; others wait
  const val = sharedResource;
  await sleep(0.1 * UNIT, undefined, { signal }); // simulate work
  sharedResource = val + 1;
  console.log(`${name}: ${sharedResource}`);
} // the lock is released here

await run(async () => {
  const start = performance.now();
  await gather([0, 1, 2, 3, 4].map((i) => (signal: AbortSignal) => worker(`W${i}`, signal)));
  console.log(`Final value: ${sharedResource}`);
  // One worker at a time: 5 x 0.1 units.
  console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
});
