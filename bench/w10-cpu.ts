// W10: 8 jobs of the seed's `sum(i * i for i in range(10**7))` on 2 workers.
//
// Each variant makes its pool of 2 workers, runs the 8 jobs (4 rounds of 2 in
// parallel), and ends the pool, all inside the measured region: starting the
// workers is part of the cost, for every variant alike. Every pool runs the
// same job module (bench/_w10-job.mjs, plain JavaScript) and must return the
// exact sum. tsaio's ThreadPoolExecutor and ProcessPoolExecutor against
// piscina and tinypool (both thread pools). The peers get `execArgv: []`:
// the runner's `--import tsx`, inherited, would load tsx in each of their
// threads for nothing (tsaio's workers load it only for TypeScript jobs).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { Workload } from './_workload.ts';

const JOB = new URL('./_w10-job.mjs', import.meta.url);
const CHILD = new URL('./_w10-child.mjs', import.meta.url);
const N = 10 ** 7;
const EXPECTED = '333333283333335000000';
const WORKERS = 2;

function check(results: unknown[], n: number): void {
  if (results.length !== n || results.some((r) => r !== EXPECTED)) {
    throw new Error(`W10 check failed: ${JSON.stringify(results)}`);
  }
}

export const w10: Workload = {
  id: 'W10',
  title: '8 jobs of sum(i * i for i in range(10**7)) on 2 workers',
  n: 8,
  note:
    'Each variant creates a pool of 2 workers, runs the 8 jobs (at most 2 at once) and ends the pool, all ' +
    'measured: starting the workers is part of the cost for every variant. Every pool runs the same plain ' +
    'JavaScript module (`bench/_w10-job.mjs`: the exact sum, partial sums of 64 squares as Numbers added up ' +
    'as a BigInt) and must return `333333283333335000000`. piscina and tinypool are thread pools, so ' +
    '`tsaio-thread` is the like-for-like comparison; `tsaio-process` also pays for starting processes, so ' +
    '`raw-fork` is its floor: a hand-written pool of 2 `child_process.fork` children (`bench/_w10-child.mjs`, ' +
    'no tsx, the same `advanced` serialization) that runs the same module, one job per message. ' +
    'The runner runs every variant under tsx (`node --import tsx`); threads inherit `--import tsx` and load ' +
    'tsx for nothing (the job is JavaScript), which cost piscina and tinypool about 0.6 s here, so they are ' +
    'given `execArgv: []`; tsaio loads tsx in a worker only for a TypeScript job. `mark()` is called when ' +
    'the first job is done.',
  unit: 'job',
  baseline: 'piscina',
  variants: [
    {
      name: 'piscina',
      code: 'const pool = new Piscina({ filename, minThreads: 2, maxThreads: 2, execArgv: [] }); await Promise.all(jobs.map(() => pool.run(N))); await pool.destroy()',
      async load() {
        const { Piscina } = await import('piscina');
        return async (n, mark) => {
          const pool = new Piscina({
            filename: JOB.href,
            minThreads: WORKERS,
            maxThreads: WORKERS,
            execArgv: [],
          });
          const results = await Promise.all(Array.from({ length: n }, () => pool.run(N).finally(mark)));
          await pool.destroy();
          check(results, n);
        };
      },
    },
    {
      name: 'tinypool',
      code: 'const pool = new Tinypool({ filename, minThreads: 2, maxThreads: 2, execArgv: [] }); await Promise.all(jobs.map(() => pool.run(N))); await pool.destroy()',
      async load() {
        const { Tinypool } = await import('tinypool');
        return async (n, mark) => {
          const pool = new Tinypool({
            filename: JOB.href,
            minThreads: WORKERS,
            maxThreads: WORKERS,
            execArgv: [],
          });
          const results = await Promise.all(Array.from({ length: n }, () => pool.run(N).finally(mark)));
          await pool.destroy();
          check(results, n);
        };
      },
    },
    {
      name: 'tsaio-thread',
      code: 'await using pool = new ThreadPoolExecutor({ maxWorkers: 2 }); await gather(jobs.map(() => pool.submit({ module, name: "default" }, N)))',
      async load() {
        const { ThreadPoolExecutor } = await import('tsaio/executor');
        const { gather } = await import('tsaio');
        return async (n, mark) => {
          await using pool = new ThreadPoolExecutor({ maxWorkers: WORKERS });
          const jobs = Array.from({ length: n }, () => pool.submit<string>(JOB, N));
          for (const job of jobs) job.addDoneCallback(mark);
          check(await gather(jobs), n);
        };
      },
    },
    {
      name: 'tsaio-process',
      code: 'await using pool = new ProcessPoolExecutor({ maxWorkers: 2 }); await gather(jobs.map(() => pool.submit({ module, name: "default" }, N)))',
      async load() {
        const { ProcessPoolExecutor } = await import('tsaio/executor');
        const { gather } = await import('tsaio');
        return async (n, mark) => {
          await using pool = new ProcessPoolExecutor({ maxWorkers: WORKERS });
          const jobs = Array.from({ length: n }, () => pool.submit<string>(JOB, N));
          for (const job of jobs) job.addDoneCallback(mark);
          check(await gather(jobs), n);
        };
      },
    },
    {
      name: 'raw-fork',
      code: "const kids = [fork('bench/_w10-child.mjs', { execArgv: [], serialization: 'advanced' }) ×2]; each takes the next job when it answers; kill both, await their exit",
      async load() {
        return async (n, mark) => {
          const results: unknown[] = [];
          let next = 0;
          const kids = Array.from({ length: WORKERS }, () =>
            fork(new URL(CHILD).pathname, { execArgv: [], serialization: 'advanced' }),
          );
          await Promise.all(
            kids.map(async (kid) => {
              while (next < n) {
                next++;
                kid.send(N);
                const [result] = (await once(kid, 'message')) as [unknown];
                results.push(result);
                mark();
              }
              const exited = once(kid, 'exit');
              kid.kill();
              await exited;
            }),
          );
          check(results, n);
        };
      },
    },
  ],
};
