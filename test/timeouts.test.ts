// Behaviour tests for `timeout` and `timeoutAt` (SPEC "Running and waiting",
// "Details"; design.md "Combinators"). Ports the cases of CPython 3.13
// Lib/test/test_asyncio/test_timeouts.py that apply to a signal-based scope.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  timeout,
  timeoutAt,
  sleep,
  createTask,
  getRunningLoop,
  CancelledError,
  TimeoutError,
  InvalidStateError,
  taskGroup,
  waitFor,
} from '../src/index.ts';
import type { Task } from '../src/index.ts';
import { setTimeout as nodeSleep } from 'node:timers/promises';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';

/** The loop's clock: virtual inside `runVirtual`. */
const clock = (): number => getRunningLoop().time();

/** The scope object handed to a timeout body. */
type Scope = { when(): number | null; reschedule(when: number | null): void; expired(): boolean };

/** Blocks the thread (no event-loop turn) for `ms`. */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* busy */
  }
}

const LONG = 10_000;

void describe('timeout: expiry', () => {
  void test('expiry rejects with TimeoutError and the scope reports expired() (test_timeout_basic)', async () => {
    let scope: Scope | undefined;
    const t0 = performance.now();
    const err = await rejection(
      timeout(10, async (signal, s) => {
        scope = s;
        await sleep(LONG, undefined, { signal });
      }),
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.equal(err instanceof CancelledError, false);
    assert.ok(scope!.expired());
    const elapsed = since(t0);
    assert.ok(elapsed >= 9, `expired too early: ${elapsed} ms`);
    assert.ok(elapsed < 5000, `expired too late: ${elapsed} ms`);
    await assertNoLeaks();
  });

  void test("expiry aborts the body's signal and a sleep given it rejects with CancelledError (test_waiter_cancelled)", async () => {
    let sawAbortedAtStart: boolean | undefined;
    let inner: unknown;
    let abortedAfter: boolean | undefined;
    let isSignal = false;
    const err = await rejection(
      timeout(10, async (signal) => {
        isSignal = signal instanceof AbortSignal;
        sawAbortedAtStart = signal.aborted;
        try {
          await sleep(LONG, undefined, { signal });
        } catch (e) {
          inner = e;
          abortedAfter = signal.aborted;
          throw e;
        }
      }),
    );
    assert.ok(isSignal, 'the body receives an AbortSignal');
    assert.equal(sawAbortedAtStart, false);
    assert.ok(inner instanceof CancelledError, `the sleep rejected with ${String(inner)}`);
    assert.equal(abortedAfter, true);
    assert.ok(err instanceof TimeoutError);
    await assertNoLeaks();
  });

  void test('abort listeners on the body signal fire at the deadline', async () => {
    let fired = 0;
    const err = await rejection(
      timeout(10, async (signal) => {
        signal.addEventListener('abort', () => fired++);
        await sleep(LONG, undefined, { signal });
      }),
    );
    assert.ok(err instanceof TimeoutError);
    assert.equal(fired, 1);
    await assertNoLeaks();
  });

  void test('the scope settles only after the body settled (cleanup in finally runs first)', async () => {
    let cleaned = false;
    const t0 = performance.now();
    const err = await rejection(
      timeout(10, async (signal) => {
        try {
          await sleep(LONG, undefined, { signal });
        } finally {
          await sleep(20); // cleanup without the aborted signal
          cleaned = true;
        }
      }),
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.equal(cleaned, true, 'the scope rejected before the body finished its cleanup');
    assert.ok(since(t0) >= 28, `settled after ${since(t0)} ms`);
    await assertNoLeaks();
  });

  void test('the TimeoutError has the CancelledError as its cause (test_timeout_exception_cause)', async () => {
    const err = await rejection(timeout(0, async (signal) => sleep(LONG, undefined, { signal })));
    assert.ok(err instanceof TimeoutError);
    assert.ok((err as Error).cause instanceof CancelledError, `cause: ${String((err as Error).cause)}`);
    await assertNoLeaks();
  });

  void test('an error raised by the body passes through untouched (test_foreign_exception_passed)', async () => {
    class KeyError extends Error {}
    const boom = new KeyError('k');
    let scope: Scope | undefined;
    const err = await rejection(
      timeout(10, async (_signal, s) => {
        scope = s;
        throw boom;
      }),
    );
    assert.equal(err, boom);
    assert.equal(scope!.expired(), false);
    await assertNoLeaks();
  });

  void test('an error raised while handling the expiry wins over TimeoutError (test_foreign_exception_on_timeout)', async () => {
    class ZeroDivisionError extends Error {}
    const err = await rejection(
      timeout(10, async (signal) => {
        try {
          await sleep(1000, undefined, { signal });
        } finally {
          // eslint-disable-next-line no-unsafe-finally
          throw new ZeroDivisionError('1/0');
        }
      }),
    );
    assert.ok(err instanceof ZeroDivisionError, `got ${String(err)}`);
    await assertNoLeaks();
  });

  void test('a body that ignores the abort and returns a value returns it (virtual time)', async () => {
    await runVirtual(async () => {
      let scope: Scope | undefined;
      const t0 = clock();
      let abortedAt = -1;
      const value = await timeout(10, async (signal, s) => {
        scope = s;
        signal.addEventListener('abort', () => (abortedAt = clock() - t0));
        await sleep(40); // not given the signal: runs to its end
        return 'finished anyway';
      });
      assert.equal(value, 'finished anyway');
      assert.equal(scope!.expired(), true, 'the deadline passed, so the scope expired');
      assert.equal(abortedAt, 10, 'the signal was aborted at the deadline');
      assert.equal(clock() - t0, 40, 'the scope waited for the body');
    });
    await assertNoLeaks();
  });

  void test('a body that catches its cancellation and returns a value returns it', async () => {
    const value = await timeout(10, async (signal) => {
      try {
        await sleep(LONG, undefined, { signal });
        return 'not reached';
      } catch (e) {
        assert.ok(e instanceof CancelledError);
        return 'swallowed';
      }
    });
    assert.equal(value, 'swallowed');
    await assertNoLeaks();
  });

  void test('the outer task is not cancelled by a timeout inside it (test_outer_task_is_not_cancelled)', async () => {
    const task = createTask(async () => {
      const err = await rejection(timeout(1, async (signal) => sleep(LONG, undefined, { signal })));
      assert.ok(err instanceof TimeoutError);
      return 'outer done';
    });
    assert.equal(await task, 'outer done');
    assert.equal(task.cancelled(), false);
    assert.equal(task.done(), true);
    await assertNoLeaks();
  });

  void test('many concurrent scopes all expire and leave nothing behind', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        timeout(1 + (i % 7), async (signal) => sleep(LONG, undefined, { signal })),
      ),
    );
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      assert.ok((r as PromiseRejectedResult).reason instanceof TimeoutError);
    }
    await assertNoLeaks();
  });
});

void describe('timeout: bodies that are not tsaio-aware', () => {
  void test('an AbortError from a foreign API given the signal becomes TimeoutError', async () => {
    let inner: unknown;
    const err = await rejection(
      timeout(10, async (signal) => {
        try {
          await nodeSleep(LONG, undefined, { signal }); // node:timers/promises rejects with AbortError
        } catch (e) {
          inner = e;
          throw e;
        }
      }),
    );
    assert.equal((inner as Error).name, 'AbortError');
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    await assertNoLeaks();
  });

  void test('a synchronous body returning a plain value resolves to it', async () => {
    assert.equal(await timeout(LONG, () => 5), 5);
    await assertNoLeaks();
  });

  void test('a synchronous body that throws rejects with the error and leaves no timer', async () => {
    const boom = new Error('sync');
    const err = await rejection(
      timeout(LONG, () => {
        throw boom;
      }),
    );
    assert.equal(err, boom);
    await assertNoLeaks();
  });

  void test('a body taking no parameters still runs', async () => {
    let ran = false;
    const value = await timeout(LONG, async () => {
      ran = true;
      return 'no params';
    });
    assert.ok(ran);
    assert.equal(value, 'no params');
    await assertNoLeaks();
  });
});

void describe('timeout: finishing in time', () => {
  void test('the body value is returned and the scope has not expired (test_timeout_not_called)', async () => {
    const loop = getRunningLoop();
    let scope: Scope | undefined;
    let aborted: boolean | undefined;
    const value = await timeout(LONG, async (signal, s) => {
      scope = s;
      await sleep(10, undefined, { signal });
      aborted = signal.aborted;
      return 42;
    });
    const t1 = loop.time();
    assert.equal(value, 42);
    assert.equal(aborted, false);
    assert.equal(scope!.expired(), false);
    assert.ok(scope!.when()! > t1, 'when() is the future deadline');
    await assertNoLeaks(); // the deadline's timer was removed
  });

  void test('the signal is not aborted after the scope finished in time', async () => {
    let saved: AbortSignal | undefined;
    await timeout(LONG, async (signal) => {
      saved = signal;
    });
    await sleep(5);
    assert.equal(saved!.aborted, false);
    await assertNoLeaks();
  });

  void test('a body returning a non-promise value in time resolves to it', async () => {
    const value = await timeout(LONG, async () => 'sync-ish');
    assert.equal(value, 'sync-ish');
    await assertNoLeaks();
  });

  void test('when() is about now + ms', async () => {
    const loop = getRunningLoop();
    const t0 = loop.time();
    let when: number | null = null;
    await timeout(5000, async (_signal, s) => {
      when = s.when();
    });
    const t1 = loop.time();
    assert.ok(when !== null);
    assert.ok(when! >= t0 + 5000 - 1 && when! <= t1 + 5000 + 1, `when=${when} t0=${t0} t1=${t1}`);
    await assertNoLeaks();
  });
});

void describe('timeout(null) and timeoutAt(null)', () => {
  const HOUR = 3_600_000;

  void test('timeout(null) never expires: not in an hour of virtual time (test_timeout_disabled)', async () => {
    await runVirtual(async () => {
      let scope: Scope | undefined;
      const t0 = clock();
      const value = await timeout(null, async (signal, s) => {
        scope = s;
        await sleep(HOUR, undefined, { signal });
        assert.equal(signal.aborted, false);
        return 'ok';
      });
      assert.equal(value, 'ok');
      assert.equal(scope!.expired(), false);
      assert.equal(scope!.when(), null);
      assert.equal(clock() - t0, HOUR);
    });
    await assertNoLeaks();
  });

  void test('timeoutAt(null) never expires: not in an hour of virtual time (test_timeout_at_disabled)', async () => {
    await runVirtual(async () => {
      let scope: Scope | undefined;
      const t0 = clock();
      const value = await timeoutAt(null, async (signal, s) => {
        scope = s;
        await sleep(HOUR, undefined, { signal });
        return 'ok';
      });
      assert.equal(value, 'ok');
      assert.equal(scope!.expired(), false);
      assert.equal(scope!.when(), null);
      assert.equal(clock() - t0, HOUR);
    });
    await assertNoLeaks();
  });

  void test('timeout(Infinity) never expires: not in an hour of virtual time', async () => {
    await runVirtual(async () => {
      let scope: Scope | undefined;
      const t0 = clock();
      const value = await timeout(Infinity, async (signal, s) => {
        scope = s;
        await sleep(HOUR, undefined, { signal });
        return 'inf';
      });
      assert.equal(value, 'inf');
      assert.equal(scope!.expired(), false);
      assert.equal(clock() - t0, HOUR);
    });
    await assertNoLeaks();
  });

  void test('timeout(null) is still cancelled by its outer signal', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 10);
    const err = await rejection(
      timeout(null, async (signal) => sleep(LONG, undefined, { signal }), { signal: ac.signal }),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    await assertNoLeaks();
  });
});

void describe('timeoutAt', () => {
  void test('expires at the deadline and when() is the deadline (test_timeout_at_basic)', async () => {
    const loop = getRunningLoop();
    const deadline = loop.time() + 10;
    let scope: Scope | undefined;
    const err = await rejection(
      timeoutAt(deadline, async (signal, s) => {
        scope = s;
        await sleep(LONG, undefined, { signal });
      }),
    );
    assert.ok(err instanceof TimeoutError);
    assert.ok(scope!.expired());
    assert.equal(scope!.when(), deadline);
    assert.ok(loop.time() >= deadline, 'never fires early');
    await assertNoLeaks();
  });

  void test('a deadline already past still runs the body, with its signal aborted', async () => {
    const loop = getRunningLoop();
    let ran = false;
    let abortedAtStart: boolean | undefined;
    const err = await rejection(
      timeoutAt(loop.time() - 5, async (signal) => {
        ran = true;
        abortedAtStart = signal.aborted;
        await sleep(LONG, undefined, { signal });
      }),
    );
    assert.equal(ran, true);
    assert.equal(abortedAtStart, true);
    assert.ok(err instanceof TimeoutError);
    await assertNoLeaks();
  });

  void test('finishing before the deadline returns the value', async () => {
    const loop = getRunningLoop();
    const value = await timeoutAt(loop.time() + LONG, async (signal) => {
      await sleep(5, undefined, { signal });
      return 'early';
    });
    assert.equal(value, 'early');
    await assertNoLeaks();
  });
});

void describe('timeout(0) and past deadlines', () => {
  void test('timeout(0) runs the body with the signal already aborted (test_timeout_zero)', async () => {
    const loop = getRunningLoop();
    const t0 = loop.time();
    let ran = false;
    let abortedAtStart: boolean | undefined;
    let scope: Scope | undefined;
    const err = await rejection(
      timeout(0, async (signal, s) => {
        ran = true;
        scope = s;
        abortedAtStart = signal.aborted;
        await sleep(LONG, undefined, { signal });
      }),
    );
    const t1 = loop.time();
    assert.equal(ran, true, 'the body runs even with a zero timeout');
    assert.equal(abortedAtStart, true);
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.ok(scope!.expired());
    const when = scope!.when();
    assert.ok(when !== null && t0 <= when && when <= t1, `t0=${t0} when=${when} t1=${t1}`);
    await assertNoLeaks();
  });

  void test('timeout(0) with sleep(0) given the signal (test_timeout_zero_sleep_zero)', async () => {
    let scope: Scope | undefined;
    const err = await rejection(
      timeout(0, async (signal, s) => {
        scope = s;
        await sleep(0, undefined, { signal });
      }),
    );
    assert.ok(err instanceof TimeoutError);
    assert.ok(scope!.expired());
    await assertNoLeaks();
  });

  void test('a negative timeout is a deadline in the past (test_timeout_in_the_past_sleep_zero)', async () => {
    const loop = getRunningLoop();
    let scope: Scope | undefined;
    const err = await rejection(
      timeout(-11, async (signal, s) => {
        scope = s;
        await sleep(0, undefined, { signal });
      }),
    );
    const t1 = loop.time();
    assert.ok(err instanceof TimeoutError);
    assert.ok(scope!.expired());
    assert.ok(scope!.when()! <= t1);
    await assertNoLeaks();
  });

  void test('timeout(0) with a body that ignores the abort returns its value and reports expired()', async () => {
    let scope: Scope | undefined;
    const value = await timeout(0, async (_signal, s) => {
      scope = s;
      return 'ignored';
    });
    assert.equal(value, 'ignored');
    assert.equal(scope!.expired(), true);
    assert.notEqual(scope!.when(), null);
    await assertNoLeaks();
  });

  void test('timeout(0) with a body that never awaits anything and throws passes the error through', async () => {
    const boom = new Error('boom');
    const err = await rejection(
      timeout(0, async () => {
        throw boom;
      }),
    );
    assert.equal(err, boom);
    await assertNoLeaks();
  });
});

void describe('timeout: nested scopes', () => {
  void test('the outer expiring: TimeoutError at the outer boundary, CancelledError at the inner one (test_nested_timeouts)', async () => {
    let innerErr: unknown;
    let inner: Scope | undefined;
    let outer: Scope | undefined;
    const err = await rejection(
      timeout(10, async (signal, s1) => {
        outer = s1;
        try {
          await timeout(
            LONG,
            async (signal2, s2) => {
              inner = s2;
              await sleep(LONG, undefined, { signal: signal2 });
            },
            { signal },
          );
        } catch (e) {
          innerErr = e;
          throw e;
        }
      }),
    );
    assert.ok(innerErr instanceof CancelledError, `inner boundary gave ${String(innerErr)}`);
    assert.equal(innerErr instanceof TimeoutError, false);
    assert.ok(err instanceof TimeoutError, `outer boundary gave ${String(err)}`);
    assert.ok(outer!.expired());
    assert.equal(inner!.expired(), false);
    await assertNoLeaks();
  });

  void test('same deadline for both: only the topmost scope raises TimeoutError (test_nested_timeouts)', async () => {
    const loop = getRunningLoop();
    const deadline = loop.time() + 10;
    let cancelled = false;
    let outer: Scope | undefined;
    const err = await rejection(
      timeoutAt(deadline, async (signal, s1) => {
        outer = s1;
        try {
          await timeoutAt(deadline, async (signal2) => sleep(LONG, undefined, { signal: signal2 }), {
            signal,
          });
        } catch (e) {
          if (e instanceof CancelledError) cancelled = true;
          throw e;
        }
      }),
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.ok(cancelled, 'the inner boundary let the CancelledError through');
    assert.ok(outer!.expired());
    await assertNoLeaks();
  });

  void test('the inner expiring is caught at the inner boundary only', async () => {
    let outer: Scope | undefined;
    let inner: Scope | undefined;
    let outerAbortedAfterInner: boolean | undefined;
    const value = await timeout(LONG, async (signal, s1) => {
      outer = s1;
      const innerErr = await rejection(
        timeout(
          10,
          async (signal2, s2) => {
            inner = s2;
            await sleep(LONG, undefined, { signal: signal2 });
          },
          { signal },
        ),
      );
      assert.ok(innerErr instanceof TimeoutError, `inner gave ${String(innerErr)}`);
      outerAbortedAfterInner = signal.aborted;
      await sleep(5, undefined, { signal }); // the outer scope is still usable
      return 'outer ok';
    });
    assert.equal(value, 'outer ok');
    assert.equal(outerAbortedAfterInner, false);
    assert.ok(inner!.expired());
    assert.equal(outer!.expired(), false);
    await assertNoLeaks();
  });

  void test('outer expires while the inner is busy (test_nested_timeouts_concurrent)', async () => {
    let innerErr: unknown;
    const err = await rejection(
      timeout(2, async (signal) => {
        innerErr = await rejection(
          timeout(
            100,
            async (signal2) => {
              block(10); // pretend we crunch some numbers
              await sleep(1000, undefined, { signal: signal2 });
            },
            { signal },
          ),
        );
        throw innerErr;
      }),
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.ok(innerErr instanceof CancelledError, `inner got ${String(innerErr)}`);
    await assertNoLeaks();
  });

  void test('after an inner timeout, the outer timeout still interrupts a later wait (test_nested_timeouts_loop_busy)', async () => {
    const t0 = performance.now();
    let innerErr: unknown;
    const err = await rejection(
      timeout(100, async (signal) => {
        innerErr = await rejection(
          timeout(
            10,
            async (signal2) => {
              block(100); // the loop is busy past both deadlines
              await sleep(1000, undefined, { signal: signal2 });
            },
            { signal },
          ),
        );
        // As in CPython, either scope may claim the expiry inside; only the
        // outer boundary must say TimeoutError and the later sleep must not run on.
        if (!(innerErr instanceof TimeoutError)) throw innerErr;
        await sleep(LONG, undefined, { signal }); // interrupted by the outer scope
      }),
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.ok(
      innerErr instanceof TimeoutError || innerErr instanceof CancelledError,
      `inner: ${String(innerErr)}`,
    );
    assert.ok(since(t0) < 5000, `took ${since(t0)} ms`);
    await assertNoLeaks();
  });

  void test('a new timeout in the cleanup of an expired scope works on its own (test_nested_timeout_in_finally)', async () => {
    let innerErr: unknown;
    const err = await rejection(
      timeout(10, async (signal) => {
        try {
          await sleep(1000, undefined, { signal });
        } finally {
          innerErr = await rejection(
            timeout(10, async (signal2) => sleep(LONG, undefined, { signal: signal2 })),
          );
        }
      }),
    );
    assert.ok(err instanceof TimeoutError);
    assert.ok(innerErr instanceof TimeoutError, `inner got ${String(innerErr)}`);
    await assertNoLeaks();
  });
});

void describe('timeout combined with other scopes', () => {
  void test('a task group inside a past deadline: TimeoutError with a CancelledError cause (test_exception_refcycles_propagate_cancellation_error)', async () => {
    const err = await rejection(
      timeout(-1, async (signal) =>
        taskGroup(
          async (_tg, s) => {
            await sleep(0, undefined, { signal: s });
          },
          { signal },
        ),
      ),
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.ok((err as Error).cause instanceof CancelledError);
    await assertNoLeaks();
  });

  void test('a task group whose children outlive the deadline: children cancelled, TimeoutError', async () => {
    let child!: Task<void>;
    const err = await rejection(
      timeout(10, async (signal) =>
        taskGroup(
          async (tg) => {
            child = tg.createTask(async (s) => sleep(LONG, undefined, { signal: s }));
          },
          { signal },
        ),
      ),
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.ok(child.cancelled());
    await assertNoLeaks();
  });

  void test('waitFor inside a timeout: the scope reports its own expiry as TimeoutError', async () => {
    let innerErr: unknown;
    const err = await rejection(
      timeout(10, async (signal) => {
        try {
          await waitFor(async (s: AbortSignal) => sleep(LONG, undefined, { signal: s }), LONG, { signal });
        } catch (e) {
          innerErr = e;
          throw e;
        }
      }),
    );
    assert.ok(innerErr instanceof CancelledError, `waitFor gave ${String(innerErr)}`);
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    await assertNoLeaks();
  });
});

void describe('timeout: outer cancellation', () => {
  void test('an outer signal aborting gives CancelledError, not TimeoutError', async () => {
    const ac = new AbortController();
    let scope: Scope | undefined;
    let bodyAborted: boolean | undefined;
    setTimeout(() => ac.abort(new CancelledError('from outside')), 10);
    const err = await rejection(
      timeout(
        LONG,
        async (signal, s) => {
          scope = s;
          try {
            await sleep(LONG, undefined, { signal });
          } finally {
            bodyAborted = signal.aborted;
          }
        },
        { signal: ac.signal },
      ),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal(err instanceof TimeoutError, false);
    assert.equal(bodyAborted, true);
    assert.equal(scope!.expired(), false);
    await assertNoLeaks();
  });

  void test('an outer signal already aborted gives CancelledError and no timer is left', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await rejection(
      timeout(LONG, async (signal) => sleep(LONG, undefined, { signal }), { signal: ac.signal }),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    await assertNoLeaks();
  });

  void test('cancelling the enclosing task gives CancelledError and no expiry (test_foreign_cancel_doesnt_timeout_if_not_expired)', async () => {
    let scope: Scope | undefined;
    let innerErr: unknown;
    const task = createTask(async (signal) => {
      try {
        await timeout(
          LONG,
          async (signal2, s) => {
            scope = s;
            await sleep(LONG, undefined, { signal: signal2 });
          },
          { signal },
        );
      } catch (e) {
        innerErr = e;
        throw e;
      }
    });
    await sleep(10);
    task.cancel();
    const err = await rejection(task);
    assert.ok(err instanceof CancelledError);
    assert.ok(innerErr instanceof CancelledError, `timeout() rejected with ${String(innerErr)}`);
    assert.ok(task.cancelled());
    assert.equal(scope!.expired(), false);
    await assertNoLeaks();
  });

  void test('outer cancellation while the scope has also expired still gives CancelledError if the outer came first (virtual time)', async () => {
    await runVirtual(async () => {
      const ac = new AbortController();
      const t0 = clock();
      const err = await rejection(
        timeout(
          30,
          async (signal) => {
            ac.abort(); // the outer cancels first
            try {
              await sleep(LONG, undefined, { signal });
            } finally {
              await sleep(60); // the deadline passes during the cleanup
            }
          },
          { signal: ac.signal },
        ),
      );
      assert.ok(err instanceof CancelledError, `got ${String(err)}`);
      assert.equal(clock() - t0, 60, 'the scope settled when the cleanup ended');
    });
    await assertNoLeaks();
  });
});

void describe('timeout: reschedule', () => {
  void test('reschedule later: the body outlives the original deadline (virtual time)', async () => {
    await runVirtual(async () => {
      let scope: Scope | undefined;
      const t0 = clock();
      const value = await timeout(100, async (signal, s) => {
        scope = s;
        assert.equal(s.when(), t0 + 100);
        s.reschedule(s.when()! + 2000);
        await sleep(200, undefined, { signal });
        return 'survived';
      });
      assert.equal(value, 'survived');
      assert.equal(scope!.expired(), false);
      assert.equal(scope!.when(), t0 + 2100);
      assert.equal(clock() - t0, 200);
    });
    await assertNoLeaks();
  });

  void test('reschedule earlier: expires at the new deadline', async () => {
    const loop = getRunningLoop();
    const t0 = performance.now();
    let scope: Scope | undefined;
    let newWhen = 0;
    const err = await rejection(
      timeout(LONG, async (signal, s) => {
        scope = s;
        newWhen = loop.time() + 20;
        s.reschedule(newWhen);
        assert.equal(s.when(), newWhen);
        await sleep(LONG, undefined, { signal });
      }),
    );
    assert.ok(err instanceof TimeoutError);
    assert.ok(scope!.expired());
    assert.ok(loop.time() >= newWhen, 'never fires before the new deadline');
    assert.ok(since(t0) < 5000, `took ${since(t0)} ms`);
    await assertNoLeaks();
  });

  void test('reschedule(null) disables the deadline (virtual time)', async () => {
    await runVirtual(async () => {
      let scope: Scope | undefined;
      const t0 = clock();
      const value = await timeout(100, async (signal, s) => {
        scope = s;
        s.reschedule(null);
        assert.equal(s.when(), null);
        await sleep(200, undefined, { signal });
        return 'no deadline';
      });
      assert.equal(value, 'no deadline');
      assert.equal(scope!.expired(), false);
      assert.equal(scope!.when(), null);
      assert.equal(clock() - t0, 200);
    });
    await assertNoLeaks();
  });

  void test('reschedule from a null deadline to a real one', async () => {
    const loop = getRunningLoop();
    const err = await rejection(
      timeout(null, async (signal, s) => {
        s.reschedule(loop.time() + 10);
        await sleep(LONG, undefined, { signal });
      }),
    );
    assert.ok(err instanceof TimeoutError);
    await assertNoLeaks();
  });

  void test('reschedule to a time already past expires at once', async () => {
    const loop = getRunningLoop();
    const t0 = performance.now();
    const err = await rejection(
      timeout(LONG, async (signal, s) => {
        s.reschedule(loop.time() - 1);
        await sleep(LONG, undefined, { signal });
      }),
    );
    assert.ok(err instanceof TimeoutError);
    assert.ok(since(t0) < 5000);
    await assertNoLeaks();
  });

  void test('reschedule from outside the body, then cancel (test_reschedule)', async () => {
    const loop = getRunningLoop();
    const deadline1 = loop.time() + 10_000;
    const deadline2 = deadline1 + 20_000;
    let resolveScope!: (s: Scope) => void;
    const gotScope = new Promise<Scope>((r) => (resolveScope = r));
    const task = createTask(async (signal) =>
      timeoutAt(
        deadline1,
        async (signal2, s) => {
          resolveScope(s);
          await sleep(50_000, undefined, { signal: signal2 });
        },
        { signal },
      ),
    );
    const scope = await gotScope;
    assert.equal(scope.when(), deadline1);
    scope.reschedule(deadline2);
    assert.equal(scope.when(), deadline2);
    scope.reschedule(null);
    assert.equal(scope.when(), null);
    task.cancel();
    const err = await rejection(task);
    assert.ok(err instanceof CancelledError);
    assert.equal(scope.expired(), false);
    await assertNoLeaks();
  });

  void test('many reschedules leave one deadline and no stray timers', async () => {
    const loop = getRunningLoop();
    const value = await timeout(LONG, async (signal, s) => {
      for (let i = 0; i < 100; i++) s.reschedule(loop.time() + 5000 + i);
      await sleep(5, undefined, { signal });
      return 'ok';
    });
    assert.equal(value, 'ok');
    await assertNoLeaks();
  });

  void test('reschedule(NaN) is a RangeError and keeps the deadline', async () => {
    let before: number | null = null;
    let after: number | null = null;
    await timeout(LONG, async (_signal, s) => {
      before = s.when();
      assert.throws(() => s.reschedule(NaN), RangeError);
      after = s.when();
    });
    assert.equal(after, before);
    await assertNoLeaks();
  });

  void test('reschedule while the scope is expiring throws InvalidStateError', async () => {
    let thrown: unknown;
    const err = await rejection(
      timeout(5, async (signal, s) => {
        try {
          await sleep(LONG, undefined, { signal });
        } finally {
          try {
            s.reschedule(getRunningLoop().time() + LONG);
          } catch (e) {
            thrown = e;
          }
        }
      }),
    );
    assert.ok(err instanceof TimeoutError);
    assert.ok(thrown instanceof InvalidStateError, `reschedule gave ${String(thrown)}`);
    await assertNoLeaks();
  });

  void test('reschedule after the scope finished throws InvalidStateError (test_timeout_finished)', async () => {
    let scope: Scope | undefined;
    await timeout(10, async (_signal, s) => {
      scope = s;
    });
    const loop = getRunningLoop();
    assert.throws(() => scope!.reschedule(loop.time() + 20), InvalidStateError);
    await assertNoLeaks();
  });
});

void describe('timeout: bad input', () => {
  for (const bad of [NaN, -Infinity]) {
    void test(`timeout(${bad}) is a RangeError and the body does not run`, async () => {
      let ran = false;
      await assert.rejects(
        async () =>
          timeout(bad, async () => {
            ran = true;
          }),
        RangeError,
      );
      assert.equal(ran, false);
      await assertNoLeaks();
    });
  }

  void test('timeoutAt(NaN) is a RangeError', async () => {
    let ran = false;
    await assert.rejects(
      async () =>
        timeoutAt(NaN, async () => {
          ran = true;
        }),
      RangeError,
    );
    assert.equal(ran, false);
    await assertNoLeaks();
  });

  for (const body of [undefined, null, 42, 'body', {}]) {
    void test(`a non-function body (${JSON.stringify(body) ?? 'undefined'}) is a TypeError`, async () => {
      await assert.rejects(async () => timeout(10, body as never), TypeError);
      await assert.rejects(async () => timeoutAt(getRunningLoop().time() + 10, body as never), TypeError);
      await assertNoLeaks();
    });
  }
});
