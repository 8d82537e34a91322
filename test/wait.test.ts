// Behaviour tests for wait (SPEC "Running and waiting"; design.md
// "Combinators": wait never cancels and never rejects for a child's failure;
// aborting its signal rejects the wait itself). Ported where they apply from
// CPython 3.13 Lib/test/test_asyncio/test_tasks.py (test_wait*).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import {
  Future,
  Task,
  createTask,
  getRunningLoop,
  sleep,
  wait,
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  CancelledError,
} from '../src/index.ts';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';

/** The loop's clock: virtual inside `runVirtual`. */
const clock = (): number => getRunningLoop().time();

/** What `fn()` rejected or threw with (a synchronous throw counts too). */
async function failure(fn: () => unknown): Promise<unknown> {
  return rejection((async () => fn())());
}

/** A task that sleeps `ms` on its signal (so it can be cancelled), then returns `value`. */
function sleeper<T>(ms: number, value: T): Task<T> {
  return createTask(async (signal) => sleep(ms, value, { signal }));
}

/** A task that sleeps `ms` on its signal, then throws `err`. */
function failer(ms: number, err: Error): Task<never> {
  return createTask(async (signal) => {
    await sleep(ms, undefined, { signal });
    throw err;
  });
}

/** Cancels the tasks and waits until all are done. */
async function cancelAll(tasks: Iterable<Future<unknown>>): Promise<void> {
  const list = [...tasks];
  for (const t of list) t.cancel();
  if (list.length > 0) await wait(list);
}

void describe('wait: return conditions', () => {
  void test('exported constants', () => {
    assert.notEqual(ALL_COMPLETED, FIRST_COMPLETED);
    assert.notEqual(FIRST_COMPLETED, FIRST_EXCEPTION);
    assert.notEqual(ALL_COMPLETED, FIRST_EXCEPTION);
  });

  void test('ALL_COMPLETED is the default: waits for every task (test_wait)', async () => {
    const a = sleeper(10, 'a');
    const b = sleeper(15, 'b');
    const start = performance.now();
    const { done, pending } = await wait([b, a]);
    const took = since(start);
    assert.ok(done instanceof Set);
    assert.ok(pending instanceof Set);
    assert.deepEqual(done, new Set([a, b]));
    assert.equal(pending.size, 0);
    assert.ok(took >= 14, `took ${took}`);
    assert.ok(took < 1000, `took ${took}`);
    // Doing it again takes no time and exercises the already-done path.
    const again = await wait([b, a], { returnWhen: ALL_COMPLETED });
    assert.deepEqual(again.done, new Set([a, b]));
    assert.equal(again.pending.size, 0);
  });

  void test('FIRST_COMPLETED returns at the first completion; then cancel the rest, as in the seed (virtual time)', async () => {
    await runVirtual(async () => {
      const tasks = [30, 10, 20].map((n) => sleeper(n * 10, n));
      const start = clock();
      const { done, pending } = await wait(tasks, { returnWhen: FIRST_COMPLETED });
      assert.equal(clock() - start, 100);
      assert.equal(done.size, 1);
      const [first] = done;
      assert.equal(first, tasks[1]);
      assert.equal(first!.result(), 10);
      assert.deepEqual(pending, new Set([tasks[0], tasks[2]]));
      for (const t of pending) {
        assert.equal(t.done(), false);
        assert.equal(t.cancelled(), false);
        t.cancel();
      }
      const rest = await wait(pending);
      assert.equal(rest.pending.size, 0);
      for (const t of pending) assert.equal(t.cancelled(), true);
      assert.equal(clock() - start, 100, 'the cancelled ones ended at once');
    });
    await assertNoLeaks();
  });

  void test('FIRST_COMPLETED with a task already done returns at once, with every done task (test_wait_really_done)', async () => {
    const a = createTask(async () => 'a');
    const b = createTask(async () => 'b');
    await a;
    await b;
    const c = sleeper(10_000, 'c');
    const { done, pending } = await wait([a, b, c], { returnWhen: FIRST_COMPLETED });
    assert.deepEqual(done, new Set([a, b]));
    assert.deepEqual(pending, new Set([c]));
    await cancelAll([c]);
    await assertNoLeaks();
  });

  void test('FIRST_COMPLETED counts a failure as a completion', async () => {
    const err = new Error('boom');
    const a = sleeper(10_000, 'a');
    const b = failer(2, err);
    const { done, pending } = await wait([a, b], { returnWhen: FIRST_COMPLETED });
    assert.deepEqual(done, new Set([b]));
    assert.deepEqual(pending, new Set([a]));
    assert.equal(b.exception(), err);
    await cancelAll([a]);
    await assertNoLeaks();
  });

  void test('FIRST_EXCEPTION with a task that already failed (test_wait_first_exception)', async () => {
    const a = sleeper(10_000, 'a');
    const b = createTask(async () => {
      throw new RangeError('err');
    });
    const start = performance.now();
    const { done, pending } = await wait([b, a], { returnWhen: FIRST_EXCEPTION });
    assert.ok(since(start) < 1000);
    assert.deepEqual(done, new Set([b]));
    assert.deepEqual(pending, new Set([a]));
    assert.ok(b.exception() instanceof RangeError);
    await cancelAll([a]);
    await assertNoLeaks();
  });

  void test('FIRST_EXCEPTION with a failure during the wait (test_wait_first_exception_in_wait)', async () => {
    const a = sleeper(10_000, 'a');
    const b = failer(10, new RangeError('err'));
    const start = performance.now();
    const { done, pending } = await wait([b, a], { returnWhen: FIRST_EXCEPTION });
    const took = since(start);
    assert.ok(took >= 9, `took ${took}`);
    assert.deepEqual(done, new Set([b]));
    assert.deepEqual(pending, new Set([a]));
    assert.ok(b.exception() instanceof RangeError); // read: wait() does not read it (as in asyncio)
    await cancelAll([a]);
    await assertNoLeaks();
  });

  void test('FIRST_EXCEPTION keeps waiting past successes', async () => {
    const ok = sleeper(2, 'ok');
    const bad = failer(15, new Error('bad'));
    const slow = sleeper(10_000, 'slow');
    const { done, pending } = await wait([ok, bad, slow], { returnWhen: FIRST_EXCEPTION });
    assert.deepEqual(done, new Set([ok, bad]));
    assert.deepEqual(pending, new Set([slow]));
    assert.equal((bad.exception() as Error).message, 'bad');
    await cancelAll([slow]);
    await assertNoLeaks();
  });

  void test('FIRST_EXCEPTION with no failure waits for all', async () => {
    const a = sleeper(2, 'a');
    const b = sleeper(10, 'b');
    const { done, pending } = await wait([a, b], { returnWhen: FIRST_EXCEPTION });
    assert.deepEqual(done, new Set([a, b]));
    assert.equal(pending.size, 0);
  });

  void test('FIRST_EXCEPTION: a cancelled task is not an exception', async () => {
    const c = sleeper(10_000, 'c');
    const d = sleeper(20, 'd');
    c.cancel();
    const { done, pending } = await wait([c, d], { returnWhen: FIRST_EXCEPTION });
    assert.deepEqual(done, new Set([c, d]));
    assert.equal(pending.size, 0);
    assert.equal(c.cancelled(), true);
    await assertNoLeaks();
  });

  void test('works with futures', async () => {
    const f1 = new Future<number>();
    const f2 = new Future<number>();
    setImmediate(() => f1.setResult(1));
    const { done, pending } = await wait([f1, f2], { returnWhen: FIRST_COMPLETED });
    assert.deepEqual(done, new Set([f1]));
    assert.deepEqual(pending, new Set([f2]));
    f2.cancel();
    await assertNoLeaks();
  });

  void test('bodies and promises become futures in the result sets', async () => {
    const { done, pending } = await wait([async () => 'body', Promise.resolve('promise')]);
    assert.equal(pending.size, 0);
    assert.equal(done.size, 2);
    for (const f of done) assert.ok(f instanceof Future);
    assert.ok([...done].some((f) => f instanceof Task));
    assert.deepEqual(new Set([...done].map((f) => f.result())), new Set(['body', 'promise']));
  });

  void test('duplicate tasks collapse (test_wait_duplicate_coroutines)', async () => {
    const c = createTask(async () => 'test');
    const d = createTask(async () => 'spam');
    const { done, pending } = await wait([c, c, d]);
    assert.equal(pending.size, 0);
    assert.equal(done.size, 2);
    assert.deepEqual(new Set([...done].map((f) => f.result())), new Set(['test', 'spam']));
  });
});

void describe('wait: never rejects, never cancels', () => {
  void test('a failing task does not reject the wait (test_wait_with_exception)', async () => {
    const a = sleeper(10, 'a');
    const b = failer(15, new RangeError('really'));
    const { done, pending } = await wait([b, a]);
    assert.equal(done.size, 2);
    assert.equal(pending.size, 0);
    const errors = [...done].filter((f) => f.exception() != null);
    assert.equal(errors.length, 1);
    assert.equal(errors[0], b);
    // again, on done tasks
    const again = await wait([b, a]);
    assert.equal(again.done.size, 2);
  });

  void test('a cancelled task does not reject the wait', async () => {
    const a = sleeper(10_000, 'a');
    a.cancel('x');
    const { done } = await wait([a]);
    assert.deepEqual(done, new Set([a]));
    assert.equal(a.cancelled(), true);
    await assertNoLeaks();
  });

  void test('timeout leaves pending ones pending and not cancelled (test_wait_with_timeout) (virtual time)', async () => {
    await runVirtual(async () => {
      const a = sleeper(10, 'a');
      const b = sleeper(300, 'b');
      const start = clock();
      const { done, pending } = await wait([b, a], { timeout: 40 });
      assert.equal(clock() - start, 40);
      assert.deepEqual(done, new Set([a]));
      assert.deepEqual(pending, new Set([b]));
      assert.equal(b.done(), false);
      assert.equal(b.cancelled(), false);
      assert.equal(b.cancelling(), 0);
      // b runs on to its end.
      assert.equal(await b, 'b');
      assert.equal(clock() - start, 300);
    });
    await assertNoLeaks();
  });

  void test('timeout with nothing done gives an empty done set', async () => {
    const a = sleeper(10_000, 'a');
    const { done, pending } = await wait([a], { timeout: 5 });
    assert.equal(done.size, 0);
    assert.deepEqual(pending, new Set([a]));
    await cancelAll([a]);
    await assertNoLeaks();
  });

  void test('when everything finishes before the timeout, the wait returns early and leaves no timer', async () => {
    const a = sleeper(5, 'a');
    const start = performance.now();
    const { done, pending } = await wait([a], { timeout: 5000 });
    assert.ok(since(start) < 1000);
    assert.deepEqual(done, new Set([a]));
    assert.equal(pending.size, 0);
    await assertNoLeaks();
  });

  void test('timeout 0 returns at once with what is done now (test_wait_concurrent_complete)', async () => {
    const a = createTask(async () => 'a');
    await a;
    const b = sleeper(10_000, 'b');
    const { done, pending } = await wait([a, b], { timeout: 0 });
    assert.deepEqual(done, new Set([a]));
    assert.deepEqual(pending, new Set([b]));
    await cancelAll([b]);
    await assertNoLeaks();
  });

  void test('aborting its signal rejects the wait with CancelledError but leaves the tasks running (virtual time)', async () => {
    await runVirtual(async () => {
      const ac = new AbortController();
      const start = clock();
      const a = sleeper(100, 'a');
      const b = sleeper(120, 'b');
      const w = wait([a, b], { signal: ac.signal });
      await sleep(2);
      const reason = new Error('enough');
      ac.abort(reason);
      const e = await rejection(w);
      assert.ok(e instanceof CancelledError, `got ${String(e)}`);
      assert.equal((e as Error).cause, reason);
      assert.equal(clock() - start, 2, 'the wait rejected when its signal aborted');
      assert.equal(a.done(), false);
      assert.equal(a.cancelled(), false);
      assert.equal(b.cancelling(), 0);
      assert.equal(await a, 'a');
      assert.equal(clock() - start, 100);
      assert.equal(await b, 'b');
      assert.equal(clock() - start, 120);
    });
    await assertNoLeaks();
  });

  void test('a pre-aborted signal rejects at once and cancels nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    const a = sleeper(5, 'a');
    const e = await rejection(wait([a], { signal: ac.signal, timeout: 1000 }));
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal(await a, 'a');
    await assertNoLeaks();
  });

  void test('cancelling the task that waits leaves the inner task running (test_yield_wait_does_not_shield_cancel)', async () => {
    let proof = 0;
    const waiter = new Future<void>();
    const inner = createTask(async () => {
      await waiter;
      proof += 1;
    });
    const outer = createTask(async (signal) => {
      await wait([inner], { signal });
      proof += 100;
    });
    await sleep(1);
    outer.cancel();
    const e = await rejection(outer);
    assert.ok(e instanceof CancelledError);
    assert.equal(outer.cancelled(), true);
    waiter.setResult();
    await inner;
    assert.equal(proof, 1);
    await assertNoLeaks();
  });

  void test('the wait removes its listener from a long-lived signal when it ends', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 10; i++) await wait([sleeper(1, i)], { signal: ac.signal });
    await wait([sleeper(10_000, 0)], { signal: ac.signal, timeout: 1 }).then(({ pending }) =>
      cancelAll(pending),
    );
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    await assertNoLeaks();
  });
});

void describe('wait: bad arguments', () => {
  void test('an empty input is a RangeError (test_wait_errors)', async () => {
    const e = await failure(() => wait([]));
    assert.ok(e instanceof RangeError, `got ${String(e)}`);
    const e2 = await failure(() => wait(new Set() as never));
    assert.ok(e2 instanceof RangeError || e2 instanceof TypeError, `got ${String(e2)}`);
  });

  void test('a bad returnWhen is a RangeError', async () => {
    const a = sleeper(10_000, 'a');
    const e = await failure(() => wait([a], { returnWhen: -1 as never }));
    assert.ok(e instanceof RangeError, `got ${String(e)}`);
    const e2 = await failure(() => wait([a], { returnWhen: 'SOMETIMES' as never }));
    assert.ok(e2 instanceof RangeError, `got ${String(e2)}`);
    assert.equal(a.cancelled(), false, 'a bad call must not touch the tasks');
    await cancelAll([a]);
    await assertNoLeaks();
  });

  void test('a single future instead of a list is a TypeError (test_wait_invalid_args)', async () => {
    const f = new Future<number>();
    const e = await failure(() => wait(f as never));
    assert.ok(e instanceof TypeError, `got ${String(e)}`);
    const e2 = await failure(() => wait(42 as never));
    assert.ok(e2 instanceof TypeError, `got ${String(e2)}`);
    f.cancel();
  });

  void test('a NaN timeout is a RangeError', async () => {
    const a = sleeper(1, 'a');
    const e = await failure(() => wait([a], { timeout: NaN }));
    assert.ok(e instanceof RangeError, `got ${String(e)}`);
    await a;
    await assertNoLeaks();
  });
});
