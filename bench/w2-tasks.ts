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
// mode and tracing cost when on: their targets bound that cost against
// `tsaio-run`.
//
// Two variants make the comparison with raw like for like. `raw-shared-yield`
// is raw with tsaio's way of yielding: every body parked in the same turn
// awaits one shared promise, resolved by one `setImmediate` (as `sleep(0)`
// does through tsaio's ready queue), instead of a `setImmediate` and a promise
// each. `tsaio-tasks-raw-yield` is `tsaio-tasks` with raw's own yield.
import type { Variant, Workload } from './_workload.ts';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const w2: Workload = {
  id: 'W2',
  title: '1,000,000 tasks, each yielding once, gathered',
  n: 1_000_000,
  note:
    'Every body calls `mark()` right after its yield; only the first call counts, and by then every ' +
    'body has started and parked and none has finished, so **ms to peak** is the time to create and ' +
    'park all N and the heap figure is the live data of N parked tasks (plus their gather). ' +
    "`raw-shared-yield` is raw yielding as tsaio's `sleep(0)` does (the bodies parked in one turn share one " +
    "promise and one `setImmediate`); `tsaio-tasks-raw-yield` is `tsaio-tasks` with raw's own yield. The " +
    '`tsaio-run*` variants run the gather inside `run()`, with debug mode or tracing on (the trace is written ' +
    'to the temporary directory inside the timed body).',
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
    {
      name: 'raw-shared-yield',
      code: 'let turn = null; const yieldOnce = () => (turn ??= new Promise((r) => setImmediate(() => { turn = null; r(); }))); await Promise.all(Array.from({ length: N }, async () => { await yieldOnce(); }))',
      async load() {
        let turn: Promise<void> | null = null;
        const yieldOnce = () =>
          (turn ??= new Promise<void>((r) =>
            setImmediate(() => {
              turn = null;
              r();
            }),
          ));
        return async (n, mark) => {
          await Promise.all(
            Array.from({ length: n }, async () => {
              await yieldOnce();
              mark();
            }),
          );
        };
      },
    },
    {
      name: 'tsaio-tasks-raw-yield',
      code: 'await gather(Array.from({ length: N }, () => createTask(async () => { await new Promise((r) => setImmediate(r)); })))',
      async load() {
        const { createTask, gather } = await import('tsaio');
        return async (n, mark) => {
          await gather(
            Array.from({ length: n }, () =>
              createTask(async () => {
                await new Promise<void>((r) => setImmediate(r));
                mark();
              }),
            ),
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
};

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
