// Behaviour tests for `buffer` (src/buffer.ts). The rule every iterable helper
// follows (src/_reader.ts): work started for an iteration belongs to it.
// Leaving a `for await` early, a failure, or the signal aborting cancels the
// work in flight, waits until it stopped, and closes the source. Timing is
// kept tolerant: the suite runs on a shared, noisy machine.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { buffer, sleep, toArray } from '../src/index.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';
import { turns, newLog, counting, countingSync, closedSoon, firstPullError } from './_iterables.ts';

void describe('buffer', () => {
  void test('passes every item through, in order', async () => {
    assert.deepEqual(await toArray(buffer([1, 2, 3], 2)), [1, 2, 3]);
    assert.deepEqual(await toArray(buffer(counting([1, 2, 3, 4, 5], newLog(), 1), 3)), [1, 2, 3, 4, 5]);
    assert.deepEqual(await toArray(buffer([], 3)), []);
  });

  void test('reads ahead up to `size` items while the consumer is busy, no more', async () => {
    const log = newLog();
    const size = 3;
    const it = buffer(counting(null, log), size);
    await turns();
    assert.equal(log.pulled, 0, 'nothing is read before the first next()');
    const first = await it.next();
    assert.equal(first.value, 0);
    await sleep(20); // a busy consumer
    assert.ok(log.pulled >= 2, `read ahead only ${log.pulled} item(s)`);
    assert.ok(log.pulled <= 1 + size, `read ahead ${log.pulled} items with size ${size}`);
    let consumed = 1;
    for (let i = 0; i < 5; i++) {
      const r = await it.next();
      assert.equal(r.value, consumed);
      consumed++;
      await sleep(5);
      assert.ok(log.pulled <= consumed + size, `pulled ${log.pulled} with ${consumed} consumed`);
    }
    await it.return(undefined);
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('leaving the loop early closes the source', async () => {
    const log = newLog();
    for await (const x of buffer(counting(null, log), 4)) {
      if (x === 2) break;
    }
    await closedSoon(log);
    const slog = newLog();
    for await (const x of buffer(countingSync(100, slog), 4)) {
      if (x === 1) break;
    }
    await closedSoon(slog);
    assert.ok(slog.pulled <= 2 + 4, `pulled ${slog.pulled}`);
    await assertNoLeaks();
  });

  void test('a source error arrives in order, after the items before it', async () => {
    const boom = new Error('boom');
    async function* bad(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      throw boom;
    }
    const out: number[] = [];
    const err = await rejection(
      (async () => {
        for await (const x of buffer(bad(), 5)) {
          out.push(x);
          await sleep(5);
        }
      })(),
    );
    assert.equal(err, boom);
    assert.deepEqual(out, [1, 2]);
    await assertNoLeaks();
  });

  void test('bad size is a RangeError; a bad source is a TypeError', async () => {
    for (const size of [0, -2, NaN]) {
      const err = await firstPullError(() => buffer([1], size));
      assert.ok(err instanceof RangeError, `size ${size}: got ${String(err)}`);
    }
    const err = await firstPullError(() => buffer(null as unknown as number[], 2));
    assert.ok(err instanceof TypeError, `got ${String(err)}`);
  });
});
