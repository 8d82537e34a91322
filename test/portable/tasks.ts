// Portable checks: tasks, run, gather, waitFor, timeout, cancellation, sleep, task groups, shield.
import {
  CancelledError,
  ExceptionGroup,
  TaskGroup,
  TimeoutError,
  createTask,
  currentTask,
  gather,
  getRunningLoop,
  run,
  shield,
  sleep,
  taskGroup,
  timeout,
  waitFor,
  type Task,
} from 'tsaio';
import { assert, describe, test } from './_runner.ts';

describe('run and tasks', () => {
  test('run returns what main returns', async () => {
    assert.equal(await run(async () => 42), 42);
  });
  test('run rejects with what main raised', async () => {
    await assert.rejects(
      run(async () => {
        throw new RangeError('boom');
      }),
      RangeError,
    );
  });
  test('createTask runs its body and the task resolves to its result', async () => {
    const value = await run(async () => {
      const task = createTask(async () => 'done', { name: 'worker' });
      assert.equal(task.getName(), 'worker');
      return await task;
    });
    assert.equal(value, 'done');
  });
  test('currentTask() is the task whose body runs', async () => {
    await run(async () => {
      const task: Task<boolean> = createTask(() => currentTask() === task);
      assert.equal(await task, true);
    });
  });
  test('cancel() aborts the task signal and the task ends cancelled', async () => {
    await run(async () => {
      let aborted = false;
      const task = createTask(async (signal) => {
        signal.addEventListener('abort', () => (aborted = true));
        await sleep(10_000, undefined, { signal });
      });
      await sleep(0);
      task.cancel('stop');
      await assert.rejects(task, CancelledError, (e: Error) => e.message === 'stop');
      assert.ok(task.cancelled() && aborted);
    });
  });
  test("a parent signal in createTask's options cancels the task", async () => {
    await run(async () => {
      const controller = new AbortController();
      const task = createTask((signal) => sleep(10_000, undefined, { signal }), {
        signal: controller.signal,
      });
      await sleep(0);
      controller.abort();
      await assert.rejects(task, CancelledError);
    });
  });
  test('run cancels the tasks still pending when main ends', async () => {
    let child: ReturnType<typeof createTask<void>> | undefined;
    await run(async () => {
      child = createTask((signal) => sleep(10_000, undefined, { signal }));
      await sleep(0);
    });
    assert.ok(child!.cancelled());
  });
  test('callSoon and callLater run in order', async () => {
    const seen: string[] = [];
    await run(async () => {
      const loop = getRunningLoop();
      loop.callLater(5, () => seen.push('later'));
      loop.callSoon(() => seen.push('soon'));
      await sleep(20);
    });
    assert.deepEqual(seen, ['soon', 'later']);
  });
});

describe('sleep', () => {
  test('sleep(ms, value) waits and resolves to the value', async () => {
    const start = performance.now();
    assert.equal(await sleep(30, 'v'), 'v');
    assert.ok(performance.now() - start >= 25, 'slept at least ~30 ms');
  });
  test('sleep(0) yields one turn', async () => {
    const seen: number[] = [];
    const a = (async () => {
      seen.push(1);
      await sleep(0);
      seen.push(3);
    })();
    seen.push(2);
    await a;
    assert.deepEqual(seen, [1, 2, 3]);
  });
  test('an aborted signal ends a sleep with CancelledError', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    await assert.rejects(sleep(10_000, undefined, { signal: controller.signal }), CancelledError);
  });
});

describe('gather', () => {
  test('results in input order', async () => {
    const result = await run(() => gather([sleep(20, 'a'), async () => 'b', Promise.resolve('c')]));
    assert.deepEqual(result, ['a', 'b', 'c']);
  });
  test('returnExceptions puts the errors among the results', async () => {
    const [a, b] = await run(() =>
      gather(
        [
          async () => 1,
          async () => {
            throw new TypeError('x');
          },
        ],
        { returnExceptions: true },
      ),
    );
    assert.equal(a, 1);
    assert.ok(b instanceof TypeError);
  });
  test("aborting gather's signal cancels its children", async () => {
    await run(async () => {
      const controller = new AbortController();
      const child = createTask((signal) => sleep(10_000, undefined, { signal }));
      const g = gather([child], { signal: controller.signal });
      await sleep(0);
      controller.abort();
      await assert.rejects(g, CancelledError);
      assert.ok(child.cancelled());
    });
  });
});

describe('waitFor and timeout', () => {
  test('waitFor returns the result in time', async () => {
    assert.equal(await run(() => waitFor(sleep(5, 'ok'), 1000)), 'ok');
  });
  test('waitFor cancels a late body and raises TimeoutError', async () => {
    await run(async () => {
      let cancelled = false;
      await assert.rejects(
        waitFor(async (signal) => {
          try {
            await sleep(10_000, undefined, { signal });
          } catch (e) {
            cancelled = e instanceof CancelledError;
            throw e;
          }
        }, 20),
        TimeoutError,
      );
      assert.ok(cancelled, 'the body saw its cancellation');
    });
  });
  test('timeout(ms, body) expires into TimeoutError', async () => {
    await run(async () => {
      await assert.rejects(
        timeout(20, (signal) => sleep(10_000, undefined, { signal })),
        TimeoutError,
      );
    });
  });
  test('a scope can be rescheduled and reports whether it expired', async () => {
    await run(async () => {
      const loop = getRunningLoop();
      const result = await timeout(10, async (signal, scope) => {
        scope.reschedule(loop.time() + 1000);
        await sleep(30, undefined, { signal });
        return scope.expired();
      });
      assert.equal(result, false);
    });
  });
});

describe('task groups and shield', () => {
  test('a group waits for all its children', async () => {
    const out = await run(() =>
      taskGroup(async (tg) => {
        const a = tg.createTask(() => sleep(10, 1));
        const b = tg.createTask(() => sleep(20, 2));
        return [a, b];
      }),
    );
    assert.deepEqual(
      out.map((t) => t.result()),
      [1, 2],
    );
  });
  test('the first failure cancels the siblings and the group raises an ExceptionGroup', async () => {
    await run(async () => {
      let sibling: { cancelled(): boolean } | undefined;
      await assert.rejects(
        taskGroup(async (tg) => {
          sibling = tg.createTask((signal) => sleep(10_000, undefined, { signal }));
          tg.createTask(async () => {
            await sleep(5);
            throw new SyntaxError('bad');
          });
        }),
        ExceptionGroup,
        (e: ExceptionGroup) => e.errors.length === 1 && e.errors[0] instanceof SyntaxError,
      );
      assert.ok(sibling!.cancelled());
    });
  });
  test('await using new TaskGroup()', async () => {
    const seen: number[] = [];
    await run(async () => {
      await using tg = new TaskGroup();
      tg.createTask(async () => void seen.push(await sleep(5, 1)));
    });
    assert.deepEqual(seen, [1]);
  });
  test('shield keeps the inner task running when the outer wait is cancelled', async () => {
    await run(async () => {
      const inner = createTask(() => sleep(30, 'inner'));
      const outer = shield(inner);
      await sleep(5);
      outer.cancel();
      await assert.rejects(outer, CancelledError);
      assert.equal(inner.done(), false);
      assert.equal(await inner, 'inner');
    });
  });
});
