// Behaviour tests for `take` (src/take.ts). The rule every iterable helper
// follows (src/_reader.ts): work started for an iteration belongs to it.
// Leaving a `for await` early, a failure, or the signal aborting cancels the
// work in flight, waits until it stopped, and closes the source. Timing is
// kept tolerant: the suite runs on a shared, noisy machine.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { take, toArray } from '../src/index.ts';
import { rejection } from './_helpers.ts';
import { newLog, counting, countingSync, closedSoon, firstPullError } from './_iterables.ts';

void describe('take', () => {
  void test('yields the first n items, then closes the source without pulling more', async () => {
    const log = newLog();
    assert.deepEqual(await toArray(take(counting(null, log), 3)), [0, 1, 2]);
    assert.equal(log.pulled, 3);
    await closedSoon(log);
    const slog = newLog();
    assert.deepEqual(await toArray(take(countingSync(100, slog), 2)), [0, 1]);
    assert.equal(slog.pulled, 2);
    await closedSoon(slog);
  });

  void test('a shorter source yields everything', async () => {
    assert.deepEqual(await toArray(take([1, 2], 5)), [1, 2]);
    assert.deepEqual(await toArray(take([], 5)), []);
  });

  void test('take(0) yields nothing and pulls nothing', async () => {
    const log = newLog();
    assert.deepEqual(await toArray(take(counting(null, log), 0)), []);
    assert.equal(log.pulled, 0);
  });

  void test('leaving the loop early closes the source', async () => {
    const log = newLog();
    for await (const x of take(counting(null, log), 10)) {
      if (x === 1) break;
    }
    await closedSoon(log);
    assert.equal(log.pulled, 2);
  });

  void test('a source error propagates', async () => {
    const boom = new Error('boom');
    async function* bad(): AsyncGenerator<number> {
      yield 1;
      throw boom;
    }
    assert.equal(await rejection(toArray(take(bad(), 5))), boom);
  });

  void test('a negative or NaN n is a RangeError', async () => {
    for (const n of [-1, NaN]) {
      const err = await firstPullError(() => take([1], n));
      assert.ok(err instanceof RangeError, `n ${n}: got ${String(err)}`);
    }
  });
});
