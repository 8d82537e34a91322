// Seed §11 "Running Sync Blocking Functions in Async", the process-pool part,
// spread over two `tsaio worker` processes through tsaio/nats's RemoteExecutor:
//   def cpu_heavy():
//       return sum(i * i for i in range(10**7))
//   with ProcessPoolExecutor() as pool:
//       result = await loop.run_in_executor(pool, cpu_heavy)
// The sum is cut into 8 slices; each is a job `sumOfSquares(start, end)` of
// the module examples/jobs/sum.ts, which two worker processes serve (one job
// at a time each: the work is CPU-bound). Each submit returns a core Future;
// a worker that died mid-job would see its job run again by the other.
// Needs a NATS server with JetStream at 127.0.0.1:4222 (`nats-server -js`),
// and the package built (`npm run build`: the workers run dist/cli/main.js).
// Run: npm run example examples/11-remote-executor.ts
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { gather, run } from 'tsaio';
import { connect, RemoteExecutor } from 'tsaio/nats';

const N = 10 ** 7;
const SLICES = 8;
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url)); // the `tsaio` command
const JOBS = fileURLToPath(new URL('./jobs/sum.ts', import.meta.url));

/** Starts `tsaio worker` for `executor`; resolves once it takes jobs, with a function that stops it. */
function startWorker(executor: string, name: string): Promise<() => Promise<void>> {
  const args = [...process.execArgv, CLI, 'worker', JOBS, '--executor', executor, '--name', name, '--quiet'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((ready) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes(' ready: ')) {
        ready(async () => {
          child.kill('SIGINT'); // Ctrl-C: the worker finishes cleanly
          await exited;
        });
      }
    });
  });
}

await run(async () => {
  await using conn = await connect('127.0.0.1:4222');
  const executor = `seed-11-${process.pid}`;
  const stops = await Promise.all([startWorker(executor, 'worker-1'), startWorker(executor, 'worker-2')]);
  await using pool = await RemoteExecutor.open(conn, { name: executor });
  const step = N / SLICES;
  const futures = Array.from({ length: SLICES }, (_, k) =>
    pool.submit<{ sum: string; worker: string }>('sumOfSquares', k * step, (k + 1) * step),
  );
  const parts = await gather(futures);
  const result = parts.reduce((total, part) => total + BigInt(part.sum), 0n);
  console.log(`Result: ${result}`);
  const byWorker = new Map<string, number>();
  for (const { worker } of parts) byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
  console.log(
    `Slices per worker: ${[...byWorker]
      .sort()
      .map(([w, n]) => `${w}=${n}`)
      .join(', ')}`,
  );
  for (const stop of stops) await stop();
  for (const s of ['', '_DLQ', '_CTL']) await conn.jsm.streams.delete(`TSAIO_Q_exec-${executor}${s}`);
});
