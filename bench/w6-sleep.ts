// W6: 100,000 concurrent one-second sleeps.
//
// The elapsed time runs from before the first sleep is created to the moment
// all have resolved, so it includes creating them. The heap figure is taken
// with all sleeps pending and before they are handed to gather/Promise.all,
// so it counts the sleeps themselves (and the array holding them, 8 bytes
// each, the same for every variant).
import type { Workload } from './_workload.ts';

const DELAY_MS = 1000;

export const w6: Workload = {
  id: 'W6',
  title: '100,000 concurrent sleep(1000)',
  n: 100_000,
  note:
    'Elapsed runs from before the first sleep is created until all have resolved, so it includes ' +
    'creating them (**ms to peak**). `mark()` is called once all N sleeps exist, before they are ' +
    'handed to gather/Promise.all: the heap figure counts the sleeps and the array holding them ' +
    '(8 bytes per sleep, the same in every variant).',
  unit: 'pending sleep',
  baseline: 'raw',
  variants: [
    {
      name: 'raw',
      code: 'await Promise.all(Array.from({ length: N }, () => new Promise((r) => setTimeout(r, 1000))))',
      async load() {
        return async (n, mark) => {
          const sleeps = Array.from({ length: n }, () => new Promise<void>((r) => setTimeout(r, DELAY_MS)));
          mark();
          await Promise.all(sleeps);
        };
      },
    },
    {
      name: 'raw-timers-promises',
      code: "import { setTimeout } from 'node:timers/promises'; await Promise.all(Array.from({ length: N }, () => setTimeout(1000)))",
      async load() {
        const { setTimeout: delay } = await import('node:timers/promises');
        return async (n, mark) => {
          const sleeps = Array.from({ length: n }, () => delay(DELAY_MS));
          mark();
          await Promise.all(sleeps);
        };
      },
    },
    {
      name: 'tsaio-gather',
      code: 'await gather(Array.from({ length: N }, () => sleep(1000)))',
      async load() {
        const { gather, sleep } = await import('tsaio');
        return async (n, mark) => {
          const sleeps = Array.from({ length: n }, () => sleep(DELAY_MS));
          mark();
          await gather(sleeps);
        };
      },
    },
    {
      name: 'tsaio-promise-all',
      code: 'await Promise.all(Array.from({ length: N }, () => sleep(1000)))',
      async load() {
        const { sleep } = await import('tsaio');
        return async (n, mark) => {
          const sleeps = Array.from({ length: n }, () => sleep(DELAY_MS));
          mark();
          await Promise.all(sleeps);
        };
      },
    },
  ],
};
