// Seed §8 "Async Network IO: aiohttp", Basic GET Request. Mirrors:
//   async def fetch(session, url):
//       async with session.get(url) as response:
//           return await response.json()
//   async with aiohttp.ClientSession() as session:
//       data = await fetch(session, "https://api.github.com/users/octocat")
//       print(data["name"])
// The URL is the embedded httpbin-style test server's /json, started here, so
// the example needs no internet. `async with` is `await using`: the response
// and the session are released at the end of their blocks.
// Run: npm run example examples/08-get-json.ts
import { run } from 'tsaio';
import { ClientSession, startTestServer } from 'tsaio/http';

interface SlideShow {
  slideshow: { author: string; title: string; slides: { title: string }[] };
}

async function fetchJson(session: ClientSession, url: string, signal: AbortSignal): Promise<SlideShow> {
  await using response = await session.get(url, { signal });
  return response.json<SlideShow>();
}

await run(async (signal) => {
  await using server = await startTestServer();
  await using session = new ClientSession();
  const data = await fetchJson(session, `${server.url}/json`, signal);
  console.log(data.slideshow.title);
  console.log(`by ${data.slideshow.author}`);
});
