// Behaviour tests for asCompleted (SPEC "Running and waiting", "Details":
// yields each distinct input once, as the done Future/Task, bodies become
// tasks first; TimeoutError when time runs out; a non-iterable is a
// TypeError). Ported where they apply from CPython 3.13
// Lib/test/test_asyncio/test_tasks.py (test_as_completed*).
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
  asCompleted,
  CancelledError,
  TimeoutError,
} from '../src/index.ts';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';

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

/**
 * The item `for await` gives. At run time asCompleted yields done Future/Task
 * objects, but TypeScript types a `for await` item as the awaited value of a
 * thenable, so the test casts it back (see the report: a typing gap).
 */
function asFut<T>(item: T): Future<T> {
  return item as unknown as Future<T>;
}

/** Cancels the tasks and waits until all are done. */
async function cancelAll(tasks: Iterable<Task<unknown>>): Promise<void> {
  const list = [...tasks];
  for (const t of list) t.cancel();
  if (list.length > 0) await wait(list);
}

void describe('asCompleted: order and identity', () => {
  void test('yields the done tasks in completion order (test_as_completed) (virtual time)', async () => {
    await runVirtual(async () => {
      const t0 = clock();
      const b = sleeper(60, 'b');
      const c = sleeper(150, 'c');
      const a = sleeper(2, 'a');
      const values: string[] = [];
      const yielded: unknown[] = [];
      for await (const item of asCompleted([b, c, a])) {
        const f = asFut(item);
        assert.equal(f.done(), true, 'asCompleted must yield done futures');
        yielded.push(f);
        values.push(`${await asFut(f)} at ${clock() - t0}`);
      }
      assert.deepEqual(values, ['a at 2', 'b at 60', 'c at 150']);
      assert.deepEqual(yielded, [a, b, c]);
    });
  });

  void test('futures settled out of order are yielded in settle order, as the same objects', async () => {
    const fs = [new Future<number>(), new Future<number>(), new Future<number>()];
    const settler = createTask(async () => {
      await sleep(1);
      fs[1]!.setResult(1);
      await sleep(1);
      fs[2]!.setResult(2);
      await sleep(1);
      fs[0]!.setResult(0);
    });
    const seen: unknown[] = [];
    for await (const f of asCompleted(fs)) seen.push(f);
    assert.deepEqual(seen, [fs[1], fs[2], fs[0]]);
    await settler;
  });

  void test('f.result() reads the value; a failed input is yielded (not thrown) and rethrows on read', async () => {
    const err = new RangeError('bad');
    const ok = sleeper(10, 'ok');
    const bad = createTask(async () => {
      await sleep(1);
      throw err;
    });
    const out: string[] = [];
    for await (const item of asCompleted([ok, bad])) {
      const f = asFut(item);
      try {
        out.push(f.result());
      } catch (e) {
        assert.equal(e, err);
        out.push('error');
      }
    }
    assert.deepEqual(out, ['error', 'ok']);
  });

  void test('a cancelled input is yielded as a cancelled task', async () => {
    const t = sleeper(10_000, 'x');
    const u = sleeper(5, 'u');
    t.cancel();
    const seen: Task<string>[] = [];
    for await (const item of asCompleted([t, u])) seen.push(asFut(item) as Task<string>);
    assert.equal(seen.length, 2);
    assert.equal(seen[0], t);
    assert.equal(t.cancelled(), true);
    assert.equal(seen[1], u);
    await assertNoLeaks();
  });

  void test('already done inputs are yielded', async () => {
    const t = createTask(async () => 1);
    await t;
    const f = new Future<number>();
    f.setResult(2);
    const seen: unknown[] = [];
    for await (const x of asCompleted([t, f])) seen.push(x);
    assert.equal(seen.length, 2);
    assert.deepEqual(new Set(seen), new Set([t, f]));
  });

  void test('duplicates collapse: each distinct input is yielded once (test_as_completed_duplicate_coroutines)', async () => {
    const ham = sleeper(2, 'ham');
    const spam = sleeper(4, 'spam');
    const result: string[] = [];
    for await (const f of asCompleted([ham, ham, spam, ham])) result.push(await asFut(f));
    assert.deepEqual(new Set(result), new Set(['ham', 'spam']));
    assert.equal(result.length, 2);
  });

  void test('bodies become tasks: the yielded items are Tasks holding the body results', async () => {
    const seen: unknown[] = [];
    let sig: unknown;
    for await (const item of asCompleted([
      async (signal: AbortSignal) => {
        sig = signal;
        await sleep(10, undefined, { signal });
        return 'slow';
      },
      async () => 'fast',
    ])) {
      const f = asFut(item);
      assert.ok(f instanceof Task, `yielded ${String(f)}`);
      seen.push(f.result());
    }
    assert.deepEqual(seen, ['fast', 'slow']);
    assert.ok(sig instanceof AbortSignal);
  });

  void test('plain promises are yielded as done futures, in completion order', async () => {
    const p1 = sleep(10, 'p1');
    const p2 = sleep(1, 'p2');
    const vals: string[] = [];
    for await (const item of asCompleted([p1, p2])) {
      const f = asFut(item);
      assert.equal(f.done(), true);
      vals.push(await f);
    }
    assert.deepEqual(vals, ['p2', 'p1']);
  });

  void test('accepts any iterable: a Set, a generator', async () => {
    const a = sleeper(1, 'a');
    const b = sleeper(3, 'b');
    const fromSet: string[] = [];
    for await (const f of asCompleted(new Set([b, a]))) fromSet.push(asFut(f).result());
    assert.deepEqual(fromSet, ['a', 'b']);
    function* gen() {
      yield a;
      yield b;
    }
    const fromGen: string[] = [];
    for await (const f of asCompleted(gen())) fromGen.push(asFut(f).result());
    assert.deepEqual(new Set(fromGen), new Set(['a', 'b']));
  });

  void test('an empty input yields nothing', async () => {
    let n = 0;
    for await (const _ of asCompleted([])) n++;
    assert.equal(n, 0);
    await assertNoLeaks();
  });
});

void describe('asCompleted: timeout', () => {
  void test('TimeoutError when time runs out; the unfinished input is left alone (test_as_completed_with_timeout) (virtual time)', async () => {
    await runVirtual(async () => {
      const a = sleeper(5, 'a');
      const b = sleeper(300, 'b');
      const values: string[] = [];
      const start = clock();
      let err: unknown;
      try {
        for await (const f of asCompleted([a, b], { timeout: 40 })) values.push(await asFut(f));
      } catch (e) {
        err = e;
      }
      assert.deepEqual(values, ['a']);
      assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
      assert.equal(clock() - start, 40);
      assert.equal(b.done(), false);
      assert.equal(b.cancelling(), 0);
      await cancelAll([b]);
    });
    await assertNoLeaks();
  });

  void test('an unused timeout leaves no timer behind (test_as_completed_with_unused_timeout)', async () => {
    const a = sleeper(5, 'a');
    for await (const f of asCompleted([a], { timeout: 5000 })) assert.equal(await asFut(f), 'a');
    await assertNoLeaks();
  });

  void test('timeout 0 with nothing done: TimeoutError before any item', async () => {
    const a = sleeper(10_000, 'a');
    let n = 0;
    const e = await failure(async () => {
      for await (const _ of asCompleted([a], { timeout: 0 })) n++;
    });
    assert.ok(e instanceof TimeoutError, `got ${String(e)}`);
    assert.equal(n, 0);
    await cancelAll([a]);
    await assertNoLeaks();
  });
});

void describe('asCompleted: leaving early, signals, bad input', () => {
  void test('leaving the loop early leaves no callback or timer behind, and cancels nothing', async () => {
    const a = sleeper(1, 'a');
    const b = sleeper(30, 'b');
    const c = new Future<string>();
    for await (const f of asCompleted([a, b, c], { timeout: 10_000 })) {
      assert.equal(f, a);
      break;
    }
    assert.equal(b.cancelled(), false);
    assert.equal(b.cancelling(), 0);
    assert.equal(c.cancelled(), false);
    assert.equal(await b, 'b');
    c.setResult('late');
    await assertNoLeaks();
  });

  void test('leaving early by a throw inside the loop body also cleans up', async () => {
    const a = sleeper(1, 'a');
    const b = sleeper(20, 'b');
    const boom = new Error('boom');
    const e = await failure(async () => {
      for await (const _ of asCompleted([a, b], { timeout: 10_000 })) throw boom;
    });
    assert.equal(e, boom);
    assert.equal(await b, 'b');
    await assertNoLeaks();
  });

  void test('a non-iterable argument is a TypeError', async () => {
    const e = await failure(async () => {
      for await (const _ of asCompleted(42 as never));
    });
    assert.ok(e instanceof TypeError, `got ${String(e)}`);
    const e2 = await failure(async () => {
      for await (const _ of asCompleted(null as never));
    });
    assert.ok(e2 instanceof TypeError, `got ${String(e2)}`);
  });

  void test('a single future instead of a list is a TypeError (test_as_completed_invalid_args)', async () => {
    const f = new Future<number>();
    const e = await failure(async () => {
      for await (const _ of asCompleted(f as never));
    });
    assert.ok(e instanceof TypeError, `got ${String(e)}`);
    f.cancel();
    await assertNoLeaks();
  });

  void test('aborting the signal rejects the iteration with CancelledError', async () => {
    const ac = new AbortController();
    const a = sleeper(1, 'a');
    const b = sleeper(10_000, 'b');
    const values: string[] = [];
    setTimeout(() => ac.abort(new CancelledError('stop')), 20);
    const e = await failure(async () => {
      for await (const f of asCompleted([a, b], { signal: ac.signal })) values.push(asFut(f).result());
    });
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal((e as Error).message, 'stop');
    assert.deepEqual(values, ['a']);
    await cancelAll([b]);
    await assertNoLeaks();
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
  });

  void test('a pre-aborted signal rejects the first step', async () => {
    const ac = new AbortController();
    ac.abort();
    const a = sleeper(1, 'a');
    let n = 0;
    const e = await failure(async () => {
      for await (const _ of asCompleted([a], { signal: ac.signal })) n++;
    });
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    assert.equal(n, 0);
    await wait([a]);
    await assertNoLeaks();
  });

  void test('a completed iteration removes its listener from a long-lived signal', async () => {
    const ac = new AbortController();
    for (let i = 0; i < 5; i++) {
      for await (const _ of asCompleted([sleeper(1, i), sleeper(2, i)], {
        signal: ac.signal,
        timeout: 1000,
      }));
    }
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    await assertNoLeaks();
  });
});
