// W2: 1,000,000 task bodies, each yielding to the event loop once, gathered.
//
// `raw` is what a Node user writes without tsaio: one async function per body,
// yielding through `setImmediate`. The tsaio variants make real tasks (each
// a Future with its own cancellation node) and yield with `sleep(0)`, which
// goes through tsaio's ready queue: one turn of the loop, like `asyncio.sleep(0)`.
//
// Every body calls `mark()` after its yield; only the first call counts, and by
// then every body has started and parked and none has finished: the peak.
//
// The `tsaio-run*` variants run the same gather of bodies inside `run()`: with
// debug mode off, with debug mode on (every task's creation site is captured,
// V8's promise hooks follow each task across its awaits, failures and
// collections are watched), and with tracing on (the trace file is written to
// the temporary directory, inside the timed body, and removed after). Debug
// mode and tracing are meant to cost when on and nothing when off; the targets
// of W2 are the and apply to the variants with both off.
import type { Variant, Verdict, VariantSummary, Workload } from './_workload.ts';
import { pairedElapsedRatio, times } from './_workload.ts';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
    runVariant(
      'tsaio-run',
      'await run(() => gather(Array.from({ length: N }, () => async () => { await sleep(0); })))',
      {},
    ),
    runVariant('tsaio-run-debug', 'await run(() => gather(...the same bodies...), { debug: true })', {
      debug: true,
    }),
    runVariant(
      'tsaio-run-trace',
      "await run(() => gather(...the same bodies...), { trace: 'w2-trace.json' })",
      { trace: true },
    ),
  ],
  judge(s) {
    const tsaio = [...s.values()].filter((v) => v.name.startsWith('tsaio') && !WATCHED.includes(v.name));
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
      watchedVerdict(s),
    ];
  },
};

/**
 * What debug mode and tracing cost when on, next to the same run with both
 * off; "met" when the run with both off is within 10% of the bare gather
 * (run() and the flags' checks add nothing measurable).
 */
function watchedVerdict(s: ReadonlyMap<string, VariantSummary>): Verdict {
  const off = s.get('tsaio-run');
  const bare = s.get('tsaio-bodies');
  const target =
    'debug mode and tracing off cost nothing measurable (tsaio-run within 1.10× of tsaio-bodies)';
  if (off === undefined || bare === undefined) return { target, met: null, detail: 'variant missing' };
  const ratio = pairedElapsedRatio(off, bare);
  const cost = WATCHED.map((name) => {
    const v = s.get(name);
    const r = v === undefined ? null : pairedElapsedRatio(v, off);
    return `${name} ${times(r)} of tsaio-run`;
  });
  return {
    target,
    met: ratio === null ? null : ratio <= 1.1,
    detail: `tsaio-run ${times(ratio)} of tsaio-bodies; when on: ${cost.join(', ')}`,
  };
}

/** The variants with debug mode or tracing on: measured for their cost, outside the targets. */
const WATCHED = ['tsaio-run-debug', 'tsaio-run-trace'];

/** The tsaio-bodies gather inside `run()`, with debug mode or tracing as asked. */
function runVariant(name: string, code: string, opts: { debug?: boolean; trace?: boolean }): Variant {
  return {
    name,
    code,
    async load() {
      const { gather, run, sleep } = await import('tsaio');
      return async (n, mark) => {
        const trace = opts.trace ? join(tmpdir(), `tsaio-w2-trace-${process.pid}.json`) : undefined;
        try {
          await run(
            () =>
              gather(
                Array.from({ length: n }, () => async () => {
                  await sleep(0);
                  mark();
                }),
              ),
            { debug: opts.debug ?? false, ...(trace === undefined ? {} : { trace }) },
          );
        } finally {
          if (trace !== undefined) rmSync(trace, { force: true });
        }
      };
    },
  };
}

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
