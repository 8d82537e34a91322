// Behaviour tests for `run` (SPEC "Running and waiting", "Details").
// After CPython's Lib/test/test_asyncio/test_runners.py.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  run,
  sleep,
  createTask,
  currentTask,
  allTasks,
  getRunningLoop,
  Task,
  CancelledError,
  InvalidStateError,
} from '../src/index.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';

const LONG = 10_000;

void describe('run(main)', () => {
  void test('returns the value of an async main', async () => {
    const value = await run(async (signal) => {
      await sleep(1, undefined, { signal });
      return 42;
    });
    assert.equal(value, 42);
    await assertNoLeaks();
  });

  void test('main may return a plain value', async () => {
    assert.equal(await run(() => 'plain'), 'plain');
    assert.equal(await run(() => undefined), undefined);
    await assertNoLeaks();
  });

  void test('main runs as a task and receives an AbortSignal', async () => {
    let isTask = false;
    let isSignal = false;
    await run(async (signal) => {
      isTask = currentTask() instanceof Task;
      isSignal = signal instanceof AbortSignal && !signal.aborted;
    });
    assert.ok(isTask, 'currentTask() inside main is a Task');
    assert.ok(isSignal);
  });

  void test('rejects with what main raised', async () => {
    class MyError extends Error {}
    const boom = new MyError('from main');
    const err = await rejection(
      run(async () => {
        await sleep(1);
        throw boom;
      }),
    );
    assert.equal(err, boom);
    const syncBoom = new RangeError('sync');
    const err2 = await rejection(
      run(() => {
        throw syncBoom;
      }),
    );
    assert.equal(err2, syncBoom);
    await assertNoLeaks();
  });

  void test('cancels tasks still pending when main ends and waits for their cleanup', async () => {
    let cleaned = false;
    let leftover!: Task<void>;
    const value = await run(async () => {
      leftover = createTask(async (signal) => {
        try {
          await sleep(LONG, undefined, { signal });
        } finally {
          await sleep(20);
          cleaned = true;
        }
      });
      await sleep(1); // let it start
      return 'main done';
    });
    assert.equal(value, 'main done');
    assert.equal(cleaned, true, 'run resolved before the pending task finished its cleanup');
    assert.ok(leftover.done());
    assert.ok(leftover.cancelled());
    await assertNoLeaks();
  });

  void test('cancels pending tasks also when main fails, then rejects with main’s error', async () => {
    const boom = new Error('main failed');
    const pending: Task<void>[] = [];
    const err = await rejection(
      run(async () => {
        for (let i = 0; i < 5; i++)
          pending.push(createTask(async (signal) => sleep(LONG, undefined, { signal })));
        await sleep(1);
        throw boom;
      }),
    );
    assert.equal(err, boom);
    for (const t of pending) assert.ok(t.cancelled());
    await assertNoLeaks();
  });

  void test('a pending task that never started is cancelled without running', async () => {
    let ran = false;
    let t!: Task<void>;
    await run(() => {
      t = createTask(async () => {
        ran = true;
      });
      t.cancel();
    });
    assert.ok(t.cancelled());
    assert.equal(ran, false);
    await assertNoLeaks();
  });

  void test('nested task trees are all cancelled at the end', async () => {
    const done: string[] = [];
    await run(async () => {
      createTask(async (signal) => {
        createTask(async (s2) => {
          try {
            await sleep(LONG, undefined, { signal: s2 });
          } finally {
            done.push('grandchild');
          }
        });
        try {
          await sleep(LONG, undefined, { signal });
        } finally {
          done.push('child');
        }
      });
      await sleep(5);
    });
    assert.deepEqual(new Set(done), new Set(['child', 'grandchild']));
    await assertNoLeaks();
  });

  void test('no task is left in allTasks() after run returned', async () => {
    const mine: Task<unknown>[] = [];
    await run(async () => {
      for (let i = 0; i < 3; i++) mine.push(createTask(async (signal) => sleep(LONG, undefined, { signal })));
      await sleep(1);
    });
    const all = allTasks();
    for (const t of mine) assert.equal(all.has(t), false);
    await assertNoLeaks();
  });

  void test('a pending task failing during the shutdown goes to the exception handler; run still gives main’s value', async () => {
    const boom = new Error('failed while cancelled');
    const seen: unknown[] = [];
    const loop = getRunningLoop();
    loop.setExceptionHandler((_loop, context) => {
      seen.push(context.exception);
    });
    try {
      const value = await run(async () => {
        createTask(async (signal) => {
          try {
            await sleep(LONG, undefined, { signal });
          } finally {
            // eslint-disable-next-line no-unsafe-finally
            throw boom;
          }
        });
        await sleep(1);
        return 'main value';
      });
      assert.equal(value, 'main value');
      assert.ok(seen.includes(boom), `handler saw ${String(seen)}`);
    } finally {
      loop.setExceptionHandler(null);
    }
    await assertNoLeaks();
  });

  void test('cancels only the tasks it owns: a task made before run() began runs on', async () => {
    const before = createTask(async (signal) => sleep(50, 'made before', { signal }), { name: 'before' });
    let inside!: Task<void>;
    await run(async () => {
      inside = createTask(async (signal) => sleep(LONG, undefined, { signal }), { name: 'inside' });
      await sleep(1);
    });
    assert.ok(inside.cancelled(), 'a task made during the run is cancelled when main ends');
    assert.equal(before.done(), false, 'a task made before the run is not touched');
    assert.equal(await before, 'made before');
    assert.equal(allTasks().size, 0);
    await assertNoLeaks();
  });

  void test('a callSoon made as main returns still runs; a callLater not yet due is dropped (asyncio.run)', async () => {
    const ran: string[] = [];
    const loop = getRunningLoop();
    await run(() => {
      loop.callSoon(() => ran.push('sync main'));
      loop.callLater(LONG, () => ran.push('never'));
    });
    await run(async () => {
      await sleep(1);
      loop.callSoon(() => ran.push('async main'));
    });
    assert.deepEqual(ran, ['sync main', 'async main']);
    await assertNoLeaks();
  });

  void test('can be called again after it returned (one after another)', async () => {
    assert.equal(await run(async () => 1), 1);
    assert.equal(await run(async () => 2), 2);
    await assert.rejects(
      run(async () => {
        throw new Error('third');
      }),
      /third/,
    );
    assert.equal(await run(async () => 4), 4);
    await assertNoLeaks();
  });

  void test('calling run inside a running run rejects with InvalidStateError', async () => {
    let innerRan = false;
    let innerErr: unknown;
    const value = await run(async () => {
      try {
        await run(async () => {
          innerRan = true;
        });
      } catch (e) {
        innerErr = e;
      }
      return 'outer fine';
    });
    assert.ok(innerErr instanceof InvalidStateError, `inner run gave ${String(innerErr)}`);
    assert.equal(innerRan, false);
    assert.equal(value, 'outer fine');
    await assertNoLeaks();
  });

  void test('a second run started while one is running rejects with InvalidStateError', async () => {
    const first = run(async () => {
      await sleep(20);
      return 'first';
    });
    let secondRan = false;
    const err = await rejection(
      (async () =>
        run(async () => {
          secondRan = true;
        }))(),
    );
    assert.ok(err instanceof InvalidStateError, `got ${String(err)}`);
    assert.equal(secondRan, false);
    assert.equal(await first, 'first');
    await assertNoLeaks();
  });

  void test('a non-function main is a TypeError', async () => {
    await assert.rejects(async () => run(42 as never), TypeError);
    await assert.rejects(async () => run(Promise.resolve(1) as never), TypeError);
    // And the failed calls did not leave run "running".
    assert.equal(await run(() => 'ok'), 'ok');
    await assertNoLeaks();
  });

  void test('{ debug: true } turns debug mode on for that run only', async () => {
    const loop = getRunningLoop();
    const before = loop.getDebug();
    const inside = await run(() => getRunningLoop().getDebug(), { debug: true });
    assert.equal(inside, true);
    assert.equal(loop.getDebug(), before);
  });

  void test('main cancelled by its own task.cancel(): run rejects with CancelledError', async () => {
    const err = await rejection(
      run(async (signal) => {
        currentTask()!.cancel();
        await sleep(LONG, undefined, { signal });
      }),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    await assertNoLeaks();
  });
});

type ChildResult = {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
};

/** Runs the SIGINT fixture, sends `sig` once it printed READY, and collects its output. */
function runFixture(sig: NodeJS.Signals, mode: string): Promise<ChildResult> {
  const fixture = fileURLToPath(new URL('./fixtures/run-signal.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, mode], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      stdout += d;
      if (!sent && stdout.includes('READY')) {
        sent = true;
        child.kill(sig);
      }
    });
    child.stderr.on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: since(t0) });
    });
  });
}

void describe('run(main) and process signals (child process)', () => {
  void test('SIGINT cancels main; pending tasks are cancelled; run rejects with CancelledError; handlers removed', async () => {
    const r = await runFixture('SIGINT', 'basic');
    const info = `code=${r.code} signal=${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    assert.equal(r.signal, null, `the process was killed by the signal instead of cancelling main\n${info}`);
    assert.match(r.stdout, /MAIN CANCELLED CancelledError/, info);
    assert.match(r.stdout, /CHILD CLEANED UP/, info);
    assert.match(r.stdout, /RUN REJECTED CancelledError/, info);
    assert.match(r.stdout, /SIGINT LISTENERS 0/, info);
    assert.match(r.stdout, /SIGTERM LISTENERS 0/, info);
    assert.doesNotMatch(r.stdout, /MAIN FINISHED/, info);
    assert.ok(r.ms < 25_000, `took ${r.ms} ms`);
  });

  void test('SIGTERM cancels main too', async () => {
    const r = await runFixture('SIGTERM', 'basic');
    const info = `code=${r.code} signal=${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    assert.equal(r.signal, null, info);
    assert.match(r.stdout, /MAIN CANCELLED CancelledError/, info);
    assert.match(r.stdout, /RUN REJECTED CancelledError/, info);
  });

  void test('a main that handles the cancellation and returns: run resolves with its value', async () => {
    const r = await runFixture('SIGINT', 'swallow');
    const info = `code=${r.code} signal=${r.signal}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    assert.equal(r.signal, null, info);
    assert.match(r.stdout, /RUN RESOLVED graceful/, info);
    // (The exit code is not checked: run() sets 130 for an interrupted process.)
  });
});
