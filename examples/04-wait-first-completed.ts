// Seed §4 "asyncio.wait(): Fine-Grained Control". Mirrors:
//   tasks = [asyncio.create_task(task(i)) for i in [3, 1, 2]]
//   done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
//   for t in done: print(f"Done: {t.result()}")
//   for t in pending: t.cancel()
// and, from §13, awaiting a cancelled task raises CancelledError.
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/04-wait-first-completed.ts
import { run, sleep, createTask, wait, FIRST_COMPLETED, CancelledError } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

async function task(n: number, signal: AbortSignal): Promise<number> {
  await sleep(n * UNIT, undefined, { signal }); // the signal lets cancel() stop the sleep
  return n;
}

await run(async () => {
  const start = performance.now();
  const tasks = [3, 1, 2].map((n) => createTask((signal) => task(n, signal), { name: `task-${n}` }));

  // Continue when the first completes
  const { done, pending } = await wait(tasks, { returnWhen: FIRST_COMPLETED });
  for (const t of done) console.log(`Done: ${t.result()}`);

  // Cancel the rest, then await them: each one rejects with CancelledError.
  for (const t of pending) t.cancel();
  for (const t of tasks.filter((t) => pending.has(t))) {
    try {
      await t;
    } catch (e) {
      if (!(e instanceof CancelledError)) throw e;
      console.log(`Cancelled: ${t.getName()}`);
    }
  }
  console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
});
