// W2: 1,000,000 task bodies, each yielding to the event loop once, gathered.
//
// `raw` is what a Node user writes without tsaio: one async function per body,
// yielding through `setImmediate`. The tsaio variants make real tasks (each
// a Future with its own cancellation node) and yield with `sleep(0)`, which
// goes through tsaio's ready queue: one turn of the loop, like `asyncio.sleep(0)`.
//
// Every body calls `mark()` after its yield; only the first call counts, and by
// then every body has started and parked and none has finished: the peak.
import type { Verdict, VariantSummary, Workload } from './_workload.ts';
import { times } from './_workload.ts';

const ELAPSED_LIMIT = 2;
const MEMORY_LIMIT = 1.5;

export const w2: Workload = {
  id: 'W2',
  title: '1,000,000 tasks, each yielding once, gathered',
  n: 1_000_000,
  note:
    'Every body calls `mark()` right after its yield; only the first call counts, and by then every ' +
    'body has started and parked and none has finished, so **ms to peak** is the time to create and ' +
    'park all N and the heap figure is the live data of N parked tasks (plus their gather).',
  unit: 'task',
  baseline: 'raw',
  variants: [
    {
      name: 'raw',
      code: 'await Promise.all(Array.from({ length: N }, async () => { await new Promise((r) => setImmediate(r)); }))',
      async load() {
        return async (n, mark) => {
          await Promise.all(
            Array.from({ length: n }, async () => {
              await new Promise<void>((r) => setImmediate(r));
              mark();
            }),
          );
        };
      },
    },
    {
      name: 'tsaio-tasks',
      code: 'await gather(Array.from({ length: N }, () => createTask(async () => { await sleep(0); })))',
      async load() {
        const { createTask, gather, sleep } = await import('tsaio');
        return async (n, mark) => {
          await gather(
            Array.from({ length: n }, () =>
              createTask(async () => {
                await sleep(0);
                mark();
              }),
            ),
          );
        };
      },
    },
    {
      name: 'tsaio-bodies',
      code: 'await gather(Array.from({ length: N }, () => async () => { await sleep(0); }))',
      async load() {
        const { gather, sleep } = await import('tsaio');
        return async (n, mark) => {
          await gather(
            Array.from({ length: n }, () => async () => {
              await sleep(0);
              mark();
            }),
          );
        };
      },
    },
  ],
  judge(s) {
    const tsaio = [...s.values()].filter((v) => v.name.startsWith('tsaio'));
    return [
      ratioVerdict(
        `tsaio elapsed within ${ELAPSED_LIMIT}× of raw`,
        tsaio,
        ELAPSED_LIMIT,
        (v) => v.elapsedRatio,
      ),
      ratioVerdict(
        `tsaio peak memory within ${MEMORY_LIMIT}× of raw`,
        tsaio,
        MEMORY_LIMIT,
        (v) => v.peakRssRatio,
        (v) => ` (RSS growth ${times(v.rssGrowthRatio)})`,
      ),
    ];
  },
};

/** Met when every variant's paired ratio is at most `limit`. */
function ratioVerdict(
  target: string,
  variants: VariantSummary[],
  limit: number,
  ratio: (v: VariantSummary) => number | null,
  extra: (v: VariantSummary) => string = () => '',
): Verdict {
  const ratios = variants.map(ratio);
  const met =
    ratios.length === 0 || ratios.includes(null) ? null : ratios.every((r) => r !== null && r <= limit);
  const detail = variants.map((v) => `${v.name} ${times(ratio(v))}${extra(v)}`).join('; ');
  return { target, met, detail };
}
