// Seed §6 "Semaphore: Limit Concurrent Tasks". Mirrors:
//   async def fetch(session, url, semaphore):
//       async with semaphore:  # Max 10 concurrent
//           async with session.get(url) as resp: return await resp.text()
//   semaphore = asyncio.Semaphore(10)  # Max concurrency: 10
//   urls = [f"https://example.com/{i}" for i in range(100)]
//   results = await asyncio.gather(*[fetch(session, url, semaphore) for url in urls])
// The seed fetches with aiohttp; here each "fetch" is a 0.1-unit sleep (no
// network), and we count how many run at once. 100 fetches, 10 at a time,
// take 100 / 10 x 0.1 = 1 unit (all at once: 0.1; one by one: 10).
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/06-semaphore.ts
import { run, sleep, gather, Semaphore } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

let running = 0;
let peak = 0;

async function fetchUrl(url: string, semaphore: Semaphore, signal: AbortSignal): Promise<string> {
  using _ = await semaphore.acquire({ signal }); // max 10 concurrent
  peak = Math.max(peak, ++running);
  try {
    await sleep(0.1 * UNIT, undefined, { signal }); // simulate session.get(url) and resp.text()
    return `<html>${url}</html>`;
  } finally {
    running--;
  }
} // the permit is returned here

await run(async () => {
  const start = performance.now();
  const semaphore = new Semaphore(10); // max concurrency: 10
  const urls = Array.from({ length: 100 }, (_, i) => `https://example.com/${i}`);
  const results = await gather(urls.map((url) => (signal: AbortSignal) => fetchUrl(url, semaphore, signal)));
  console.log(`Results: ${results.length}`);
  console.log(`Peak concurrency: ${peak}`);
  console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
});
