// W3B (the W3′): 100,000 jobs, at most 100 at once, each one yield.
//
// Unlike W3, no variant starts all N bodies up front: each starts a job only
// when one of the 100 slots is free, the shape of `map` with a concurrency.
// The yield is the same one turn of the event loop everywhere,
// `new Promise((r) => setImmediate(r))` (`Effect.promise` of it for Effect),
// so that only the machinery around it differs.
//
// `tsaio-semaphore-loop` is tsaio's own Semaphore used by hand: acquire a
// permit, then start the job, which releases it when done. `p-map` is the
// p-map package, a pinned devDependency; should it be missing the variant
// fails ("p-map is not installed") and its targets are not measured.
//
// Each variant fails unless the highest number of jobs seen running at once
// is exactly 100 and all N ran. `mark()` is called when the first job ends.
import type { Mark, Workload } from './_workload.ts';
import { turn } from './_workload.ts';

const CONCURRENCY = 100;

/** Counts running jobs; `check` throws unless the limit held and was reached. */
function probe(n: number, mark: Mark) {
  let inside = 0;
  let peak = 0;
  let finished = 0;
  return {
    async job(): Promise<void> {
      if (++inside > peak) peak = inside;
      await turn();
      mark();
      inside--;
      finished++;
    },
    check(): void {
      if (peak !== CONCURRENCY || finished !== n || inside !== 0) {
        throw new Error(
          `W3B check failed: peak concurrency ${peak} (want ${CONCURRENCY}), ${finished}/${n} jobs finished, ${inside} still running`,
        );
      }
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export const w3b: Workload = {
  id: 'W3B',
  title: "100,000 jobs, at most 100 at once, each yielding once (the issue's W3′)",
  n: 100_000,
  note:
    'Each variant starts a job only when one of 100 slots is free (no variant creates all N up front, unlike ' +
    'W3). The yield is one turn of the event loop everywhere: `new Promise((r) => setImmediate(r))`, and ' +
    "`Effect.promise` of it for Effect. `tsaio-semaphore-loop` is tsaio's Semaphore by hand: acquire, then " +
    'start the job, which releases. `p-map` is the p-map package (a pinned devDependency). Each variant fails unless the highest number of jobs ' +
    'running at once is exactly 100 and all N ran. `mark()` is called when the first job ends.',
  unit: 'job',
  baseline: 'tsaio-semaphore-loop',
  variants: [
    {
      name: 'tsaio-semaphore-loop',
      code: 'const sem = new Semaphore(100); for (i of range) { const held = await sem.acquire(); jobs.push((async () => { try { await new Promise((r) => setImmediate(r)); } finally { held.release(); } })()); } await Promise.all(jobs)',
      async load() {
        const { Semaphore } = await import('tsaio');
        return async (n, mark) => {
          const p = probe(n, mark);
          const sem = new Semaphore(CONCURRENCY);
          const jobs: Promise<void>[] = [];
          for (let i = 0; i < n; i++) {
            const held = await sem.acquire();
            jobs.push(p.job().finally(() => held.release()));
          }
          await Promise.all(jobs);
          p.check();
        };
      },
    },
    {
      name: 'tsaio-map',
      code: 'for await (const _ of map(range, () => new Promise((r) => setImmediate(r)), { concurrency: 100 }));',
      async load() {
        const { map } = await import('tsaio');
        return async (n, mark) => {
          const p = probe(n, mark);
          for await (const _ of map(range(n), () => p.job(), { concurrency: CONCURRENCY }));
          p.check();
        };
      },
    },
    {
      name: 'p-map',
      code: 'await pMap(range, () => new Promise((r) => setImmediate(r)), { concurrency: 100 })',
      async load() {
        const specifier = 'p-map';
        type PMap = (
          input: Iterable<number>,
          fn: () => Promise<void>,
          opts: { concurrency: number },
        ) => Promise<unknown>;
        let pMap: PMap;
        try {
          pMap = ((await import(specifier)) as { default: PMap }).default;
        } catch {
          throw new Error('p-map is not installed (add it to devDependencies to measure this variant)');
        }
        return async (n, mark) => {
          const p = probe(n, mark);
          await pMap(range(n), () => p.job(), { concurrency: CONCURRENCY });
          p.check();
        };
      },
    },
    {
      name: 'effect-forEach',
      code:
        'Effect.runPromise(Effect.forEach(range, () => Effect.promise(() => new Promise((r) => setImmediate(r))), ' +
        '{ concurrency: 100, discard: true }))',
      async load() {
        const { Effect } = await import('effect');
        return async (n, mark) => {
          const p = probe(n, mark);
          const body = Effect.promise(() => p.job());
          await Effect.runPromise(
            Effect.forEach(range(n), () => body, { concurrency: CONCURRENCY, discard: true }),
          );
          p.check();
        };
      },
    },
  ],
};
