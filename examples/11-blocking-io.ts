// Seed §11 "Running Sync Blocking Functions in Async": blocking I/O in the
// default thread pool, so the event loop stays free. Mirrors:
//   def blocking_io():
//       time.sleep(2)  # sync blocking operation
//       return "done"
//   loop = asyncio.get_event_loop()
//   result = await loop.run_in_executor(None, blocking_io)
// `time.sleep` is `Atomics.wait` here: it blocks its thread. While the worker
// thread sleeps 2 units, a task on the loop ticks every half unit, which it
// could not do if the sleep blocked the loop.
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/11-blocking-io.ts
import { run, createTask, getRunningLoop, sleep } from 'tsaio';
import { toThread } from 'tsaio/executor'; // also registers the default executor

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

function blockingIo(ms: number): string {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); // time.sleep(2)
  return 'done';
}

await run(async () => {
  const loop = getRunningLoop();
  await toThread(() => null); // start the pool's first thread before the clock starts
  let ticks = 0;
  const ticker = createTask(async (signal) => {
    for (;;) {
      await sleep(UNIT / 2, undefined, { signal });
      ticks++;
    }
  });
  const start = performance.now();
  const result = await loop.runInExecutor(null, blockingIo, 2 * UNIT);
  const elapsed = (performance.now() - start) / UNIT;
  ticker.cancel();
  console.log(`result: ${result}`);
  console.log(`Elapsed: ${elapsed.toFixed(1)}s`);
  console.log(`the loop ticked while the thread blocked: ${ticks >= 3}`);
});
