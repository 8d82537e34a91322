// W5: 1,000 tasks each taking one lock 100 times, yielding once while holding it.
//
// All 1,000 tasks start at once; each loops 100 times: take the lock, yield
// one turn of the event loop, release. So 100,000 critical sections run one
// after another, each a turn of the loop, and 999 tasks wait on the lock at
// any moment. The yield is the same everywhere: tsaio's `sleep(0)`,
// `new Promise((r) => setImmediate(r))` for async-mutex, and `Effect.promise`
// of that same promise for Effect (see W3 for why not `Effect.yieldNow()`).
//
// Each variant fails unless no two bodies were ever inside at once and all
// 100,000 critical sections ran.
//
// Effect's `Semaphore` (3.22) wakes every waiting fiber on each release; all
// but one find no permit and wait again: with 999 waiters, each of the
// 100,000 releases costs ~1,000 fiber resumptions. The variant gives up after
// EFFECT_LIMIT_MS: its elapsed is then only known to be at least that, a
// bound the verdicts use.
//
// Every critical section calls `mark()` after its yield; only the first call
// counts, and by then all N tasks exist and all but one wait for the lock.
import type { Mark, Workload } from './_workload.ts';
import { turn, within } from './_workload.ts';

const ROUNDS = 100;
/** Effect's semaphore wakes every waiter on each release (see the note): it gives up after this. */
const EFFECT_LIMIT_MS = 15_000;

/** Watches the critical section; `check` throws unless it was exclusive and ran n × ROUNDS times. */
function probe(n: number, mark: Mark) {
  let inside = 0;
  let overlaps = 0;
  let sections = 0;
  return {
    enter(): void {
      if (++inside !== 1) overlaps++;
    },
    leave(): void {
      mark();
      inside--;
      sections++;
    },
    check(): void {
      if (overlaps !== 0 || sections !== n * ROUNDS || inside !== 0) {
        throw new Error(
          `W5 check failed: ${overlaps} overlapping entries, ${sections}/${n * ROUNDS} sections, ${inside} inside`,
        );
      }
    },
  };
}

export const w5: Workload = {
  id: 'W5',
  title: '1,000 tasks × 100 acquisitions of one Lock, yielding once inside',
  n: 1_000,
  note:
    'All N tasks start at once; each takes the lock 100 times, yields one turn of the event loop inside ' +
    'and releases: 100,000 critical sections, one after another. The yield: tsaio `sleep(0)`; ' +
    '`new Promise((r) => setImmediate(r))` for async-mutex; `Effect.promise` of the same for Effect (not ' +
    "`Effect.yieldNow()`, which resumes on a microtask). Effect's `Semaphore` wakes every waiting fiber " +
    'on each release (all but one wait again), so with 999 waiters `effect` gives up after 15 s and ' +
    'its elapsed is only known to be at least 15 s (a bound the verdicts use). Each variant fails unless no two sections ever ' +
    'overlapped and all 100,000 ran. `mark()` is called after the first yield: all N tasks exist and ' +
    'all but one wait for the lock.',
  unit: 'task',
  baseline: 'tsaio-acquire',
  variants: [
    {
      name: 'tsaio-acquire',
      code: 'const lock = new Lock(); await gather(Array.from({ length: N }, () => async () => { for (100×) { using _ = await lock.acquire(); await sleep(0); } }))',
      async load() {
        const { Lock, gather, sleep } = await import('tsaio');
        return async (n, mark) => {
          const p = probe(n, mark);
          const lock = new Lock();
          await gather(
            Array.from({ length: n }, () => async () => {
              for (let i = 0; i < ROUNDS; i++) {
                using _held = await lock.acquire();
                p.enter();
                await sleep(0);
                p.leave();
              }
            }),
          );
          p.check();
        };
      },
    },
    {
      name: 'tsaio-run',
      code: 'const lock = new Lock(); await gather(Array.from({ length: N }, () => async () => { for (100×) await lock.run(() => sleep(0)); }))',
      async load() {
        const { Lock, gather, sleep } = await import('tsaio');
        return async (n, mark) => {
          const p = probe(n, mark);
          const lock = new Lock();
          const body = async () => {
            p.enter();
            await sleep(0);
            p.leave();
          };
          await gather(
            Array.from({ length: n }, () => async () => {
              for (let i = 0; i < ROUNDS; i++) await lock.run(body);
            }),
          );
          p.check();
        };
      },
    },
    {
      name: 'async-mutex',
      code: 'const mutex = new Mutex(); await Promise.all(Array.from({ length: N }, async () => { for (100×) await mutex.runExclusive(() => new Promise((r) => setImmediate(r))); }))',
      async load() {
        const { Mutex } = await import('async-mutex');
        return async (n, mark) => {
          const p = probe(n, mark);
          const mutex = new Mutex();
          const body = async () => {
            p.enter();
            await turn();
            p.leave();
          };
          await Promise.all(
            Array.from({ length: n }, async () => {
              for (let i = 0; i < ROUNDS; i++) await mutex.runExclusive(body);
            }),
          );
          p.check();
        };
      },
    },
    {
      name: 'effect',
      code:
        'Effect.runPromise(Effect.flatMap(Effect.makeSemaphore(1), (sem) => Effect.forEach(range, () => ' +
        'Effect.repeatN(sem.withPermits(1)(Effect.promise(() => new Promise((r) => setImmediate(r)))), 99), ' +
        "{ concurrency: 'unbounded', discard: true })))",
      async load() {
        const { Effect } = await import('effect');
        return async (n, mark) => {
          const p = probe(n, mark);
          const body = Effect.sync(() => p.enter()).pipe(
            Effect.zipRight(Effect.promise(turn)),
            Effect.zipRight(Effect.sync(() => p.leave())),
          );
          const program = Effect.flatMap(Effect.makeSemaphore(1), (sem) =>
            Effect.forEach(
              Array.from({ length: n }),
              () => Effect.repeatN(sem.withPermits(1)(body), ROUNDS - 1),
              {
                concurrency: 'unbounded',
                discard: true,
              },
            ),
          );
          await within(EFFECT_LIMIT_MS, 'effect', Effect.runPromise(program));
          p.check();
        };
      },
    },
  ],
};
