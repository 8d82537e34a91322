// Portable checks: debug mode, which asks the runtime for what it needs when
// turned on (promise hooks in Node and Deno) and goes without where it is
// absent (Bun, a browser). A trace needs node:fs: where there is none, asking
// for one fails at once.
import { createTask, getRunningLoop, run, sleep } from 'tsaio';
import { assert, describe, test } from './_runner.ts';

/** Runs `body` with console.warn captured; returns what was warned. */
async function warnings(body: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.map(String).join(' '));
  try {
    await body();
  } finally {
    console.warn = warn;
  }
  return seen;
}

function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // the loop's thread is held
  }
}

describe('debug mode', () => {
  test('run(main, { debug: true }) turns it on, and back as it was after', async () => {
    // Off by default; on throughout where TSAIO_DEBUG=1 is in the environment.
    const before = await run(async () => getRunningLoop().getDebug());
    const on = await run(async () => getRunningLoop().getDebug(), { debug: true });
    assert.equal(on, true);
    assert.equal(await run(async () => getRunningLoop().getDebug()), before);
  });
  test('a slow task is reported, with where it was made', async () => {
    const seen = await warnings(() =>
      run(
        async () => {
          const loop = getRunningLoop();
          const threshold = loop.slowCallbackDuration;
          loop.slowCallbackDuration = 20;
          try {
            await createTask(() => block(40), { name: 'hog' });
          } finally {
            loop.slowCallbackDuration = threshold;
          }
        },
        { debug: true },
      ),
    );
    const report = seen.find((w) => w.includes('hog') && w.includes('took'));
    assert.ok(report !== undefined, `no slow-task warning among ${JSON.stringify(seen)}`);
    assert.ok(report.includes('created at'), report);
  });
  test('tasks still pending when run ends are named', async () => {
    const seen = await warnings(() =>
      run(
        async () => {
          createTask((signal) => sleep(10_000, undefined, { signal }), { name: 'straggler' });
          await sleep(0);
        },
        { debug: true },
      ),
    );
    assert.ok(
      seen.some((w) => w.includes('straggler') && w.includes('still pending')),
      JSON.stringify(seen),
    );
  });
  test('a trace is written where there is node:fs, and refused at once where there is none', async () => {
    const fs = (
      globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
    ).process?.getBuiltinModule?.('node:fs') as
      | {
          mkdtempSync(p: string): string;
          readFileSync(p: string, e: string): string;
          rmSync(p: string, o: object): void;
        }
      | undefined;
    if (fs === undefined) {
      await assert.rejects(
        run(async () => 1, { trace: 'trace.json' }),
        Error,
        (e: Error) => /node:fs/.test(e.message),
      );
      return;
    }
    const os = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process!
      .getBuiltinModule!('node:os') as { tmpdir(): string };
    const dir = fs.mkdtempSync(`${os.tmpdir()}/tsaio-trace-`);
    try {
      await run(() => createTask(() => sleep(5), { name: 'traced' }), { trace: `${dir}/trace.json` });
      const trace = JSON.parse(fs.readFileSync(`${dir}/trace.json`, 'utf8')) as {
        traceEvents: { name: string }[];
      };
      assert.ok(trace.traceEvents.some((e) => e.name === 'traced'));
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
