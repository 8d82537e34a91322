// Seed §4 "asyncio.create_task(): True Concurrency". Mirrors:
//   task_a = asyncio.create_task(task("A", 1))  # B: 2, C: 1
//   result_a = await task_a; ...
//   # Elapsed: 2.0s (concurrent; total = longest single task)
// Times are in units of TSAIO_EXAMPLE_UNIT_MS (default 1000 ms, the seed's seconds).
// Run: npm run example examples/04-create-task.ts
import { run, sleep, createTask } from 'tsaio';

const UNIT = Number(process.env.TSAIO_EXAMPLE_UNIT_MS) || 1000;

async function task(name: string, delay: number, signal: AbortSignal): Promise<string> {
  console.log(`${name} start`);
  await sleep(delay * UNIT, undefined, { signal });
  console.log(`${name} done`);
  return `${name}'s result`;
}

await run(async () => {
  const start = performance.now();
  // Scheduled at once; each body starts after this synchronous run.
  const taskA = createTask((signal) => task('A', 1, signal));
  const taskB = createTask((signal) => task('B', 2, signal));
  const taskC = createTask((signal) => task('C', 1, signal));
  // Wait for all tasks
  const resultA = await taskA;
  const resultB = await taskB;
  const resultC = await taskC;
  console.log(`Results: ${resultA}, ${resultB}, ${resultC}`);
  console.log(`Elapsed: ${((performance.now() - start) / UNIT).toFixed(1)}s`);
});
