// Seed §4 "asyncio.gather(): Bulk Concurrency". Mirrors:
//   results = await asyncio.gather(*[fetch(url) for url in urls])
//   # 5 requests sent concurrently; total time ≈ 1s
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/04-gather.ts
import { run, sleep, gather } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

async function fetchUrl(url: string, signal: AbortSignal): Promise<string> {
  await sleep(1 * UNIT, undefined, { signal }); // simulate a network request
  return `Data from ${url}`;
}

await run(async () => {
  const start = performance.now();
  const urls = ['url1', 'url2', 'url3', 'url4', 'url5'];
  // Bodies become tasks, all running at once; results come back in input order.
  const results = await gather(urls.map((url) => (signal: AbortSignal) => fetchUrl(url, signal)));
  for (const r of results) console.log(r);
  console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
});
