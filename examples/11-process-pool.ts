// Seed §11: CPU-heavy work in a process pool. Mirrors:
//   def cpu_heavy():
//       return sum(i * i for i in range(10**7))
//   with ProcessPoolExecutor() as pool:
//       result = await loop.run_in_executor(pool, cpu_heavy)
// The sum is exact, as Python's integers are: partial sums of 64 squares
// stay below 2^53 as Numbers, and are added up as a BigInt. Four jobs run at
// once on the pool's processes (as many as the machine has cores).
// Run: npm run example examples/11-process-pool.ts
import { run, gather, getRunningLoop } from 'tsaio';
import { ProcessPoolExecutor } from 'tsaio/executor';

function cpuHeavy(n: number): bigint {
  let total = 0n;
  for (let block = 0; block < n; block += 64) {
    let partial = 0;
    for (let i = block; i < Math.min(block + 64, n); i++) partial += i * i;
    total += BigInt(partial);
  }
  return total;
}

await run(async () => {
  const loop = getRunningLoop();
  await using pool = new ProcessPoolExecutor();
  const result = await loop.runInExecutor(pool, cpuHeavy, 10 ** 7);
  console.log(`sum(i * i for i in range(10**7)) = ${result}`);
  const many = await gather([10, 100, 1000, 10 ** 6].map((n) => loop.runInExecutor(pool, cpuHeavy, n)));
  console.log(`for 10, 100, 1000, 10**6: ${many.join(', ')}`);
});
