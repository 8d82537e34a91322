// Seed §3 "asyncio.sleep()": sequential awaits add up. Mirrors:
//   await task("A", 1); await task("B", 2)
//   print(f"Elapsed: {time.time() - start:.1f}s")   # Elapsed: 3.0s
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/03-sleep.ts
import { run, sleep } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

async function task(name: string, delay: number, signal: AbortSignal): Promise<void> {
  console.log(`${name} start`);
  await sleep(delay * UNIT, undefined, { signal }); // async wait: the loop is not blocked
  console.log(`${name} done`);
}

await run(async (signal) => {
  const start = performance.now();
  // Sequential execution (total time = 1 + 2 = 3 units)
  await task('A', 1, signal);
  await task('B', 2, signal);
  console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
});
