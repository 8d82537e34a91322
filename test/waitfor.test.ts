// Behaviour tests for `waitFor` (SPEC "Running and waiting", "Details";
// design.md "Combinators"). Ports the cases of CPython 3.13
// Lib/test/test_asyncio/test_waitfor.py.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  waitFor,
  sleep,
  createTask,
  Future,
  getRunningLoop,
  CancelledError,
  TimeoutError,
  timeout,
} from '../src/index.ts';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';

const LONG = 10_000;

/** The loop's clock: virtual inside `runVirtual`. */
const clock = (): number => getRunningLoop().time();

/** Runs for `ms` of the loop's time, ignoring cancellation (CPython's SlowTask). */
class SlowTask {
  exited = false;
  constructor(readonly ms = 200) {}
  run = async (signal: AbortSignal): Promise<void> => {
    const exitAt = clock() + this.ms;
    for (;;) {
      const left = exitAt - clock();
      if (left <= 0) break;
      try {
        // Once the signal is aborted a sleep given it rejects at once, so
        // keep waiting without it (the point is to ignore the cancel).
        await sleep(left, undefined, signal.aborted ? {} : { signal });
      } catch {
        /* ignore the cancellation */
      }
    }
    this.exited = true;
  };
}

void describe('waitFor: in time', () => {
  void test('a body finishing in time gives its value', async () => {
    const value = await waitFor(async (signal: AbortSignal) => {
      await sleep(5, undefined, { signal });
      return 'done';
    }, 1000);
    assert.equal(value, 'done');
    await assertNoLeaks();
  });

  void test('a task finishing in time gives its value', async () => {
    const task = createTask(async () => {
      await sleep(5);
      return 7;
    });
    assert.equal(await waitFor(task, 1000), 7);
    assert.equal(task.done(), true);
    await assertNoLeaks();
  });

  void test('a plain promise finishing in time gives its value', async () => {
    const value = await waitFor(new Promise<string>((r) => setTimeout(() => r('p'), 5)), 1000);
    assert.equal(value, 'p');
    await assertNoLeaks();
  });

  void test('waitFor(x, null) waits as long as it takes (test_wait_for_blocking)', async () => {
    assert.equal(await waitFor(async () => 'done', null), 'done');
    const value = await waitFor(async () => {
      await sleep(30);
      return 'slow';
    }, null);
    assert.equal(value, 'slow');
    await assertNoLeaks();
  });

  void test('a future resolved by callLater before the timeout (test_wait_for_race_condition)', async () => {
    const loop = getRunningLoop();
    const fut = loop.createFuture<string>();
    loop.callLater(20, (v: string) => fut.setResult(v), 'ok');
    assert.equal(await waitFor(fut, 2000), 'ok');
    await assertNoLeaks();
  });

  void test('errors pass through', async () => {
    const boom = new RangeError('boom');
    const err = await rejection(
      waitFor(async () => {
        await sleep(1);
        throw boom;
      }, 1000),
    );
    assert.equal(err, boom);
    const failedTask = createTask(async () => {
      throw boom;
    });
    assert.equal(await rejection(waitFor(failedTask, 1000)), boom);
    assert.equal(await rejection(waitFor(Promise.reject(boom), 1000)), boom);
    await assertNoLeaks();
  });

  void test('a body that completes in time leaves no timer behind', async () => {
    for (let i = 0; i < 50; i++) await waitFor(async () => i, LONG);
    await assertNoLeaks();
  });
});

void describe('waitFor: timing out', () => {
  void test('cancels the inner task and rejects with TimeoutError (test_wait_for)', async () => {
    let running: boolean | undefined;
    const task = createTask(async (signal) => {
      running = true;
      try {
        await sleep(LONG, undefined, { signal });
      } finally {
        running = false;
      }
      return 'done';
    });
    const t0 = performance.now();
    await sleep(0); // started, as in CPython where wait_for awaits first
    const err = await rejection(waitFor(task, 30));
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.ok(task.done());
    assert.ok(task.cancelled(), 'the task was cancelled by the timeout');
    assert.equal(running, false);
    const elapsed = since(t0);
    assert.ok(elapsed >= 29 && elapsed < 5000, `took ${elapsed} ms`);
    await assertNoLeaks();
  });

  void test('waits for the inner task to finish cancelling before rejecting (test_wait_for_waits_for_task_cancellation)', async () => {
    let cleanupDone = false;
    let cleanupDoneAtReject: boolean | undefined;
    const task = createTask(async (signal) => {
      try {
        await sleep(LONG, undefined, { signal });
      } finally {
        await sleep(20); // cleanup after catching the cancellation
        cleanupDone = true;
      }
    });
    const t0 = performance.now();
    await sleep(0); // the task has started
    const err = await waitFor(task, 5).then(
      () => assert.fail('expected TimeoutError'),
      (e: unknown) => {
        cleanupDoneAtReject = cleanupDone;
        return e;
      },
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.equal(cleanupDoneAtReject, true, 'waitFor rejected before the cleanup finished');
    assert.ok(task.cancelled());
    assert.ok(since(t0) >= 20, `rejected after ${since(t0)} ms`);
    assert.ok((err as Error).cause instanceof CancelledError, `cause: ${String((err as Error).cause)}`);
    await assertNoLeaks();
  });

  void test('the same with a body instead of a task', async () => {
    let cleanupDone = false;
    let cleanupDoneAtReject: boolean | undefined;
    const err = await waitFor(async (signal: AbortSignal) => {
      try {
        await sleep(LONG, undefined, { signal });
      } catch (e) {
        assert.ok(e instanceof CancelledError);
        await sleep(20);
        cleanupDone = true;
        throw e;
      }
    }, 30).then(
      () => assert.fail('expected TimeoutError'),
      (e: unknown) => {
        cleanupDoneAtReject = cleanupDone;
        return e;
      },
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.equal(cleanupDoneAtReject, true, 'waitFor rejected before the cleanup finished');
    await assertNoLeaks();
  });

  void test('with timeout 0 on a started task, still waits for the cancellation (…_w_timeout_0)', async () => {
    let done = false;
    const task = createTask(async (signal) => {
      try {
        await sleep(LONG, undefined, { signal });
      } catch (e) {
        await sleep(1);
        throw e;
      } finally {
        done = true;
      }
    });
    await sleep(1); // let it start
    const err = await rejection(waitFor(task, 0));
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.equal(done, true);
    assert.ok(task.cancelled());
    await assertNoLeaks();
  });

  for (const ms of [0, -1]) {
    void test(`waitFor(startedTask, ${ms}) cancels it at once (test_wait_for_timeout_less_then_0_or_0)`, async () => {
      let running: boolean | undefined;
      const loop = getRunningLoop();
      const started = loop.createFuture<void>();
      const task = createTask(async (signal) => {
        running = true;
        started.setResult(undefined);
        try {
          await sleep(LONG, undefined, { signal });
        } finally {
          running = false;
        }
        return 'done';
      });
      await started;
      const t0 = performance.now();
      const err = await rejection(waitFor(task, ms));
      assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
      assert.ok(task.done());
      assert.ok(task.cancelled());
      assert.equal(running, false);
      assert.ok(since(t0) < LONG / 2, `took ${since(t0)} ms`);
      await assertNoLeaks();
    });
  }

  void test('an inner task that ignores cancellation and returns gives its value (test_wait_for_cancel_suppressed)', async () => {
    const value = await waitFor(async (signal: AbortSignal) => {
      try {
        await sleep(LONG, undefined, { signal });
      } catch {
        return 42;
      }
      return 0;
    }, 30);
    assert.equal(value, 42);
    await assertNoLeaks();
  });

  void test('an inner task that swallows the cancellation and returns later gives its value (test_wait_for_cancellation_race_condition)', async () => {
    const value = await waitFor(async (signal: AbortSignal) => {
      const err = await rejection(sleep(1000, undefined, { signal }));
      assert.ok(err instanceof CancelledError);
      await sleep(5);
      return 1;
    }, 30);
    assert.equal(value, 1);
    await assertNoLeaks();
  });

  void test('an inner task that runs on ignoring the cancel is waited for (test_asyncio_wait_for_timeout) (virtual time)', async () => {
    await runVirtual(async () => {
      const t = new SlowTask(200);
      const t0 = clock();
      try {
        await waitFor(t.run, 100);
      } catch (e) {
        assert.ok(e instanceof TimeoutError, `got ${String(e)}`);
      }
      assert.equal(t.exited, true);
      assert.equal(clock() - t0, 200, 'waitFor settled when the inner task ended, not at its timeout');
    });
    await assertNoLeaks();
  });

  void test('an error raised while cancelling wins over TimeoutError (test_wait_for_reraises_exception_during_cancellation)', async () => {
    class FooError extends Error {}
    const task = createTask(async (signal) => {
      try {
        await sleep(200, undefined, { signal });
      } finally {
        // eslint-disable-next-line no-unsafe-finally
        throw new FooError('foo');
      }
    });
    await sleep(0); // the task has started
    const err = await rejection(waitFor(task, 1));
    assert.ok(err instanceof FooError, `got ${String(err)}`);
    await assertNoLeaks();
  });

  void test('a future is cancelled on timeout', async () => {
    const fut = new Future<number>();
    const err = await rejection(waitFor(fut, 10));
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.ok(fut.cancelled(), 'the future was cancelled');
    await assertNoLeaks();
  });

  void test('a plain promise that never settles: TimeoutError, the wait is abandoned', async () => {
    const err = await rejection(waitFor(new Promise<never>(() => {}), 10));
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    await assertNoLeaks();
  });
});

void describe('waitFor combined with a timeout scope', () => {
  void test('waitFor expiring around an inner timeout scope: the inner one gives CancelledError, waitFor TimeoutError', async () => {
    let innerErr: unknown;
    const err = await rejection(
      waitFor(async (signal: AbortSignal) => {
        try {
          await timeout(LONG, async (s) => sleep(LONG, undefined, { signal: s }), { signal });
        } catch (e) {
          innerErr = e;
          throw e;
        }
      }, 30),
    );
    assert.ok(innerErr instanceof CancelledError, `inner timeout gave ${String(innerErr)}`);
    assert.equal(innerErr instanceof TimeoutError, false);
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    await assertNoLeaks();
  });
});

void describe('waitFor(x, 0) on things not started or already done', () => {
  void test('a body never runs and the result is TimeoutError (…_coroutine_do_not_started)', async () => {
    let started = false;
    const t0 = performance.now();
    const err = await rejection(
      waitFor(async () => {
        started = true;
      }, 0),
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    await sleep(5);
    assert.equal(started, false);
    assert.ok(since(t0) < LONG / 2);
    await assertNoLeaks();
  });

  void test('a task that has not started never runs, ends cancelled, and the result is TimeoutError', async () => {
    let started = false;
    const task = createTask(async () => {
      started = true;
      return 'x';
    });
    const err = await rejection(waitFor(task, 0));
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.equal(started, false);
    assert.ok(task.cancelled());
    await assertNoLeaks();
  });

  void test('a negative timeout is the same as 0 for a body', async () => {
    let started = false;
    const err = await rejection(
      waitFor(async () => {
        started = true;
      }, -5),
    );
    assert.ok(err instanceof TimeoutError);
    assert.equal(started, false);
    await assertNoLeaks();
  });

  for (const ms of [0, -1]) {
    void test(`waitFor(doneFuture, ${ms}) gives the result (…_future_done)`, async () => {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      fut.setResult('done');
      const t0 = loop.time();
      const value = await waitFor(fut, ms);
      assert.equal(value, 'done');
      assert.ok(fut.done());
      assert.ok(loop.time() - t0 < 500);
      await assertNoLeaks();
    });
  }

  void test('waitFor(doneTask, 0) gives the result', async () => {
    const task = createTask(async () => 'finished');
    await task;
    assert.equal(await waitFor(task, 0), 'finished');
    await assertNoLeaks();
  });

  void test('waitFor(failedFuture, 0) gives its error', async () => {
    const fut = new Future<string>();
    const boom = new Error('boom');
    fut.setException(boom);
    assert.equal(await rejection(waitFor(fut, 0)), boom);
    await assertNoLeaks();
  });
});

void describe('waitFor: bad input and odd values', () => {
  void test('NaN and -Infinity are RangeErrors', async () => {
    for (const ms of [NaN, -Infinity]) {
      let ran = false;
      await assert.rejects(
        async () =>
          waitFor(async () => {
            ran = true;
          }, ms),
        RangeError,
      );
      await sleep(1);
      assert.equal(ran, false, `the body ran for ms=${ms}`);
    }
    await assertNoLeaks();
  });

  void test('Infinity waits without a limit', async () => {
    const value = await waitFor(async () => {
      await sleep(20);
      return 'inf';
    }, Infinity);
    assert.equal(value, 'inf');
    await assertNoLeaks();
  });

  void test('an AbortError from a foreign API in the cancelled body still counts as a cancellation', async () => {
    const { setTimeout: nodeSleep } = await import('node:timers/promises');
    const err = await rejection(
      waitFor(async (signal: AbortSignal) => nodeSleep(LONG, undefined, { signal }), 30),
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    await assertNoLeaks();
  });
});

void describe('waitFor: outer cancellation', () => {
  for (const ms of [null, 60_000]) {
    void test(`outer signal abort gives CancelledError and cancels the inner task (ms=${ms}) (test_cancel_wait_for)`, async () => {
      const loop = getRunningLoop();
      const task = createTask(async (signal) => {
        const fut = loop.createFuture<void>();
        await Promise.race([fut, sleep(LONG * 10, undefined, { signal })]);
      });
      const ac = new AbortController();
      loop.callSoon(() => ac.abort());
      const err = await rejection(waitFor(task, ms, { signal: ac.signal }));
      assert.ok(err instanceof CancelledError, `got ${String(err)}`);
      assert.equal(err instanceof TimeoutError, false);
      await rejection(task).catch(() => undefined);
      assert.ok(task.cancelled(), 'cancelling the wait must also cancel the task');
      await assertNoLeaks();
    });
  }

  void test('the task running waitFor cancelled with a message: the inner task and the wait carry it', async () => {
    let innerError: unknown;
    const inner = createTask(async (signal) => {
      try {
        await sleep(LONG, undefined, { signal });
      } catch (e) {
        innerError = e;
        throw e;
      }
    });
    const fut = getRunningLoop().createFuture<void>();
    const outer = createTask(async (signal) => waitFor(inner, LONG, { signal }));
    const outer2 = createTask(async (signal) => waitFor(fut, null, { signal }));
    await sleep(1);
    outer.cancel('m1');
    outer2.cancel('m2');
    const err = await rejection(outer);
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal((err as Error).message, 'm1');
    assert.ok(innerError instanceof CancelledError, `inner got ${String(innerError)}`);
    assert.equal((innerError as Error).message, 'm1', 'the inner task is cancelled with the message');
    assert.equal(((await rejection(inner)) as Error).message, 'm1');
    assert.equal(((await rejection(outer2)) as Error).message, 'm2');
    assert.equal(
      ((await rejection(fut)) as Error).message,
      'm2',
      'the inner future is cancelled with the message',
    );
    await assertNoLeaks();
  });

  void test('the cancelled wait is on a body: the body is cancelled too', async () => {
    const ac = new AbortController();
    let bodyErr: unknown;
    setTimeout(() => ac.abort(), 10);
    const err = await rejection(
      waitFor(
        async (signal: AbortSignal) => {
          try {
            await sleep(LONG, undefined, { signal });
          } catch (e) {
            bodyErr = e;
            throw e;
          }
        },
        LONG,
        { signal: ac.signal },
      ),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.ok(bodyErr instanceof CancelledError, `body got ${String(bodyErr)}`);
    await assertNoLeaks();
  });

  void test('cancelling the task running waitFor cancels and waits for the inner one (test_asyncio_wait_for_cancelled) (virtual time)', async () => {
    await runVirtual(async () => {
      const t = new SlowTask(200);
      const t0 = clock();
      const outer = createTask(async (signal) => waitFor(t.run, 400, { signal }));
      await sleep(0);
      outer.cancel();
      await outer.then(
        () => undefined,
        () => undefined,
      );
      assert.equal(t.exited, true, 'the waitFor task settled before its inner task finished');
      assert.equal(clock() - t0, 200);
    });
    await assertNoLeaks();
  });

  void test('a wait whose signal is already aborted rejects at once; an inner task that holds on finishes (test_wait_for_self_cancellation)', async () => {
    const inner = createTask(async (signal) => {
      try {
        await sleep(30, undefined, { signal });
      } catch {
        try {
          await sleep(30);
        } catch {
          await sleep(30);
        }
      }
      return 42;
    });
    await sleep(0); // the inner task is running (as in CPython, where it started first)
    const ac = new AbortController();
    ac.abort();
    const err = await rejection(waitFor(inner, 100, { signal: ac.signal }));
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal(await inner, 42);
    await assertNoLeaks();
  });

  void test('an outer abort while waiting on a task that ignores its cancellation still rejects with CancelledError', async () => {
    const inner = createTask(async (signal) => {
      try {
        await sleep(LONG, undefined, { signal });
      } catch {
        await sleep(20); // holds on, then returns a value
      }
      return 42;
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    const err = await rejection(waitFor(inner, LONG, { signal: ac.signal }));
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal(await inner, 42);
    await assertNoLeaks();
  });

  void test('cancelling after waitFor returned interrupts only the later wait (test_wait_for_issue86296)', async () => {
    let reachedEnd = false;
    const task = createTask(async (signal) => {
      await waitFor(async () => undefined, 100_000, { signal });
      await sleep(1000, undefined, { signal });
      reachedEnd = true;
    });
    await sleep(0);
    assert.equal(task.done(), false);
    task.cancel();
    const err = await rejection(task);
    assert.ok(err instanceof CancelledError);
    assert.equal(reachedEnd, false);
    await assertNoLeaks();
  });
});
