// Seed §4 "Exception handling in gather". Mirrors:
//   results = await asyncio.gather(coro1(), coro2(), coro3())   # raises the first error
//   results = await asyncio.gather(coro1(), coro2(), coro3(), return_exceptions=True)
//   for r in results: print(f"Error: {r}" if isinstance(r, Exception) else f"Success: {r}")
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/04-gather-exceptions.ts
import { run, sleep, gather } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

const coro1 = async (signal: AbortSignal) => {
  await sleep(0.1 * UNIT, undefined, { signal });
  return 'one';
};
const coro2 = async (signal: AbortSignal) => {
  await sleep(0.2 * UNIT, undefined, { signal });
  throw new Error('two failed');
};
const coro3 = async (signal: AbortSignal) => {
  await sleep(0.3 * UNIT, undefined, { signal });
  return 'three';
};

await run(async () => {
  // Default: the first exception rejects the gather (siblings are not cancelled).
  try {
    await gather([coro1, coro2, coro3]);
  } catch (e) {
    console.log(`gather raised: ${(e as Error).message}`);
  }

  // returnExceptions: exceptions come back as results, nothing is interrupted.
  const results = await gather([coro1, coro2, coro3], { returnExceptions: true });
  for (const r of results) {
    if (r instanceof Error) console.log(`Error: ${r.message}`);
    else console.log(`Success: ${r}`);
  }
});
