// Behaviour tests for Task, createTask, currentTask, allTasks and sleep
// (SPEC "Cancellation model", "Futures and tasks", "Running and waiting";
// design.md "Tasks", "Time"). Ported where they apply from CPython 3.13
// Lib/test/test_asyncio/test_tasks.py (seconds → ms, scaled down).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { readFile } from 'node:fs';
import { execFile } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setTimeout as nodeSleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  Future,
  Task,
  createTask,
  currentTask,
  allTasks,
  sleep,
  wait,
  gather,
  getRunningLoop,
  CancelledError,
  InvalidStateError,
  TaskGroup,
  run,
  shield,
  taskGroup,
  waitFor,
} from '../src/index.ts';
import type { ErrorContext } from '../src/_report.ts';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';

/** One full turn of the Node event loop. */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Runs `fn` and returns what it threw, or fails. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

/** What `fn()` rejected or threw with (a synchronous throw counts too). */
async function failure(fn: () => unknown): Promise<unknown> {
  return rejection((async () => fn())());
}

void describe('createTask: basics', () => {
  void test('a task resolves with what its body returns (test_task_class)', async () => {
    const t = createTask(async () => 'ok');
    assert.ok(t instanceof Task);
    assert.equal(await t, 'ok');
    assert.equal(t.done(), true);
    assert.equal(t.result(), 'ok');
    assert.equal(t.cancelled(), false);
  });

  void test('Task is a Future', () => {
    const t = createTask(async () => 1);
    assert.ok(t instanceof Future);
  });

  void test('a task cannot be settled from outside: setResult/setException throw (test_task_set_methods)', async () => {
    const t = createTask(async (signal) => sleep(10, 'body', { signal }));
    const bySetResult = thrown(() => t.setResult('forced'));
    assert.ok(bySetResult instanceof InvalidStateError);
    assert.equal((bySetResult as Error).message, 'Task does not support set_result operation');
    const bySetException = thrown(() => t.setException(new Error('forced')));
    assert.ok(bySetException instanceof InvalidStateError);
    assert.equal((bySetException as Error).message, 'Task does not support set_exception operation');
    assert.equal(t.done(), false);
    assert.equal(await t, 'body');
    assert.ok(thrown(() => t.setResult('late')) instanceof InvalidStateError);
    await assertNoLeaks();
  });

  void test('a synchronous body returning a plain value', async () => {
    const t = createTask(() => 7);
    assert.equal(await t, 7);
  });

  void test('nested awaits in the body (test_task_basics)', async () => {
    const inner1 = async () => 42;
    const inner2 = async () => 1000;
    const t = createTask(async () => (await inner1()) + (await inner2()));
    assert.equal(await t, 1042);
  });

  void test('a body that throws synchronously fails the task; createTask does not throw', async () => {
    const exc = new Error('sync boom');
    const t = createTask(() => {
      throw exc;
    });
    const e = await rejection(t);
    assert.equal(e, exc);
    assert.equal(t.exception(), exc);
    assert.equal(t.cancelled(), false);
  });

  void test('a rejecting body fails the task with that error (test_exception_traceback)', async () => {
    const exc = new TypeError('async boom');
    const t = createTask(async () => {
      await sleep(0);
      throw exc;
    });
    await rejection(t);
    assert.equal(t.exception(), exc);
    assert.equal(
      thrown(() => t.result()),
      exc,
    );
  });

  void test('createTask(42) and createTask("ok") are TypeErrors (test_create_task_with_noncoroutine)', () => {
    assert.throws(() => createTask(42 as never), TypeError);
    assert.throws(() => createTask(42 as never), TypeError);
    assert.throws(() => createTask('ok' as never), TypeError);
  });

  void test('the body starts after the creating code has run synchronously, not inside createTask', async () => {
    const log: string[] = [];
    const t = createTask(() => {
      log.push('body');
    });
    log.push('after createTask');
    for (let i = 0; i < 1000; i++) Math.sqrt(i);
    log.push('still sync');
    assert.deepEqual(log, ['after createTask', 'still sync']);
    await t;
    assert.deepEqual(log, ['after createTask', 'still sync', 'body']);
  });

  void test('the body starts in a microtask: before the next macrotask', async () => {
    let started = false;
    const t = createTask(() => {
      started = true;
    });
    assert.equal(started, false);
    await turn();
    assert.equal(started, true);
    await t;
  });

  void test('tasks start in the order they were created', async () => {
    const log: number[] = [];
    const ts = [1, 2, 3, 4].map((i) => createTask(() => log.push(i)));
    await gather(ts);
    assert.deepEqual(log, [1, 2, 3, 4]);
  });

  void test('the body gets an AbortSignal when it declares a parameter', async () => {
    let got: unknown;
    const t = createTask(async (signal) => {
      got = signal;
    });
    await t;
    assert.ok(got instanceof AbortSignal);
    assert.equal((got as AbortSignal).aborted, false);
  });

  void test('task.signal is an AbortSignal, the same one the body got', async () => {
    let got: AbortSignal | undefined;
    const t = createTask(async (signal) => {
      got = signal;
      await sleep(1);
    });
    const s = t.signal;
    assert.ok(s instanceof AbortSignal);
    await t;
    assert.equal(got, s);
  });

  void test('task.signal of a body that takes no parameter is made on demand', async () => {
    const t = createTask(async () => 1);
    assert.ok(t.signal instanceof AbortSignal);
    assert.equal(t.signal.aborted, false);
    await t;
  });
});

void describe('Task: cancellation', () => {
  void test('cancel before start: the body never runs and the task is cancelled', async () => {
    let ran = false;
    const t = createTask(async () => {
      ran = true;
    });
    assert.equal(t.cancel(), true);
    const e = await rejection(t);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal(ran, false);
    assert.equal(t.cancelled(), true);
    assert.equal(t.done(), true);
    assert.equal(t.cancel(), false);
    await assertNoLeaks();
  });

  void test('cancel before start also for a body that declares a signal', async () => {
    let ran = false;
    const t = createTask(async (signal) => {
      ran = true;
      await sleep(1000, undefined, { signal });
    });
    t.cancel();
    await rejection(t);
    assert.equal(ran, false);
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });

  void test('cancel(msg) before start: the error carries msg (test_cancel_with_message_before_starting_task)', async () => {
    const t = createTask(async (signal) => {
      await sleep(10_000, undefined, { signal });
    });
    t.cancel('my message');
    const { done, pending } = await wait([t]);
    assert.ok(done.has(t));
    assert.equal(pending.size, 0);
    const e = thrown(() => t.exception());
    assert.ok(e instanceof CancelledError);
    assert.equal((e as Error).message, 'my message');
    const e2 = thrown(() => t.result());
    assert.ok(e2 instanceof CancelledError);
    assert.equal((e2 as Error).message, 'my message');
    await assertNoLeaks();
  });

  void test('cancel while sleeping with the body signal: task cancelled, message is the cancel msg (test_cancel)', async () => {
    let after = false;
    const t = createTask(async (signal) => {
      await sleep(10_000, undefined, { signal });
      after = true;
      return 12;
    });
    await sleep(5);
    assert.equal(t.done(), false);
    const start = performance.now();
    assert.equal(t.cancel('stop it'), true);
    const e = await rejection(t);
    assert.ok(since(start) < 1000, 'cancellation should be prompt');
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal((e as Error).message, 'stop it');
    assert.equal(after, false);
    assert.equal(t.done(), true);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
    const r = thrown(() => t.result());
    assert.ok(r instanceof CancelledError);
    assert.equal((r as Error).message, 'stop it');
    await assertNoLeaks();
  });

  void test('the task signal is aborted with a CancelledError carrying the msg', async () => {
    const t = createTask(async (signal) => {
      await sleep(10_000, undefined, { signal });
    });
    await sleep(1);
    t.cancel('why');
    assert.equal(t.signal.aborted, true);
    assert.ok(t.signal.reason instanceof CancelledError);
    assert.equal((t.signal.reason as Error).message, 'why');
    await rejection(t);
    await assertNoLeaks();
  });

  void test('the sleep that was cancelled rejects with CancelledError whose cause is the signal reason', async () => {
    let caught: unknown;
    const t = createTask(async (signal) => {
      try {
        await sleep(10_000, undefined, { signal });
      } catch (e) {
        caught = e;
        throw e;
      }
    });
    await sleep(1);
    t.cancel('m');
    await rejection(t);
    assert.ok(caught instanceof CancelledError);
    assert.equal((caught as Error).message, 'm');
    assert.equal((caught as Error).cause, t.signal.reason);
    await assertNoLeaks();
  });

  void test('cancel a task that sleeps via sleep(0) steps (test_cancel_yield)', async () => {
    const t = createTask(async (signal) => {
      await sleep(0, undefined, { signal });
      await sleep(0, undefined, { signal });
      return 12;
    });
    await Promise.resolve();
    await Promise.resolve();
    t.cancel();
    await rejection(t);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
    await assertNoLeaks();
  });

  void test('a body that catches the cancellation and returns a value completes normally (test_cancel_task_catching)', async () => {
    const t = createTask(async (signal) => {
      try {
        await sleep(10_000, undefined, { signal });
      } catch (e) {
        if (e instanceof CancelledError) return 42;
        throw e;
      }
      return 0;
    });
    await sleep(1);
    t.cancel();
    assert.equal(await t, 42);
    assert.equal(t.cancelled(), false);
    assert.equal(t.result(), 42);
    await assertNoLeaks();
  });

  void test('a body that ignores the cancellation and goes on runs to its end (test_cancel_task_ignoring)', async () => {
    const fut3 = new Future<number>();
    const t = createTask(async (signal) => {
      try {
        await sleep(10_000, undefined, { signal });
      } catch {
        // ignored
      }
      return await fut3;
    });
    await sleep(1);
    t.cancel();
    await sleep(1);
    assert.equal(t.done(), false);
    fut3.setResult(42);
    assert.equal(await t, 42);
    assert.equal(t.cancelled(), false);
    assert.equal(fut3.cancelled(), false);
    await assertNoLeaks();
  });

  void test('a body without a signal parameter, cancelled while running, runs to its end and returns its value', async () => {
    const t = createTask(async () => {
      await sleep(10);
      return 'done anyway';
    });
    await sleep(1);
    assert.equal(t.cancel(), true);
    assert.equal(await t, 'done anyway');
    assert.equal(t.cancelled(), false);
    await assertNoLeaks();
  });

  void test('a body that turns the cancellation into another error fails with it (test_baseexception_during_cancel)', async () => {
    const other = new Error('instead');
    const t = createTask(async (signal) => {
      try {
        await sleep(10_000, undefined, { signal });
      } catch {
        throw other;
      }
    });
    await sleep(1);
    t.cancel();
    assert.equal(t.done(), false);
    assert.equal(await rejection(t), other);
    assert.equal(t.cancelled(), false);
    assert.equal(t.exception(), other);
    await assertNoLeaks();
  });

  void test('a task that cancels itself then sleeps with its signal is cancelled (test_cancel_current_task)', async () => {
    let reached = false;
    const t: Task<number> = createTask(async (signal) => {
      t.cancel();
      await sleep(100_000, undefined, { signal });
      reached = true;
      return 12;
    });
    assert.equal(t.cancelled(), false);
    const start = performance.now();
    await rejection(t);
    assert.ok(since(start) < 1000);
    assert.equal(reached, false);
    assert.equal(t.cancelled(), true);
    assert.equal(t.cancel(), false);
    await assertNoLeaks();
  });

  void test('a body rejecting with CancelledError leaves the task cancelled even if nobody cancelled it (test_cancel_inner_future)', async () => {
    const f = new Future<number>();
    const t = createTask(async () => {
      await f;
      return 12;
    });
    await sleep(1);
    f.cancel();
    const e = await rejection(t);
    assert.ok(e instanceof CancelledError);
    assert.equal(f.cancelled(), true);
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });

  void test('a body that throws a CancelledError of its own leaves the task cancelled', async () => {
    const t = createTask(async () => {
      throw new CancelledError('self-made');
    });
    await rejection(t);
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });

  void test('cancel both the task and the future it awaits (test_cancel_both_task_and_inner_future)', async () => {
    const f = new Future<number>();
    const t = createTask(async () => {
      await f;
      return 12;
    });
    await sleep(1);
    f.cancel();
    t.cancel();
    await rejection(t);
    assert.equal(t.done(), true);
    assert.equal(f.cancelled(), true);
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });

  void test('an AbortError from a foreign API after the signal was aborted leaves the task cancelled', async () => {
    const t = createTask(async (signal) => {
      await nodeSleep(10_000, undefined, { signal });
    });
    await sleep(1);
    t.cancel();
    const e = await rejection(t);
    assert.ok(e instanceof Error);
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });

  void test('an AbortError thrown without any cancellation is an ordinary failure', async () => {
    const err = new DOMException('not from us', 'AbortError');
    const t = createTask(async () => {
      await sleep(0);
      throw err;
    });
    await rejection(t);
    assert.equal(t.cancelled(), false);
    assert.equal(t.exception(), err);
  });

  void test('awaiting a sleeper task that another callback cancels (test_task_cancel_sleeping_task)', async () => {
    const sleeper = createTask(async (signal) => {
      await sleep(5000, undefined, { signal });
    });
    const doit = createTask(async () => {
      getRunningLoop().callLater(10, () => sleeper.cancel());
      try {
        await sleeper;
      } catch (e) {
        if (e instanceof CancelledError) return 'cancelled';
        throw e;
      }
      return 'slept in';
    });
    const start = performance.now();
    assert.equal(await doit, 'cancelled');
    const took = since(start);
    assert.ok(took >= 9, `took ${took} ms`);
    assert.ok(took < 1000, `took ${took} ms`);
    await assertNoLeaks();
  });

  void test('a task cancelled while it awaits a nested cancelled task (test_cancel_awaited_task)', async () => {
    const fut = new Future<void>();
    let nested: Task<void> | undefined;
    const t: Task<void> = createTask(async (signal) => {
      nested = createTask(async (s) => {
        await gather([fut], { signal: s });
      });
      await sleep(0);
      t.cancel();
      await gather([nested], { signal });
    });
    const e = await rejection(t);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal(t.cancelled(), true);
    assert.equal(nested!.cancelled(), true);
    assert.equal(fut.cancelled(), true);
    await assertNoLeaks();
  });

  void test('a cancelled task settles only when its body has settled (structured) (virtual time)', async () => {
    await runVirtual(async () => {
      const loop = getRunningLoop();
      const start = loop.time();
      let cleaned = false;
      const t = createTask(async (signal) => {
        try {
          await sleep(10_000, undefined, { signal });
        } finally {
          await sleep(100);
          cleaned = true;
        }
      });
      await sleep(1);
      t.cancel();
      await sleep(99);
      assert.equal(t.done(), false, 'the task finished before its body did');
      await rejection(t);
      assert.equal(loop.time() - start, 101, 'the task settled when its cleanup ended');
      assert.equal(cleaned, true);
      assert.equal(t.cancelled(), true);
    });
    await assertNoLeaks();
  });

  void test('a failed task that nobody awaits causes no unhandled rejection', async () => {
    const seen: unknown[] = [];
    const on = (e: unknown) => seen.push(e);
    process.on('unhandledRejection', on);
    const loop = getRunningLoop();
    const previous = loop.getExceptionHandler();
    loop.setExceptionHandler(() => {});
    const tasks: Task<unknown>[] = [];
    try {
      tasks.push(
        createTask(async () => {
          throw new Error('fire and forget');
        }),
        createTask(() => {
          throw new Error('sync fire and forget');
        }),
      );
      await sleep(5);
      await turn();
      await turn();
    } finally {
      process.off('unhandledRejection', on);
      loop.setExceptionHandler(previous);
    }
    assert.deepEqual(seen, []);
    // Read now: not reported later as never retrieved (that report has tests of its own).
    for (const t of tasks) assert.ok(t.exception() instanceof Error);
  });

  void test('cancel() returns false once the task is done', async () => {
    const t = createTask(async () => 1);
    await t;
    assert.equal(t.cancel(), false);
    assert.equal(t.cancel('x'), false);
    assert.equal(t.cancelled(), false);
    assert.equal(t.result(), 1);
  });

  void test('a cancelled gather inside a looping task propagates the cancel msg (test_cancel_gather_2)', async () => {
    const t = createTask(async (signal) => {
      for (let i = 0; i < 200; i++) {
        await gather([(s: AbortSignal) => sleep(5, undefined, { signal: s })], {
          returnExceptions: true,
          signal,
        });
      }
      return 'looped to the end';
    });
    await sleep(20);
    t.cancel('my message');
    const e = await rejection(t);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal((e as Error).message, 'my message');
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });
});

void describe('Task: cancelling() and uncancel()', () => {
  void test('cancelling() counts the cancel requests (test_cancelling)', async () => {
    const t = createTask(async (signal) => {
      await sleep(10_000, undefined, { signal });
    });
    assert.equal(t.cancelling(), 0);
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 1);
    assert.equal(t.cancel(), true);
    assert.equal(t.cancelling(), 2);
    await rejection(t);
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });

  void test('cancel requests after done are not counted', async () => {
    const t = createTask(async () => 1);
    await t;
    t.cancel();
    assert.equal(t.cancelling(), 0);
  });

  void test('uncancel() takes one request back (test_uncancel)', async () => {
    let seenInside = -1;
    const t: Task<string> = createTask(async (signal) => {
      try {
        await sleep(10_000, undefined, { signal });
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        t.uncancel();
        seenInside = t.cancelling();
      }
      return 'recovered';
    });
    await sleep(1);
    t.cancel();
    assert.equal(t.cancelling(), 1);
    assert.equal(await t, 'recovered');
    assert.equal(seenInside, 0);
    assert.equal(t.cancelling(), 0);
    assert.equal(t.cancelled(), false);
    await assertNoLeaks();
  });

  void test('uncancel() after two cancels leaves one', async () => {
    const t = createTask(async (signal) => {
      await sleep(10_000, undefined, { signal });
    });
    t.cancel();
    t.cancel();
    t.uncancel();
    assert.equal(t.cancelling(), 1);
    await rejection(t);
    await assertNoLeaks();
  });
});

void describe('Task: parent signal', () => {
  void test('aborting a foreign parent signal cancels the task', async () => {
    const ac = new AbortController();
    const t = createTask(
      async (signal) => {
        await sleep(10_000, undefined, { signal });
      },
      { signal: ac.signal },
    );
    await sleep(1);
    assert.equal(t.done(), false);
    ac.abort();
    const e = await rejection(t);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });

  void test('a parent signal aborted before the task starts: the body never runs', async () => {
    const ac = new AbortController();
    let ran = false;
    const t = createTask(
      async () => {
        ran = true;
      },
      { signal: ac.signal },
    );
    ac.abort();
    await rejection(t);
    assert.equal(ran, false);
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });

  void test('a parent signal already aborted at creation: the task ends cancelled, the body never runs', async () => {
    const ac = new AbortController();
    ac.abort();
    let ran = false;
    const t = createTask(
      async () => {
        ran = true;
      },
      { signal: ac.signal },
    );
    await rejection(t);
    assert.equal(ran, false);
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });

  void test("a parent task's signal cancels the child when the parent is cancelled", async () => {
    let child: Task<void> | undefined;
    const parent = createTask(async (signal) => {
      child = createTask(
        async (s) => {
          await sleep(10_000, undefined, { signal: s });
        },
        { signal },
      );
      await sleep(10_000, undefined, { signal });
    });
    await sleep(2);
    parent.cancel('parent msg');
    await rejection(parent);
    const e = await rejection(child!);
    assert.ok(e instanceof CancelledError);
    assert.equal(child!.cancelled(), true);
    await assertNoLeaks();
  });

  void test('the listener on a foreign parent signal is removed when the task is done', async () => {
    const ac = new AbortController();
    const ts = Array.from({ length: 50 }, (_, i) => createTask(async () => i, { signal: ac.signal }));
    await gather(ts);
    await turn();
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });
});

void describe('Task: names and toString', () => {
  void test("default names are 'Task-N', increasing (test_task_repr_autogenerated)", async () => {
    const t1 = createTask(async () => 1);
    const t2 = createTask(async () => 2);
    const m1 = /^Task-(\d+)$/.exec(t1.getName());
    const m2 = /^Task-(\d+)$/.exec(t2.getName());
    assert.ok(m1, t1.getName());
    assert.ok(m2, t2.getName());
    assert.ok(Number(m1[1]) < Number(m2[1]));
    assert.notEqual(String(t1), String(t2));
    assert.equal(t1.name, t1.getName());
    await gather([t1, t2]);
  });

  void test('opts.name (test_bare_create_named_task)', async () => {
    const t = createTask(async () => undefined, { name: 'No-op' });
    assert.equal(t.getName(), 'No-op');
    assert.equal(t.name, 'No-op');
    await t;
  });

  void test('setName changes the name', async () => {
    const t = createTask(async () => undefined, { name: 'a' });
    t.setName('b');
    assert.equal(t.getName(), 'b');
    assert.equal(t.name, 'b');
    assert.match(String(t), /name='b'/);
    await t;
  });

  void test("toString of a pending task: <Task pending name='x'>", async () => {
    const t = createTask(async () => 'abc', { name: 'x' });
    assert.equal(t.toString(), "<Task pending name='x'>");
    assert.equal(`${t}`, "<Task pending name='x'>");
    await t;
  });

  void test('toString of a finished and of a cancelled task (test_task_repr)', async () => {
    const t = createTask(async () => 'abc', { name: 'TestTask' });
    await t;
    assert.match(String(t), /^<Task finished name='TestTask'/);
    const c = createTask(async () => 'abc', { name: 'TestTask' });
    c.cancel();
    await rejection(c);
    assert.match(String(c), /^<Task cancelled name='TestTask'/);
    await assertNoLeaks();
  });

  void test("a task with a pending cancel request says 'cancelling' (test_cancelling)", async () => {
    const t = createTask(async (signal) => {
      await sleep(10_000, undefined, { signal });
    });
    assert.doesNotMatch(String(t), / cancelling /);
    t.cancel();
    assert.match(String(t), / cancelling /);
    await rejection(t);
    await assertNoLeaks();
  });
});

void describe('currentTask and allTasks', () => {
  void test('currentTask() is null outside any task', () => {
    assert.equal(currentTask(), null);
  });

  void test('currentTask() is the task synchronously inside its body (test_current_task)', async () => {
    let seen: unknown = 'unset';
    const t = createTask(() => {
      seen = currentTask();
    });
    await t;
    assert.equal(seen, t);
    assert.equal(currentTask(), null);
  });

  void test('currentTask() at the start of an async body, for interleaved tasks', async () => {
    const seen: unknown[] = [];
    const t1 = createTask(async () => {
      seen.push(currentTask());
      await sleep(1);
    });
    const t2 = createTask(async () => {
      seen.push(currentTask());
      await sleep(1);
    });
    await gather([t1, t2]);
    assert.deepEqual(seen, [t1, t2]);
    assert.equal(currentTask(), null);
  });

  void test('currentTask() inside a nested task is the nested task', async () => {
    const seen: unknown[] = [];
    let inner: Task<void> | undefined;
    const outer = createTask(async () => {
      seen.push(currentTask());
      inner = createTask(() => {
        seen.push(currentTask());
      });
      await inner;
    });
    await outer;
    assert.equal(seen.length, 2);
    assert.equal(seen[0], outer);
    assert.equal(seen[1], inner);
  });

  void test('currentTask() in a done-callback of a future is null', async () => {
    const f = new Future<number>();
    let seen: unknown = 'unset';
    f.addDoneCallback(() => {
      seen = currentTask();
    });
    f.setResult(1);
    await turn();
    assert.equal(seen, null);
  });

  void test('allTasks() holds pending tasks (started or not) and drops done ones', async () => {
    const fut = new Future<void>();
    const t1 = createTask(async () => {
      await fut;
    });
    const t2 = createTask(async () => 2);
    const all0 = allTasks();
    assert.ok(all0.has(t1));
    assert.ok(all0.has(t2));
    await t2;
    const all1 = allTasks();
    assert.ok(all1.has(t1));
    assert.equal(all1.has(t2), false);
    fut.setResult();
    await t1;
    assert.equal(allTasks().has(t1), false);
  });

  void test('allTasks() drops cancelled tasks', async () => {
    const t = createTask(async () => 1);
    assert.ok(allTasks().has(t));
    t.cancel();
    await rejection(t);
    assert.equal(allTasks().has(t), false);
    await assertNoLeaks();
  });

  void test('allTasks() includes the current task from inside its body', async () => {
    let inside = false;
    const t = createTask(() => {
      inside = allTasks().has(currentTask() as Task<unknown>);
    });
    await t;
    assert.equal(inside, true);
  });
});

void describe('sleep', () => {
  void test('sleep(ms, value) resolves to value (test_sleep)', async () => {
    const t = createTask(async () => {
      await sleep(5);
      const res: string = await sleep(5, 'yeah');
      return res;
    });
    assert.equal(await t, 'yeah');
  });

  void test('sleep(ms) resolves to undefined', async () => {
    assert.equal(await sleep(1), undefined);
  });

  void test('sleep(0, value) resolves to value and lets a callSoon callback run first (test_sleep_zero)', async () => {
    let result = 0;
    const read = (): number => result;
    getRunningLoop().callSoon(() => {
      result += 1;
    });
    assert.equal(read(), 0);
    const num: number = await sleep(0, 10);
    assert.equal(read(), 1, 'the callSoon callback should have run during sleep(0)');
    assert.equal(num + read(), 11);
  });

  void test('sleep(50) takes at least 49 ms (timers never fire early) and well under a second', async () => {
    const start = performance.now();
    await sleep(50);
    const took = since(start);
    assert.ok(took >= 49, `took ${took} ms`);
    assert.ok(took < 1000, `took ${took} ms`);
  });

  void test('sleep(NaN) is a RangeError', async () => {
    const e = await failure(() => sleep(NaN));
    assert.ok(e instanceof RangeError, `got ${String(e)}`);
    await assertNoLeaks();
  });

  void test('a negative sleep is a sleep(0): resolves promptly, after a loop turn', async () => {
    let immediateRan = false;
    setImmediate(() => {
      immediateRan = true;
    });
    const start = performance.now();
    assert.equal(await sleep(-100, 'v'), 'v');
    assert.ok(since(start) < 500);
    assert.equal(immediateRan, true);
    await assertNoLeaks();
  });

  void test('sleep(0) does not resolve in a microtask', async () => {
    let resolved = false;
    const p = sleep(0).then(() => {
      resolved = true;
    });
    for (let i = 0; i < 20; i++) await Promise.resolve();
    assert.equal(resolved, false);
    await p;
    assert.equal(resolved, true);
  });

  void test('sleep(0) yields one loop turn: a setImmediate scheduled before it runs first', async () => {
    const log: string[] = [];
    setImmediate(() => log.push('immediate'));
    await sleep(0);
    log.push('after sleep(0)');
    assert.deepEqual(log, ['immediate', 'after sleep(0)']);
  });

  void test('a loop of sleep(0) lets I/O callbacks run (it does not starve the poll phase)', async () => {
    let ioDone = false;
    readFile(fileURLToPath(import.meta.url), () => {
      ioDone = true;
    });
    let n = 0;
    while (!ioDone && n < 1_000_000) {
      await sleep(0);
      n++;
    }
    assert.equal(ioDone, true);
  });

  void test('sleeps scheduled for the same time resume in the order scheduled', async () => {
    const order: number[] = [];
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) ps.push(sleep(10).then(() => order.push(i)));
    await Promise.all(ps);
    assert.deepEqual(
      order,
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  void test('sleep(0)s resume in the order scheduled', async () => {
    const order: number[] = [];
    const ps: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) ps.push(sleep(0).then(() => order.push(i)));
    await Promise.all(ps);
    assert.deepEqual(
      order,
      Array.from({ length: 10 }, (_, i) => i),
    );
  });

  void test('a shorter sleep scheduled later resumes first', async () => {
    const order: string[] = [];
    const a = sleep(30).then(() => order.push('30'));
    const b = sleep(5).then(() => order.push('5'));
    await Promise.all([a, b]);
    assert.deepEqual(order, ['5', '30']);
  });

  void test('tasks sleeping for the same time resume in creation order', async () => {
    const order: number[] = [];
    const ts = [0, 1, 2, 3, 4].map((i) =>
      createTask(async () => {
        await sleep(10);
        order.push(i);
      }),
    );
    await gather(ts);
    assert.deepEqual(order, [0, 1, 2, 3, 4]);
  });

  void test('sleep with an already-aborted signal rejects at once with CancelledError; cause is the reason', async () => {
    const ac = new AbortController();
    const reason = new Error('the reason');
    ac.abort(reason);
    let settled = false;
    const p = sleep(10_000, 'v', { signal: ac.signal });
    const watched = p.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(settled, true, 'a pre-aborted sleep must reject without waiting for a loop turn');
    const e = await rejection(p);
    await watched;
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal((e as Error).cause, reason);
    await assertNoLeaks();
  });

  void test('sleep(0) with an already-aborted signal also rejects', async () => {
    const ac = new AbortController();
    ac.abort();
    const e = await rejection(sleep(0, undefined, { signal: ac.signal }));
    assert.ok(e instanceof CancelledError);
    assert.equal((e as Error).cause, ac.signal.reason);
    await assertNoLeaks();
  });

  void test('aborting a foreign signal mid-sleep rejects promptly; cause is the reason', async () => {
    const ac = new AbortController();
    const p = sleep(10_000, undefined, { signal: ac.signal });
    await sleep(2);
    const start = performance.now();
    const reason = { custom: 'reason' };
    ac.abort(reason);
    const e = await rejection(p);
    assert.ok(since(start) < 1000);
    assert.ok(e instanceof CancelledError);
    assert.equal((e as Error).cause, reason);
    await assertNoLeaks();
  });

  void test('a CancelledError reason lends its message', async () => {
    const ac = new AbortController();
    const p = sleep(10_000, undefined, { signal: ac.signal });
    ac.abort(new CancelledError('lent'));
    const e = await rejection(p);
    assert.ok(e instanceof CancelledError);
    assert.equal((e as Error).message, 'lent');
    await assertNoLeaks();
  });

  void test('a sleep that ends normally removes its listener from a long-lived signal', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 20; i++) await sleep(0, undefined, { signal: ac.signal });
    await Promise.all(Array.from({ length: 20 }, () => sleep(1, undefined, { signal: ac.signal })));
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  void test('cancelling many sleeping tasks leaves no timer behind', async () => {
    const ts = Array.from({ length: 100 }, (_, i) =>
      createTask(async (signal) => {
        await sleep(1000 + i, undefined, { signal });
      }),
    );
    await sleep(1);
    for (const t of ts) t.cancel();
    await wait(ts);
    assert.ok(ts.every((t) => t.cancelled()));
    await assertNoLeaks();
  });

  void test('sleep without a signal inside a cancelled task is not interrupted (the body decides)', async () => {
    const t = createTask(async () => {
      const start = performance.now();
      await sleep(20);
      return since(start);
    });
    await sleep(1);
    t.cancel();
    const took = await t;
    assert.ok(took >= 18, `took ${took}`);
    await assertNoLeaks();
  });
});

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Runs `fn` with the loop's exception handler collecting the messages it is given. */
async function reports(fn: (out: ErrorContext[]) => Promise<unknown>): Promise<ErrorContext[]> {
  const loop = getRunningLoop();
  const previous = loop.getExceptionHandler();
  const out: ErrorContext[] = [];
  loop.setExceptionHandler((_loop, context) => void out.push(context));
  try {
    await fn(out);
  } finally {
    loop.setExceptionHandler(previous);
  }
  return out;
}

const failing = (name: string, message = name) =>
  createTask(async () => Promise.reject(new Error(message)), { name });

void describe('Task: a failure nobody reads is reported (debug mode off)', () => {
  void test('a failed task never awaited is reported once, with its name, when run ends', async () => {
    const out = await reports(async () => {
      await run(async () => {
        failing('forgotten', 'lost');
        await sleep(5);
      });
      gc();
      await sleep(20); // a finalizer may run now: it must not report it again
    });
    assert.equal(out.length, 1, out.map((c) => c.message).join('\n'));
    assert.match(
      out[0]!.message,
      /^Task exception was never retrieved: <Task finished name='forgotten' exception=Error\("lost"\)>$/,
    );
    assert.equal((out[0]!.exception as Error).message, 'lost');
  });

  void test('a failed task dropped without run() is reported when it is garbage-collected', async () => {
    const out = await reports(async (out) => {
      failing('dropped');
      await sleep(5);
      for (let i = 0; i < 50 && out.length === 0; i++) {
        gc();
        await sleep(20);
      }
    });
    assert.equal(out.length, 1, out.map((c) => c.message).join('\n'));
    assert.match(out[0]!.message, /^Task exception was never retrieved: <Task finished name='dropped'/);
  });

  void test('a failed task still unread when the process exits is reported then (asyncio logs it at exit)', async () => {
    const script = [
      "import { createTask } from './src/index.ts';",
      "createTask(async () => { throw new Error('lost at exit'); }, { name: 'at-exit' });",
    ].join('\n');
    const { stderr, code } = await new Promise<{ stderr: string; code: number | null }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        { cwd: fileURLToPath(new URL('..', import.meta.url)) },
        (_error, _stdout, stderr) => resolve({ stderr, code: child.exitCode }),
      );
    });
    assert.equal(code, 0);
    assert.match(stderr, /Task exception was never retrieved: <Task finished name='at-exit'/);
    assert.match(stderr, /Error: lost at exit/);
    assert.equal(stderr.match(/never retrieved/g)?.length, 1);
  });

  void test('errors read by await, result(), exception(), gather, a TaskGroup, waitFor or shield are not reported', async () => {
    const out = await reports(async () => {
      await run(async () => {
        await failing('awaited').catch(() => {});
        const awaitedLate = failing('awaited-late');
        await sleep(2);
        await assert.rejects(awaitedLate);
        const read = failing('read');
        const excepted = failing('excepted');
        await sleep(2);
        assert.throws(() => read.result());
        assert.ok(excepted.exception() instanceof Error);
        await gather([failing('gathered')], { returnExceptions: true });
        await assert.rejects(gather([failing('gathered-first'), failing('gathered-second')]));
        await assert.rejects(
          taskGroup(async (tg) => {
            tg.createTask(async () => Promise.reject(new Error('grouped')), { name: 'grouped' });
          }),
        );
        try {
          await using tg = new TaskGroup();
          tg.createTask(async () => Promise.reject(new Error('grouped2')), { name: 'grouped2' });
        } catch {
          // the group's ExceptionGroup
        }
        await assert.rejects(waitFor(failing('waited-for'), 1000));
        await assert.rejects(shield(failing('shielded')));
        const callback = failing('with-callback');
        await new Promise<void>((resolve) =>
          callback.addDoneCallback((t) => {
            void t.exception();
            resolve();
          }),
        );
      });
      gc();
      await sleep(20);
    });
    assert.deepEqual(
      out.map((c) => c.message),
      [],
    );
  });
});
