// Behaviour tests for gather (SPEC "Running and waiting", "Details";
// design.md "Combinators"). Ported where they apply from CPython 3.13
// Lib/test/test_asyncio/test_tasks.py (GatherTestsBase, FutureGatherTests,
// CoroutineGatherTests, test_cancel_gather_*).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Future, Task, createTask, getRunningLoop, sleep, gather, CancelledError } from '../src/index.ts';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';

/** The loop's clock: virtual inside `runVirtual`. */
const clock = (): number => getRunningLoop().time();

/** One full turn of the Node event loop. */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** What `fn()` rejected or threw with (a synchronous throw counts too). */
async function failure(fn: () => unknown): Promise<unknown> {
  return rejection((async () => fn())());
}

/** A task that sleeps `ms` on its signal, then returns `value`. */
function sleeper<T>(ms: number, value: T): Task<T> {
  return createTask(async (signal) => sleep(ms, value, { signal }));
}

/** Collects unhandled rejections while `fn` runs (and two turns after). */
async function noUnhandled(fn: () => Promise<void>): Promise<void> {
  const seen: unknown[] = [];
  const on = (e: unknown) => seen.push(e);
  process.on('unhandledRejection', on);
  try {
    await fn();
    await turn();
    await turn();
  } finally {
    process.off('unhandledRejection', on);
  }
  assert.deepEqual(seen, [], 'unhandled rejections');
}

void describe('gather: results', () => {
  void test('results come in input order, not completion order', async () => {
    const res = await gather([sleeper(15, 'a'), sleeper(1, 'b'), sleeper(8, 'c')]);
    assert.deepEqual(res, ['a', 'b', 'c']);
  });

  void test('a mix of promises, tasks, futures and bodies, typed as a tuple', async () => {
    const fut = new Future<boolean>();
    const task = createTask(async () => 'task');
    setImmediate(() => fut.setResult(true));
    const [a, b, c, d] = await gather([
      Promise.resolve(1),
      task,
      fut,
      async (signal: AbortSignal) => {
        assert.ok(signal instanceof AbortSignal);
        return [signal.aborted];
      },
    ]);
    const n: number = a;
    const s: string = b;
    const bo: boolean = c;
    const arr: boolean[] = d;
    assert.equal(n, 1);
    assert.equal(s, 'task');
    assert.equal(bo, true);
    assert.deepEqual(arr, [false]);
  });

  void test('futures completed out of order (test_success)', async () => {
    const [a, b, c] = [new Future<number>(), new Future<number>(), new Future<number>()];
    let settled = false;
    const g = gather([a, b, c]).then((r) => {
      settled = true;
      return r;
    });
    b.setResult(1);
    a.setResult(2);
    await turn();
    assert.equal(settled, false);
    c.setResult(3);
    assert.deepEqual(await g, [2, 1, 3]);
  });

  void test('the same with returnExceptions (test_result_exception_success)', async () => {
    const [a, b, c] = [new Future<number>(), new Future<number>(), new Future<number>()];
    const g = gather([a, b, c], { returnExceptions: true });
    b.setResult(1);
    a.setResult(2);
    c.setResult(3);
    assert.deepEqual(await g, [2, 1, 3]);
  });

  void test('bodies become tasks and receive a signal', async () => {
    let sig: unknown;
    const res = await gather([
      async (signal: AbortSignal) => {
        sig = signal;
        await sleep(1, undefined, { signal });
        return 'x';
      },
    ]);
    assert.deepEqual(res, ['x']);
    assert.ok(sig instanceof AbortSignal);
  });

  void test('bodies start after gather returns (not synchronously inside it)', async () => {
    const log: string[] = [];
    const g = gather([
      async () => {
        log.push('body');
      },
    ]);
    log.push('after gather');
    await g;
    assert.deepEqual(log, ['after gather', 'body']);
  });

  void test('an empty array resolves to []', async () => {
    assert.deepEqual(await gather([]), []);
  });

  void test('duplicate inputs give their result at every position (test_duplicate_coroutines)', async () => {
    const t = sleeper(2, 'abc');
    const p = Promise.resolve('def');
    const f = new Future<string>();
    f.setResult('ghi');
    assert.deepEqual(await gather([t, t, p, t, f, f, p]), ['abc', 'abc', 'def', 'abc', 'ghi', 'ghi', 'def']);
  });

  void test('already done inputs', async () => {
    const t = createTask(async () => 1);
    await t;
    const f = new Future<number>();
    f.setResult(2);
    assert.deepEqual(await gather([t, f]), [1, 2]);
  });

  void test('children run concurrently (virtual time)', async () => {
    const { res, took } = await runVirtual(async () => {
      const start = clock();
      const res = await gather(
        [100, 100, 100, 100, 100].map((ms, i) => (signal: AbortSignal) => sleep(ms, i, { signal })),
      );
      return { res, took: clock() - start };
    });
    assert.deepEqual(res, [0, 1, 2, 3, 4]);
    assert.equal(took, 100, 'the children ran concurrently: the gather took the longest, not the sum');
  });

  void test('a non-array is a TypeError', async () => {
    const e = await failure(() => gather(42 as never));
    assert.ok(e instanceof TypeError, `got ${String(e)}`);
    const e2 = await failure(() => gather(Promise.resolve(1) as never));
    assert.ok(e2 instanceof TypeError, `got ${String(e2)}`);
  });
});

void describe('gather: failures', () => {
  void test('the first failure rejects the gather with that very error (test_one_exception)', async () => {
    const [a, b, c, d, e] = Array.from({ length: 5 }, () => new Future<number>());
    const g = gather([a!, b!, c!, d!, e!]);
    const exc = new RangeError('zero division');
    a!.setResult(1);
    b!.setException(exc);
    assert.equal(await rejection(g), exc);
    // Does nothing:
    c!.setResult(3);
    d!.cancel();
    e!.setException(new Error('later'));
    await turn();
    assert.equal(c!.cancelled(), false);
    await assertNoLeaks();
  });

  void test('first failure does not cancel the siblings: they still complete (virtual time)', async () => {
    await runVirtual(async () => {
      const start = clock();
      const exc = new Error('fast failure');
      const slowTask = sleeper(100, 'slow');
      let bodyFinishedAt = -1;
      const e = await rejection(
        gather([
          slowTask,
          async (signal: AbortSignal) => {
            await sleep(100, undefined, { signal });
            bodyFinishedAt = clock() - start;
            return 'body';
          },
          async () => {
            await sleep(2);
            throw exc;
          },
        ]),
      );
      assert.equal(e, exc);
      assert.equal(clock() - start, 2, 'the gather rejected at the first failure');
      assert.equal(
        slowTask.done(),
        false,
        'the gather should reject at the first failure, not wait for the others',
      );
      assert.equal(slowTask.cancelled(), false);
      assert.equal(await slowTask, 'slow');
      assert.equal(clock() - start, 100);
      await sleep(20);
      assert.equal(bodyFinishedAt, 100, 'the sibling body was cancelled or abandoned');
    });
    await assertNoLeaks();
  });

  void test('a second failure after the first causes no unhandled rejection', async () => {
    await noUnhandled(async () => {
      const first = new Error('first');
      const e = await rejection(
        gather([
          Promise.reject(first),
          sleep(5).then(() => {
            throw new Error('second');
          }),
          createTask(async () => {
            await sleep(5);
            throw new Error('third');
          }),
        ]),
      );
      assert.equal(e, first);
      await sleep(15);
    });
  });

  void test('returnExceptions puts errors in the results and waits for all (test_return_exceptions)', async () => {
    const [a, b, c, d] = Array.from({ length: 4 }, () => new Future<number>());
    let settled = false;
    const g = gather([a!, b!, c!, d!], { returnExceptions: true }).then((r) => {
      settled = true;
      return r;
    });
    const exc = new RangeError('zde');
    const exc2 = new Error('rte');
    b!.setResult(1);
    c!.setException(exc);
    a!.setResult(3);
    await turn();
    assert.equal(settled, false);
    d!.setException(exc2);
    const res = await g;
    assert.equal(res.length, 4);
    assert.equal(res[0], 3);
    assert.equal(res[1], 1);
    assert.equal(res[2], exc);
    assert.equal(res[3], exc2);
  });

  void test('returnExceptions with bodies and promises', async () => {
    const exc = new Error('body failed');
    const res = await gather(
      [
        async () => {
          throw exc;
        },
        Promise.reject(new TypeError('promise failed')),
        Promise.resolve('fine'),
      ],
      { returnExceptions: true },
    );
    assert.equal(res[0], exc);
    assert.ok(res[1] instanceof TypeError);
    assert.equal(res[2], 'fine');
  });

  void test('a child cancelled by someone else rejects the gather with CancelledError (test_one_cancellation)', async () => {
    const [a, b, c] = Array.from({ length: 3 }, () => new Future<number>());
    const g = gather([a!, b!, c!]);
    a!.setResult(1);
    b!.cancel();
    const e = await rejection(g);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    c!.setResult(3);
    await assertNoLeaks();
  });

  void test('with returnExceptions a cancelled child gives a CancelledError result (test_result_exception_one_cancellation)', async () => {
    const fs = Array.from({ length: 6 }, () => new Future<number>());
    const g = gather(fs, { returnExceptions: true });
    fs[0]!.setResult(1);
    const zde = new RangeError('zde');
    fs[1]!.setException(zde);
    fs[2]!.cancel();
    fs[3]!.setResult(3);
    fs[4]!.cancel();
    const rte = new Error('rte');
    fs[5]!.setException(rte);
    const res = await g;
    assert.ok(res[2] instanceof CancelledError);
    assert.ok(res[4] instanceof CancelledError);
    assert.equal(res[0], 1);
    assert.equal(res[1], zde);
    assert.equal(res[3], 3);
    assert.equal(res[5], rte);
    await assertNoLeaks();
  });

  void test('an error inside a body that awaited a failing inner promise surfaces (test_exception_marking)', async () => {
    const a = new Future<void>();
    const b = new Future<void>();
    const inner = async (f: Future<void>) => {
      await f;
      throw new Error('should not be ignored');
    };
    const outer = createTask(async () => {
      await gather([() => inner(a), () => inner(b)]);
    });
    await sleep(1);
    a.setResult();
    await sleep(1);
    b.setResult();
    const e = await rejection(outer);
    assert.ok(e instanceof Error);
    assert.equal((e as Error).message, 'should not be ignored');
  });
});

void describe('gather: cancellation', () => {
  void test('aborting the signal cancels every child task and future, waits, and rejects with CancelledError', async () => {
    const ac = new AbortController();
    const t1 = sleeper(10_000, 1);
    const fut = new Future<number>();
    let bodyCancelled = false;
    const g = gather(
      [
        t1,
        fut,
        async (signal: AbortSignal) => {
          try {
            await sleep(10_000, undefined, { signal });
          } catch (e) {
            bodyCancelled = e instanceof CancelledError;
            throw e;
          }
        },
      ],
      { signal: ac.signal },
    );
    await sleep(2);
    const reason = new Error('stop');
    ac.abort(reason);
    const e = await rejection(g);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal((e as Error).cause, reason);
    assert.equal(t1.cancelled(), true);
    assert.equal(fut.cancelled(), true);
    assert.equal(bodyCancelled, true);
    await assertNoLeaks();
  });

  void test('a task cancelled with a message while in gather: the gather and every child carry it (test_cancel_gather_2)', async () => {
    const child = sleeper(10_000, 1);
    const fut = new Future<number>();
    let bodyError: unknown;
    const body = async (signal: AbortSignal): Promise<void> => {
      try {
        await sleep(10_000, undefined, { signal });
      } catch (e) {
        bodyError = e;
        throw e;
      }
    };
    const outer = createTask(async (signal) =>
      gather([child, fut, body], { signal, returnExceptions: true }),
    );
    await sleep(2);
    outer.cancel('my message');
    const e = await rejection(outer);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal((e as Error).message, 'my message');
    assert.equal(outer.cancelled(), true);
    for (const [name, err] of [
      ['the task', await rejection(child)],
      ['the future', await rejection(fut)],
      ['the body', bodyError],
    ] as const) {
      assert.ok(err instanceof CancelledError, `${name}: got ${String(err)}`);
      assert.equal((err as Error).message, 'my message', `${name} carries the message`);
    }
    await assertNoLeaks();
  });

  void test('bodies that have not started never run when the gather is cancelled at once', async () => {
    const ac = new AbortController();
    let ran = 0;
    const g = gather(
      [
        async () => {
          ran++;
        },
        async (signal: AbortSignal) => {
          ran++;
          await sleep(10, undefined, { signal });
        },
      ],
      { signal: ac.signal },
    );
    ac.abort();
    const e = await rejection(g);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal(ran, 0);
    await assertNoLeaks();
  });

  void test('the gather waits for the children to finish cancelling before it rejects', async () => {
    const ac = new AbortController();
    let cleanedUp = false;
    const slowToCancel = createTask(async (signal) => {
      try {
        await sleep(10_000, undefined, { signal });
      } finally {
        await sleep(20);
        cleanedUp = true;
      }
    });
    const g = gather([slowToCancel, sleeper(10_000, 2)], { signal: ac.signal });
    await sleep(2);
    const start = performance.now();
    ac.abort();
    await rejection(g);
    assert.ok(since(start) >= 18, 'the gather rejected before its child finished');
    assert.equal(cleanedUp, true);
    assert.equal(slowToCancel.done(), true);
    assert.equal(slowToCancel.cancelled(), true);
    await assertNoLeaks();
  });

  void test('a child that ignores the cancellation and returns: the gather still rejects with CancelledError', async () => {
    const ac = new AbortController();
    const stubborn = createTask(async (signal) => {
      try {
        await sleep(10_000, undefined, { signal });
      } catch {
        // ignored
      }
      return 'stubborn';
    });
    const g = gather([stubborn], { signal: ac.signal });
    await sleep(1);
    ac.abort();
    const e = await rejection(g);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal(stubborn.result(), 'stubborn');
    await assertNoLeaks();
  });

  void test('a pre-aborted signal: rejects with CancelledError, bodies never run', async () => {
    const ac = new AbortController();
    const reason = new Error('already');
    ac.abort(reason);
    let ran = false;
    const e = await rejection(
      gather(
        [
          async () => {
            ran = true;
          },
        ],
        { signal: ac.signal },
      ),
    );
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal((e as Error).cause, reason);
    await turn();
    assert.equal(ran, false);
    await assertNoLeaks();
  });

  void test('a pre-aborted signal also cancels the child tasks and futures given to it', async () => {
    const ac = new AbortController();
    ac.abort();
    const t = sleeper(10_000, 1);
    const f = new Future<number>();
    const e = await rejection(gather([t, f], { signal: ac.signal }));
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    await wait0(t);
    assert.equal(t.cancelled(), true);
    assert.equal(f.cancelled(), true);
    await assertNoLeaks();
  });

  void test('returnExceptions does not swallow the cancellation of the gather itself', async () => {
    const ac = new AbortController();
    const g = gather([sleeper(10_000, 1)], { returnExceptions: true, signal: ac.signal });
    await sleep(1);
    ac.abort();
    const e = await rejection(g);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    await assertNoLeaks();
  });

  void test('cancelling the task that awaits the gather cancels all children (test_cancellation_broadcast)', async () => {
    let proof = 0;
    const inner = () =>
      createTask(async (signal) => {
        await sleep(10_000, undefined, { signal });
        proof += 1;
      });
    const child1 = inner();
    const child2 = inner();
    const outer = createTask(async (signal) => {
      await gather([child1, child2], { signal });
      proof += 100;
    });
    await sleep(1);
    assert.equal(outer.cancel('bye'), true);
    const e = await rejection(outer);
    assert.ok(e instanceof CancelledError);
    assert.equal((e as Error).message, 'bye');
    assert.equal(outer.cancelled(), true);
    assert.equal(child1.cancelled(), true);
    assert.equal(child2.cancelled(), true);
    await sleep(2);
    assert.equal(proof, 0);
    await assertNoLeaks();
  });

  void test('duplicate children are cancelled once and the gather still rejects', async () => {
    const ac = new AbortController();
    const t = sleeper(10_000, 1);
    const g = gather([t, t, t], { signal: ac.signal });
    await sleep(1);
    ac.abort();
    const e = await rejection(g);
    assert.ok(e instanceof CancelledError);
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });

  void test('the gather removes its listener from a long-lived signal when it ends', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 10; i++) {
      await gather([sleeper(1, i), Promise.resolve(i)], { signal: ac.signal });
    }
    await rejection(gather([Promise.reject(new Error('x'))], { signal: ac.signal }));
    await turn();
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  void test('a plain promise child cannot be cancelled; the gather still rejects promptly-ish with CancelledError', async () => {
    const ac = new AbortController();
    let resolveIt!: (v: number) => void;
    const p = new Promise<number>((r) => {
      resolveIt = r;
    });
    const g = gather([p, sleeper(10_000, 2)], { signal: ac.signal });
    await sleep(1);
    ac.abort();
    setTimeout(() => resolveIt(1), 5);
    const e = await rejection(g);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    await sleep(10);
    await assertNoLeaks();
  });
});

/** Waits until `t` is done, whatever its outcome. */
async function wait0(t: PromiseLike<unknown>): Promise<void> {
  try {
    await t;
  } catch {
    // outcome checked by the caller
  }
}
