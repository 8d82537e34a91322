// Behaviour tests for shield (SPEC "Running and waiting", "Details": shield
// returns a Future; cancelling it, or the wait on it, cancels only the outer
// future; the inner task or future runs on; a done input gives its result at
// once). Ported where they apply from CPython 3.13
// Lib/test/test_asyncio/test_tasks.py (test_shield_*, test_gather_shield).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  Future,
  Task,
  createTask,
  getRunningLoop,
  sleep,
  gather,
  shield,
  waitFor,
  CancelledError,
  TimeoutError,
} from '../src/index.ts';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';

/** The loop's clock: virtual inside `runVirtual`. */
const clock = (): number => getRunningLoop().time();

/** One full turn of the Node event loop. */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A task that sleeps `ms` (no signal: it runs to its end), then returns `value`. */
function worker<T>(ms: number, value: T): Task<T> {
  return createTask(async () => sleep(ms, value));
}

void describe('shield: results pass through', () => {
  void test('returns a Future that gets the inner result (test_shield_result)', async () => {
    const inner = new Future<number>();
    const outer = shield(inner);
    assert.ok(outer instanceof Future);
    inner.setResult(42);
    assert.equal(await outer, 42);
  });

  void test('the inner exception passes through, the same object (test_shield_exception)', async () => {
    const inner = new Future<number>();
    const outer = shield(inner);
    await turn();
    const exc = new RangeError('expected');
    inner.setException(exc);
    assert.equal(await rejection(outer), exc);
    assert.equal(outer.exception(), exc);
    assert.equal(outer.cancelled(), false);
  });

  void test('a failing inner task: the error passes through', async () => {
    const exc = new Error('task failed');
    const inner = createTask(async () => {
      await sleep(2);
      throw exc;
    });
    assert.equal(await rejection(shield(inner)), exc);
  });

  void test('a shielded task gives its result', async () => {
    assert.equal(await shield(worker(5, 'w')), 'w');
  });

  void test('a plain promise can be shielded', async () => {
    assert.equal(await shield(sleep(2, 'p')), 'p');
  });

  void test('a done future gives its result at once (test_shield_shortcut)', async () => {
    const fut = new Future<number>();
    fut.setResult(42);
    const outer = shield(fut);
    assert.equal(outer.done(), true, 'a done input must give a done outer future synchronously');
    assert.equal(outer.result(), 42);
    assert.equal(await outer, 42);
  });

  void test('a done task gives its result at once', async () => {
    const t = createTask(async () => 'done');
    await t;
    const outer = shield(t);
    assert.equal(outer.done(), true);
    assert.equal(outer.result(), 'done');
  });

  void test('a failed done future gives its error at once', async () => {
    const exc = new Error('already failed');
    const fut = new Future<number>();
    fut.setException(exc);
    const outer = shield(fut);
    assert.equal(outer.done(), true);
    assert.equal(outer.exception(), exc);
    assert.equal(await rejection(outer), exc);
  });

  void test('cancelling the inner future cancels the outer (test_shield_cancel_inner)', async () => {
    const inner = new Future<number>();
    const outer = shield(inner);
    await turn();
    inner.cancel();
    await turn();
    assert.equal(outer.cancelled(), true);
    const e = await rejection(outer);
    assert.ok(e instanceof CancelledError);
    await assertNoLeaks();
  });

  void test('cancelling the inner task cancels the outer', async () => {
    const inner = createTask(async (signal) => {
      await sleep(10_000, undefined, { signal });
    });
    const outer = shield(inner);
    await sleep(1);
    inner.cancel();
    await rejection(inner);
    await turn();
    assert.equal(outer.cancelled(), true);
    await assertNoLeaks();
  });
});

void describe('shield: protection', () => {
  void test('cancelling the outer future leaves the inner future alone (test_shield_cancel_outer)', async () => {
    const inner = new Future<number>();
    const outer = shield(inner);
    await turn();
    assert.equal(outer.cancel(), true);
    await turn();
    assert.equal(outer.cancelled(), true);
    assert.equal(inner.cancelled(), false);
    assert.equal(inner.done(), false);
    inner.setResult(1);
    await turn();
    assert.equal(outer.cancelled(), true, 'the outer future stays cancelled');
    assert.equal(inner.result(), 1);
    await assertNoLeaks();
  });

  void test('cancelling the outer future: the inner task keeps running and completes (virtual time)', async () => {
    await runVirtual(async () => {
      const t0 = clock();
      const inner = createTask(async (signal) => {
        await sleep(150, undefined, { signal });
        return 'finished';
      });
      const outer = shield(inner);
      await sleep(1);
      outer.cancel('outer only');
      const e = await rejection(outer);
      assert.ok(e instanceof CancelledError);
      assert.equal((e as Error).message, 'outer only');
      assert.equal(clock() - t0, 1, 'the outer future was cancelled at once');
      assert.equal(inner.done(), false);
      assert.equal(inner.cancelling(), 0);
      assert.equal(inner.signal.aborted, false);
      assert.equal(await inner, 'finished');
      assert.equal(inner.cancelled(), false);
      assert.equal(clock() - t0, 150, 'the inner task ran its full time');
    });
    await assertNoLeaks();
  });

  void test('the inner failing after the outer was cancelled causes no unhandled rejection', async () => {
    const seen: unknown[] = [];
    const on = (e: unknown) => seen.push(e);
    process.on('unhandledRejection', on);
    try {
      const exc = new Error('late failure');
      const inner = createTask(async () => {
        await sleep(5);
        throw exc;
      });
      const outer = shield(inner);
      outer.cancel();
      assert.equal(await rejection(inner), exc);
      await turn();
      await turn();
    } finally {
      process.off('unhandledRejection', on);
    }
    assert.deepEqual(seen, []);
    await assertNoLeaks();
  });

  void test('waitFor(shield(task), ms) times out but the task runs on (virtual time)', async () => {
    await runVirtual(async () => {
      const save = worker(200, 'saved');
      const start = clock();
      const e = await rejection(waitFor(shield(save), 10));
      assert.ok(e instanceof TimeoutError, `got ${String(e)}`);
      assert.equal(clock() - start, 10);
      assert.equal(save.done(), false, 'waitFor must not wait for the shielded task');
      assert.equal(save.cancelled(), false);
      assert.equal(save.cancelling(), 0);
      assert.equal(await save, 'saved');
      assert.equal(clock() - start, 200);
    });
    await assertNoLeaks();
  });

  void test('waitFor(shield(task), ms) with a task that takes a signal: its signal is never aborted', async () => {
    let aborted = false;
    const inner = createTask(async (signal) => {
      await sleep(30, undefined, { signal });
      aborted = signal.aborted;
      return 'ok';
    });
    const e = await rejection(waitFor(shield(inner), 5));
    assert.ok(e instanceof TimeoutError, `got ${String(e)}`);
    assert.equal(await inner, 'ok');
    assert.equal(aborted, false);
    await assertNoLeaks();
  });

  void test('waitFor(shield(task), ms) with enough time gives the result', async () => {
    assert.equal(await waitFor(shield(worker(2, 'quick')), 1000), 'quick');
    await assertNoLeaks();
  });

  void test('cancelling the task that awaits a shield leaves the inner work running (test_shield_effect)', async () => {
    let proof = 0;
    const waiter = new Future<void>();
    const inner = createTask(async () => {
      await waiter;
      proof += 1;
    });
    const outerTask = createTask(async (signal) => {
      await gather([shield(inner)], { signal });
      proof += 100;
    });
    await sleep(1);
    outerTask.cancel();
    const e = await rejection(outerTask);
    assert.ok(e instanceof CancelledError);
    waiter.setResult();
    await inner;
    assert.equal(proof, 1);
    await assertNoLeaks();
  });

  void test('a cancelled gather cancels the shields, not the children (test_gather_shield)', async () => {
    const ac = new AbortController();
    const child1 = new Future<number>();
    const child2 = new Future<number>();
    const inner1 = shield(child1);
    const inner2 = shield(child2);
    const parent = gather([inner1, inner2], { signal: ac.signal });
    await turn();
    ac.abort();
    const e = await rejection(parent);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal(inner1.cancelled(), true);
    assert.equal(inner2.cancelled(), true);
    assert.equal(child1.cancelled(), false);
    assert.equal(child2.cancelled(), false);
    child1.setResult(1);
    child2.setResult(2);
    await turn();
    assert.equal(child1.result(), 1);
    await assertNoLeaks();
  });

  void test('shielding a gather: cancelling the outer leaves the gather running (test_shield_gather)', async () => {
    const child1 = new Future<number>();
    const child2 = new Future<number>();
    const parent = gather([child1, child2]);
    const outer = shield(parent);
    await turn();
    outer.cancel();
    await turn();
    assert.equal(outer.cancelled(), true);
    child1.setResult(1);
    child2.setResult(2);
    assert.deepEqual(await parent, [1, 2]);
    await assertNoLeaks();
  });

  void test('a shielded body runs as a task that the outer cancellation does not reach', async () => {
    let finished = false;
    const outer = shield(async (signal: AbortSignal) => {
      await sleep(15, undefined, { signal });
      finished = true;
      return 'body';
    });
    await sleep(1);
    outer.cancel();
    await rejection(outer);
    await sleep(30);
    assert.equal(finished, true);
    await assertNoLeaks();
  });
});
