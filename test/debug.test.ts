// Debug mode (issue: "Debug mode, task tracing"): one test per warning, each
// checking that the text names the task and the line of this file where the
// task was made; and that nothing is printed in normal runs, with debug mode
// on or off.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  createTask,
  currentTask,
  gather,
  getRunningLoop,
  run,
  sleep,
  TaskGroup,
  TimeoutError,
  waitFor,
  type Task,
} from '../src/index.ts';
import { closeRunSync, runSync } from '../src/executor/index.ts';
import { _cancelWatchStats } from '../src/_diagnostics.ts';
import { assertNoLeaks } from './_helpers.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const THIS_FILE = /debug\.test\.ts:(\d+):\d+/;

/**
 * Runs `fn(out)` and returns `out`: what was printed with console.warn and
 * sent to the loop's exception handler meanwhile.
 */
async function captured(fn: (out: string[]) => Promise<unknown>): Promise<string[]> {
  const out: string[] = [];
  const warn = console.warn;
  const loop = getRunningLoop();
  const handler = loop.getExceptionHandler();
  console.warn = (...args: unknown[]) => void out.push(args.map(String).join(' '));
  loop.setExceptionHandler((_loop, context) => {
    const exception = context.exception === undefined ? '' : ` | ${String(context.exception)}`;
    out.push(`${context.message}${exception}`);
  });
  try {
    await fn(out);
  } finally {
    console.warn = warn;
    loop.setExceptionHandler(handler);
  }
  return out;
}

/** The one message that mentions `name`; asserts it names the task and the line it was made on. */
function messageAbout(out: string[], name: string, line: number): string {
  const found = out.filter((m) => m.includes(`name='${name}'`));
  assert.equal(found.length, 1, `one message about ${name}, got:\n${out.join('\n---\n')}`);
  const m = THIS_FILE.exec(found[0]!);
  assert.ok(m, `the message gives where ${name} was made:\n${found[0]}`);
  assert.equal(Number(m[1]), line, `made on line ${line}:\n${found[0]}`);
  return found[0]!;
}

/** The line of this file that calls `here()`. */
function here(): number {
  return Number(THIS_FILE.exec(new Error().stack!.split('\n')[2]!)![1]);
}

/** Runs the garbage collector and lets finalizers run: until `until()` holds (at most ~1 s), or five times. */
async function collect(until?: () => boolean): Promise<void> {
  for (let i = 0; i < (until === undefined ? 5 : 50); i++) {
    if (until?.() === true) return;
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True once `out` has a message about the task `name`. */
const mentions = (out: string[], name: string) => () => out.some((m) => m.includes(`name='${name}'`));

void describe('debug mode warnings', () => {
  void test('a task blocking the loop in its first stretch: "Executing <Task ...> took N seconds"', async () => {
    await captured((out) =>
      run(
        async () => {
          const line = here() + 1;
          await createTask(() => busy(150), { name: 'blocker' });
          const m = messageAbout(out, 'blocker', line);
          assert.match(m, /^Executing <Task \w+ name='blocker'> took \d+\.\d{3} seconds/);
          assert.ok(seconds(m) >= 0.15, m);
        },
        { debug: true },
      ),
    );
    await assertNoLeaks();
  });

  void test('a task blocking the loop after an await is caught too', async () => {
    await captured((out) =>
      run(
        async () => {
          const line = here() + 1;
          const t = createTask(async () => (await sleep(1), busy(150)), { name: 'late-blocker' });
          await t;
          const m = messageAbout(out, 'late-blocker', line);
          assert.ok(seconds(m) >= 0.15, m);
        },
        { debug: true },
      ),
    );
    await assertNoLeaks();
  });

  void test("a gather's bodies are named with the line of their gather, each gather its own", async () => {
    const blocker = (name: string) => async () => {
      currentTask()!.setName(name);
      await sleep(1);
      busy(150);
    };
    await captured((out) =>
      run(
        async () => {
          const first = here() + 1;
          await gather([() => sleep(0), blocker('gathered-1'), () => sleep(0)]);
          const second = here() + 1;
          await gather([blocker('gathered-2'), () => sleep(0)]);
          assert.ok(seconds(messageAbout(out, 'gathered-1', first)) >= 0.15);
          assert.ok(seconds(messageAbout(out, 'gathered-2', second)) >= 0.15);
        },
        { debug: true },
      ),
    );
    await assertNoLeaks();
  });

  void test('a stretch shorter than loop.slowCallbackDuration says nothing; the threshold can be raised', async () => {
    const loop = getRunningLoop();
    const out = await captured(() =>
      run(
        async () => {
          loop.slowCallbackDuration = 400;
          try {
            await createTask(() => busy(150), { name: 'tolerated' });
          } finally {
            loop.slowCallbackDuration = 100;
          }
        },
        { debug: true },
      ),
    );
    assert.deepEqual(out, []);
  });

  void test('a failed task whose error nobody read is reported when run ends', async () => {
    let line = 0;
    const out = await captured(() =>
      run(
        async () => {
          line = here() + 1;
          createTask(async () => Promise.reject(new Error('lost')), { name: 'forgotten' });
          await sleep(5);
        },
        { debug: true },
      ),
    );
    const m = messageAbout(out, 'forgotten', line);
    assert.match(
      m,
      /^Task exception was never retrieved: <Task finished name='forgotten' exception=Error\("lost"\)>/,
    );
    assert.match(m, /\| Error: lost$/);
  });

  void test('a failed task whose error nobody read is reported when it is garbage-collected', async () => {
    let line = 0;
    const out = await captured(async (out) => {
      getRunningLoop().setDebug(true);
      try {
        line = here() + 1;
        createTask(async () => Promise.reject(new Error('dropped')), { name: 'collected' });
        await sleep(5);
        await collect(mentions(out, 'collected'));
      } finally {
        getRunningLoop().setDebug(false);
      }
    });
    assert.match(messageAbout(out, 'collected', line), /^Task exception was never retrieved/);
  });

  void test('errors read by await, result(), gather or a TaskGroup are not reported', async () => {
    const out = await captured(() =>
      run(
        async () => {
          const fail = (name: string) => createTask(async () => Promise.reject(new Error(name)), { name });
          const awaited = fail('awaited');
          await awaited.catch(() => {});
          const read = fail('read');
          await sleep(2);
          assert.throws(() => read.result());
          await gather([fail('gathered')], { returnExceptions: true });
          await assert.rejects(gather([fail('gathered-first')]));
          try {
            await using tg = new TaskGroup();
            tg.createTask(async () => Promise.reject(new Error('grouped')), { name: 'grouped' });
          } catch {
            // the group's ExceptionGroup
          }
        },
        { debug: true },
      ),
    );
    await collect();
    assert.deepEqual(out, []);
  });

  void test('a task whose body can never resume is reported: "Task was destroyed but it is pending!"', async () => {
    let line = 0;
    let stuck: Task<void> | undefined;
    const out = await captured(async (out) => {
      getRunningLoop().setDebug(true);
      try {
        line = here() + 1;
        stuck = createTask(async () => void (await new Promise(() => {})), { name: 'stuck' });
        await sleep(5);
        await collect(mentions(out, 'stuck'));
      } finally {
        getRunningLoop().setDebug(false);
      }
    });
    const pending = stuck!.done() === false;
    stuck!._finish(3, undefined); // a task that can never finish: let the test process forget it
    const m = messageAbout(out, 'stuck', line);
    assert.match(m, /^Task was destroyed but it is pending! The body of <Task pending name='stuck'>/);
    assert.ok(pending, 'the task is left as it is; only a warning is given');
  });

  void test('tasks still pending when run ends are named before run cancels them', async () => {
    let line = 0;
    const out = await captured(() =>
      run(
        async () => {
          line = here() + 1;
          createTask((signal) => sleep(60_000, undefined, { signal }), { name: 'lingering' });
          await sleep(1);
        },
        { debug: true },
      ),
    );
    assert.match(messageAbout(out, 'lingering', line), /was still pending when run\(\) ended: cancelling it/);
    await assertNoLeaks();
  });

  void test('a task awaiting itself is named: it can never finish', async () => {
    let line = 0;
    let selfish: Task<unknown> | undefined;
    const out = await captured(async (out) => {
      getRunningLoop().setDebug(true);
      try {
        line = here() + 1;
        selfish = createTask(async () => (await sleep(1), await selfish), { name: 'selfish' });
        for (let i = 0; i < 100 && !mentions(out, 'selfish')(); i++) await sleep(10);
      } finally {
        getRunningLoop().setDebug(false);
        selfish!._finish(3, undefined); // a deadlocked task: let the test process forget it
      }
    });
    assert.match(messageAbout(out, 'selfish', line), /awaits itself: it can never finish \(a deadlock\)/);
  });

  void test("runSync on the loop's thread: the warning says how long it blocked the loop, in which task", async () => {
    await captured((out) =>
      run(
        async () => {
          const line = here() + 1;
          const t = createTask(async () => (await sleep(1), runSync(slowDouble, 21)), { name: 'syncer' });
          assert.equal(await t, 42);
          assert.match(
            messageAbout(
              out.filter((m) => m.startsWith('runSync')),
              'syncer',
              line,
            ),
            /^runSync\(slowDouble\(\)\) blocked the event loop's thread for \d+\.\d{3} seconds, in <Task pending name='syncer'> made it/,
          );
        },
        { debug: true },
      ),
    );
    closeRunSync();
  });
});

void describe('debug mode: a task that outlives its cancellation', () => {
  /** A wait that knows nothing of signals: a timer of Node's own. */
  const plainSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  void test('a body that ignores its signal is named, with where it was made, once it runs on past loop.slowCallbackDuration', async () => {
    await captured((out) =>
      run(
        async () => {
          const line = here() + 1;
          const deaf = createTask(async (_signal) => (await plainSleep(400), 'finished'), { name: 'deaf' });
          await sleep(1);
          const cancelled = performance.now();
          deaf.cancel();
          deaf.cancel(); // a second request starts no second clock
          assert.equal(await deaf, 'finished'); // it ran to its end: the signal was not passed on
          const m = messageAbout(out, 'deaf', line);
          assert.match(
            m,
            /^<Task cancelling name='deaf'> is still running \d+\.\d{3} seconds after it was cancelled: its body does not stop on its signal/,
          );
          const after = Number(/running (\d+\.\d{3}) seconds/.exec(m)![1]);
          assert.ok(after >= 0.1 && after < 0.4, m);
          assert.ok(performance.now() - cancelled >= 350, 'the warning does not stop the task');
          assert.deepEqual(_cancelWatchStats(), { tasks: 0, timerArmed: false });
        },
        { debug: true },
      ),
    );
    await assertNoLeaks();
  });

  void test("the issue's case: waitFor on a body that ignores its signal gives 'finished' after it, and debug mode says why", async () => {
    await captured((out) =>
      run(
        async () => {
          const line = here() + 1;
          const result = await waitFor(async () => (await plainSleep(300), 'finished'), 50).catch((e) => e);
          assert.equal(result, 'finished');
          const found = out.filter((m) => m.includes('after it was cancelled'));
          assert.equal(found.length, 1, found.join('\n---\n'));
          assert.match(found[0]!, /^<Task cancelling name='Task-\d+'> is still running/);
          assert.equal(
            Number(THIS_FILE.exec(found[0]!)?.[1]),
            line,
            `made by the waitFor call:\n${found[0]}`,
          );
        },
        { debug: true },
      ),
    );
    await assertNoLeaks();
  });

  void test('a task that stops on its signal says nothing, and leaves no timer', async () => {
    const out = await captured(() =>
      run(
        async () => {
          const prompt = createTask(async (signal) => sleep(60_000, undefined, { signal }), {
            name: 'prompt',
          });
          const slowish = createTask(
            async (signal) => {
              try {
                await sleep(60_000, undefined, { signal });
              } finally {
                await plainSleep(20); // cleanup well under slowCallbackDuration
              }
            },
            { name: 'slowish' },
          );
          await sleep(1);
          prompt.cancel();
          slowish.cancel();
          await gather([prompt, slowish], { returnExceptions: true });
          assert.equal(prompt.cancelled() && slowish.cancelled(), true);
          await assert.rejects(
            waitFor((signal) => sleep(60_000, undefined, { signal }), 10),
            TimeoutError,
          );
          // Its timer is unref'd (getActiveResourcesInfo does not list it): ask debug mode itself.
          assert.deepEqual(_cancelWatchStats(), { tasks: 0, timerArmed: false });
          await plainSleep(150); // past the threshold: still nothing
        },
        { debug: true },
      ),
    );
    assert.deepEqual(out, []);
    await assertNoLeaks();
  });

  void test('with debug mode off, nothing is said and no timer is set', async () => {
    const out = await captured(() =>
      run(async () => {
        const deaf = createTask(async (_signal) => (await plainSleep(200), 'finished'), {
          name: 'deaf-quiet',
        });
        await sleep(1);
        deaf.cancel();
        assert.equal(await deaf, 'finished');
        assert.deepEqual(_cancelWatchStats(), { tasks: 0, timerArmed: false });
      }),
    );
    assert.deepEqual(out, []);
    await assertNoLeaks();
  });
});

void describe('nothing is printed in normal runs', () => {
  /** Everything the warnings above look for, done right. */
  const healthy = async () => {
    const a = createTask(() => sleep(5, 'a'), { name: 'a' });
    const failing = createTask(async () => Promise.reject(new Error('handled')), { name: 'b' });
    const results = await gather([a, failing, () => sleep(1)], { returnExceptions: true });
    assert.equal(results[0], 'a');
    const t = createTask(async (signal) => sleep(60_000, undefined, { signal }));
    t.cancel();
    await t.catch(() => {});
  };

  // The collections run after `run`: a forced collection inside a task would block the
  // loop long enough (on a busy machine) for debug mode to report it, rightly.
  void test('with debug mode on, a healthy program prints nothing', async () => {
    const out = await captured(async () => {
      await run(healthy, { debug: true });
      await collect();
    });
    assert.deepEqual(out, []);
    await assertNoLeaks();
  });

  void test('with debug mode off, only a failure nobody read is reported, without where its task was made', async () => {
    const out = await captured(() =>
      run(async () => {
        createTask(async () => Promise.reject(new Error('ignored')), { name: 'unread' });
        await createTask(() => busy(150));
        createTask((signal) => sleep(60_000, undefined, { signal }));
        await sleep(1);
      }).then(() => collect()),
    );
    assert.deepEqual(out, [
      `Task exception was never retrieved: <Task finished name='unread' exception=Error("ignored")> | Error: ignored`,
    ]);
    await assertNoLeaks();
  });
});

/** The seconds a "took N seconds" message gives. */
function seconds(message: string): number {
  return Number(/took (\d+\.\d{3}) seconds/.exec(message)?.[1]);
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** A job for runSync: sent to the worker as source. */
async function slowDouble(x: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 120));
  return x * 2;
}

void describe('what debug mode keeps', () => {
  void test('creation sites are captured, and formatted only when a warning needs one', async () => {
    let formatted = 0;
    const prepare = Error.prepareStackTrace;
    Error.prepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => {
      formatted++;
      return [String(error), ...frames.map((f) => `    at ${String(f)}`)].join('\n');
    };
    let healthy = -1;
    let beforeWarning = -1;
    try {
      const out = await captured(() =>
        run(
          async () => {
            await gather(Array.from({ length: 1000 }, () => () => sleep(0)));
            healthy = formatted;
            createTask((signal) => sleep(60_000, undefined, { signal }), { name: 'late' });
            beforeWarning = formatted;
            await sleep(1);
          },
          { debug: true },
        ),
      );
      assert.equal(healthy, 0, 'a thousand tasks made and done: no stack formatted');
      assert.equal(formatted - beforeWarning, 1, 'one warning: one stack formatted');
      // (The frames given to a custom formatter are not source-mapped: the line is checked elsewhere.)
      const m = out.filter((m) => m.includes("name='late'"));
      assert.equal(m.length, 1, out.join('\n'));
      assert.match(
        m[0]!,
        /was still pending when run\(\) ended: cancelling it\n {2}created at:\n {4}at .*debug\.test\.ts:/,
      );
    } finally {
      Error.prepareStackTrace = prepare;
    }
    await assertNoLeaks();
  });

  void test('tasks that ended are let go at once, and a second run keeps no more than the first', async () => {
    const N = 20_000;
    const once = () => run(() => gather(Array.from({ length: N }, () => () => sleep(0))), { debug: true });
    gc();
    const before = process.memoryUsage().heapUsed;
    await once();
    gc(); // no turn of the loop for finalizers in between: what is left is still referenced
    const first = (process.memoryUsage().heapUsed - before) / N;
    // A task's record and stack (~1 KB) would be left if the registries held them until a finalizer ran;
    // what is left is the capacity of the tables that held them.
    assert.ok(first < 400, `at most 400 bytes per task left, got ${Math.round(first)}`);
    await once();
    gc();
    const second = (process.memoryUsage().heapUsed - before) / N;
    assert.ok(
      second - first < 100,
      `a second run adds nothing: ${Math.round(first)} then ${Math.round(second)} bytes per task`,
    );
  });
});
