// Seed §8 "Async Network IO: aiohttp", POST Request. Mirrors:
//   async def post_data(session, url, payload):
//       async with session.post(url, json=payload) as resp:
//           return await resp.json()
//   async with aiohttp.ClientSession() as session:
//       result = await post_data(session, "https://httpbin.org/post", {"key": "value", "name": "asyncio"})
//       print(result)
// The URL is the embedded httpbin-style test server's /post, which echoes the
// request. Its echo also holds the port and client headers, which change from
// run to run, so the steady parts are printed.
// Run: npm run example examples/08-post-json.ts
import { run } from 'tsaio';
import { ClientSession, startTestServer } from 'tsaio/http';

interface Echo {
  method: string;
  url: string;
  json: unknown;
  headers: Record<string, string>;
}

async function postData(
  session: ClientSession,
  url: string,
  payload: unknown,
  signal: AbortSignal,
): Promise<Echo> {
  await using resp = await session.post(url, { json: payload, signal });
  return resp.json<Echo>();
}

await run(async (signal) => {
  await using server = await startTestServer();
  await using session = new ClientSession({ baseUrl: server.url });
  const result = await postData(session, '/post', { key: 'value', name: 'asyncio' }, signal);
  console.log(`method: ${result.method}`);
  console.log(`path: ${new URL(result.url).pathname}`);
  console.log(`content-type: ${result.headers['content-type']}`);
  console.log(`json: ${JSON.stringify(result.json)}`);
});
