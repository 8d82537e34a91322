// Seed §3 "asyncio.run(): Program Entry Point". Mirrors:
//   async def main():
//       print("Start"); await asyncio.sleep(1); print("Done")
//   asyncio.run(main())
// Run: npm run example examples/03-run.ts
import { run, sleep } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000; // ms per seed second

async function main(signal: AbortSignal): Promise<void> {
  console.log('Start');
  await sleep(1 * UNIT, undefined, { signal }); // simulate IO wait
  console.log('Done');
}

await run(main); // the standard entry point
