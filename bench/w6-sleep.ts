// W6: 100,000 concurrent one-second sleeps.
//
// The elapsed time runs from before the first sleep is created to the moment
// all have resolved, so it includes creating them. The heap figure is taken
// with all sleeps pending and before they are handed to gather/Promise.all,
// so it counts the sleeps themselves (and the array holding them, 8 bytes
// each, the same for every variant).
import type { Verdict, VariantSummary, Workload } from './_workload.ts';
import { int, times } from './_workload.ts';

const DELAY_MS = 1000;
const ELAPSED_LIMIT_MS = 1050;

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
  judge(s) {
    const raw = s.get('raw');
    const rawMs = raw?.elapsed?.median ?? null;
    const rawMisses = rawMs !== null && rawMs > ELAPSED_LIMIT_MS;
    return [...s.values()]
      .filter((v) => v.name.startsWith('tsaio'))
      .map((v) => elapsedVerdict(v, rawMs, rawMisses));
  },
};

function elapsedVerdict(v: VariantSummary, rawMs: number | null, rawMisses: boolean): Verdict {
  const target = `${v.name}: elapsed ≤ ${int(ELAPSED_LIMIT_MS)} ms`;
  if (v.elapsed === null) return { target, met: null, detail: 'no successful run' };
  const ms = v.elapsed.median;
  const vsRaw = `${times(v.elapsedRatio)} raw in the same rounds`;
  if (ms <= ELAPSED_LIMIT_MS) return { target, met: true, detail: `median ${int(ms)} ms (${vsRaw})` };
  const why = rawMisses
    ? `raw misses it too on this machine (raw median ${int(rawMs ?? 0)} ms), so compare against raw: ${vsRaw}`
    : vsRaw;
  return { target, met: false, detail: `median ${int(ms)} ms; ${why}` };
}
