// Seed §4 "asyncio.timeout(): Timeout Control". Mirrors:
//   async with asyncio.timeout(5.0): await long_running_task()
//   result = await asyncio.wait_for(long_running_task(), timeout=5.0)
//   except TimeoutError: print("Timed out!")
// Here the task needs 10 units and the deadline is 1 unit.
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/04-timeout.ts
import { run, sleep, timeout, waitFor, TimeoutError } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

async function longRunningTask(signal: AbortSignal): Promise<string> {
  await sleep(10 * UNIT, undefined, { signal });
  return 'finished';
}

await run(async () => {
  // timeout(ms, body): a cancel scope; its signal aborts at the deadline.
  let start = performance.now();
  try {
    await timeout(1 * UNIT, async (signal) => {
      await longRunningTask(signal);
    });
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    console.log('Timed out!');
  }
  console.log(`timeout elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);

  // waitFor(body, ms): cancels the body at the deadline, then raises TimeoutError.
  start = performance.now();
  try {
    const result = await waitFor(longRunningTask, 1 * UNIT);
    console.log(result);
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    console.log('Timed out!');
  }
  console.log(`waitFor elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
});
