// Seed §5 "Async Generators". Mirrors:
//   async def async_range(n):
//       for i in range(n): await asyncio.sleep(0.1); yield i
//   async for num in async_range(5): print(num)
//   results = [i async for i in async_range(5)]
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/05-async-generator.ts
import { run, sleep } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

async function* asyncRange(n: number, signal?: AbortSignal): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    await sleep(0.1 * UNIT, undefined, { signal });
    yield i;
  }
}

await run(async (signal) => {
  for await (const num of asyncRange(5, signal)) console.log(num);

  // The async list comprehension: collect into an array.
  // (Array.fromAsync does this from Node 22 on.)
  const results: number[] = [];
  for await (const i of asyncRange(5, signal)) results.push(i);
  console.log(`results: [${results.join(', ')}]`);
});
