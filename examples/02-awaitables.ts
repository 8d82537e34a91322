// Seed §2 "The await Keyword" and "Awaitable Objects". Mirrors:
//   await coro()                                   # 1. coroutine
//   task = asyncio.create_task(coro()); await task # 2. task
//   future = loop.create_future(); await future    # 3. future (low level)
// Run: npm run example examples/02-awaitables.ts
import { run, sleep, createTask, getRunningLoop } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000; // ms per seed second

async function someAsyncOperation(signal: AbortSignal): Promise<string> {
  await sleep(0.1 * UNIT, undefined, { signal }); // pauses here; the loop runs other tasks
  return 'operation result';
}

async function fetchIt(signal: AbortSignal): Promise<string> {
  const result = await someAsyncOperation(signal); // resumes here after "IO" completes
  return result;
}

await run(async (signal) => {
  // 1. A coroutine: call the body and await it.
  console.log(`coroutine: ${await fetchIt(signal)}`);

  // 2. A task: scheduled now, awaited later.
  const task = createTask(fetchIt);
  console.log(`task: ${await task}`);

  // 3. A future: settled by someone else (here, a callback 0.1 units later).
  const loop = getRunningLoop();
  const future = loop.createFuture<string>();
  loop.callLater(0.1 * UNIT, () => future.setResult('future result'));
  console.log(`future: ${await future}`);
});
