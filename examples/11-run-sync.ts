// Seed §11 "Calling Async from Sync Code": a plain (sync) function that needs
// the result of async code. Mirrors:
//   def sync_function():
//       result = asyncio.run(async_function())
//       return result
// `runSync` runs the async function on a worker thread's own event loop and
// blocks the sync caller until it settles (Atomics.wait), returning its value
// or throwing its error. The async function is sent as source, so it must be
// self-contained (its inputs come as arguments).
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/11-run-sync.ts
import { runSync } from 'tsaio/executor';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

async function asyncFunction(name: string, ms: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, ms)); // stands for real async I/O
  return `Hello, ${name}`;
}

function syncFunction(): string {
  // Python: asyncio.run(async_function())
  return runSync(asyncFunction, 'sync world', UNIT);
}

function failingSyncFunction(): void {
  runSync(async () => {
    throw new RangeError('bad input from async code');
  });
}

runSync(() => null); // start the shared worker thread before the clock starts
const start = performance.now();
console.log(syncFunction());
console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
try {
  failingSyncFunction();
} catch (e) {
  console.log(`Caught ${(e as Error).name}: ${(e as Error).message}`);
}
