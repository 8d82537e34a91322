// Behaviour tests for `merge` (src/merge.ts). The rule every iterable helper
// follows (src/_reader.ts): work started for an iteration belongs to it.
// Leaving a `for await` early, a failure, or the signal aborting cancels the
// work in flight, waits until it stopped, and closes the source. Timing is
// kept tolerant: the suite runs on a shared, noisy machine.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getRunningLoop, merge, sleep, toArray } from '../src/index.ts';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';
import { turns, newLog, counting, gate, closedSoon, deferred, firstPullError } from './_iterables.ts';

void describe('merge', () => {
  void test('interleaves items by arrival and ends when every source ended', async () => {
    // Gates released by the consumer fix the arrival order: a0, b0, a1, b1.
    const gA = deferred();
    const gB = deferred();
    const gB2 = deferred();
    async function* a(): AsyncGenerator<string> {
      yield 'a0';
      await gA.promise;
      yield 'a1';
    }
    async function* b(): AsyncGenerator<string> {
      await gB.promise;
      yield 'b0';
      await gB2.promise;
      yield 'b1';
    }
    const out: string[] = [];
    for await (const x of merge(a(), b())) {
      out.push(x);
      if (x === 'a0') gB.resolve();
      if (x === 'b0') gA.resolve();
      if (x === 'a1') gB2.resolve();
    }
    assert.deepEqual(out, ['a0', 'b0', 'a1', 'b1']);
  });

  void test('a fast source is not held back by a slow one (virtual time)', async () => {
    const out = await runVirtual(async () => {
      const loop = getRunningLoop();
      const t0 = loop.time();
      async function* every(ms: number, label: string, n: number): AsyncGenerator<string> {
        for (let i = 0; i < n; i++) {
          await sleep(ms);
          yield `${label}${i}`;
        }
      }
      const out: string[] = [];
      for await (const item of merge(every(2, 'fast', 3), every(300, 'slow', 1))) {
        out.push(`${item} at ${loop.time() - t0}`);
      }
      return out;
    });
    assert.deepEqual(out, ['fast0 at 2', 'fast1 at 4', 'fast2 at 6', 'slow0 at 300']);
    await assertNoLeaks();
  });

  void test('sync and async sources mix; each keeps its own order', async () => {
    const out = await toArray(
      merge<number | string>([1, 2, 3], counting(['x', 'y'], newLog()), new Set([9])),
    );
    assert.equal(out.length, 6);
    assert.deepEqual(
      out.filter((x) => typeof x === 'number' && x < 9),
      [1, 2, 3],
    );
    assert.deepEqual(
      out.filter((x) => typeof x === 'string'),
      ['x', 'y'],
    );
    assert.ok(out.includes(9));
  });

  void test('no sources: ends at once', async () => {
    assert.deepEqual(await toArray(merge()), []);
  });

  void test('an error in one source ends the merge and closes the others', async () => {
    const boom = new Error('boom');
    const log = newLog();
    // eslint-disable-next-line require-yield -- a source that fails before its first item
    async function* bad(): AsyncGenerator<number> {
      await sleep(20);
      throw boom;
    }
    const err = await rejection(toArray(merge<number>(counting(null, log, 5), bad())));
    assert.equal(err, boom);
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('an error ends the merge promptly even while another source waits', async () => {
    const boom = new Error('boom');
    const g = gate(600);
    const log = newLog();
    async function* waiting(): AsyncGenerator<number> {
      try {
        await g.promise;
        yield 1;
      } finally {
        log.closed = true;
      }
    }
    // eslint-disable-next-line require-yield -- a source that fails before its first item
    async function* bad(): AsyncGenerator<number> {
      await sleep(10);
      throw boom;
    }
    const t0 = performance.now();
    const err = await rejection(toArray(merge<number>(waiting(), bad())));
    const elapsed = since(t0);
    g.release();
    assert.equal(err, boom);
    assert.ok(elapsed < 400, `the error came after ${elapsed.toFixed(0)} ms, when the other source yielded`);
    await turns();
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('leaving the loop early closes every source', async () => {
    const logs = [newLog(), newLog()];
    for await (const x of merge<number>(counting(null, logs[0]!, 3), counting(null, logs[1]!, 5), [7, 8])) {
      void x;
      break;
    }
    await closedSoon(logs[0]!);
    await closedSoon(logs[1]!);
    await assertNoLeaks();
  });

  void test('leaving the loop early does not wait for a source that is waiting for its next item', async () => {
    const g = gate(600);
    const log = newLog();
    async function* waiting(): AsyncGenerator<number> {
      try {
        await g.promise;
        yield 100;
      } finally {
        log.closed = true;
      }
    }
    const t0 = performance.now();
    for await (const x of merge([1, 2], waiting())) {
      assert.equal(x, 1);
      break;
    }
    const elapsed = since(t0);
    g.release();
    assert.ok(elapsed < 400, `break took ${elapsed.toFixed(0)} ms: it waited for the stuck source`);
    await turns();
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('a source that is not iterable is a TypeError', async () => {
    const err = await firstPullError(() => merge([1], 3 as unknown as number[]));
    assert.ok(err instanceof TypeError, `got ${String(err)}`);
  });
});
