// Seed §8 "Async Network IO: aiohttp", Concurrent URL Fetching. Mirrors:
//   async def fetch(session, url):
//       try:
//           async with session.get(url, timeout=aiohttp.ClientTimeout(total=10)) as resp:
//               return {"url": url, "status": resp.status, "data": await resp.text()}
//       except Exception as e:
//           return {"url": url, "error": str(e)}
//   urls = [".../delay/1", ".../delay/2", ".../delay/1"]
//   async with aiohttp.ClientSession() as session:
//       results = await asyncio.gather(*[fetch(session, url) for url in urls])
//   print(f"Elapsed: {time.time() - start:.1f}s")  # ≈ 2s, not 4s
// The URLs are the embedded test server's /delay route (in seconds, so scaled
// to units here), plus one URL where nothing listens, whose error is
// collected like the seed's. Times are in units of TSAIO_EXAMPLE_UNIT_MS
// (default 1000 ms, the seed's seconds).
// Run: npm run example examples/08-concurrent-fetch.ts
import { run, gather } from 'tsaio';
import { ClientSession, startTestServer } from 'tsaio/http';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

type Result = { url: string; status: number; data: string } | { url: string; error: string };

async function fetchUrl(session: ClientSession, url: string, signal: AbortSignal): Promise<Result> {
  try {
    await using resp = await session.get(url, { timeout: { total: 10 * UNIT }, signal });
    return { url, status: resp.status, data: await resp.text() };
  } catch (e) {
    return { url, error: String(e) };
  }
}

await run(async () => {
  await using server = await startTestServer();
  // The seed's paths, and the URLs they stand for at this unit.
  const urls: [string, string][] = [
    ['/delay/1', `${server.url}/delay/${UNIT / 1000}`],
    ['/delay/2', `${server.url}/delay/${(2 * UNIT) / 1000}`],
    ['/delay/1', `${server.url}/delay/${UNIT / 1000}`],
    ['http://127.0.0.1:1/', 'http://127.0.0.1:1/'], // nothing listens on port 1
  ];
  await using session = new ClientSession();
  // The first request of a process also compiles undici's HTTP parser (about
  // 0.1 s): one request before the clock starts keeps that out of the timing.
  await (await session.get(`${server.url}/get`)).text();
  const start = performance.now();
  const results = await gather(
    urls.map(
      ([, url]) =>
        (signal: AbortSignal) =>
          fetchUrl(session, url, signal),
    ),
  );
  console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`); // ≈ 2, not 4
  results.forEach((r, i) => console.log(urls[i]![0], 'status' in r ? r.status : r.error));
});
