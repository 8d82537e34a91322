// Behaviour tests for `timeoutEach` (src/timeouteach.ts). The rule every
// iterable helper follows (src/_reader.ts): work started for an iteration
// belongs to it. Leaving a `for await` early, a failure, or the signal
// aborting cancels the work in flight, waits until it stopped, and closes the
// source. Timing is kept tolerant: the suite runs on a shared, noisy machine.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, TimeoutError, getRunningLoop, timeoutEach, toArray } from '../src/index.ts';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';
import { turns, newLog, counting, gate, closedSoon, firstPullError, stuckAfterOne } from './_iterables.ts';

void describe('timeoutEach', () => {
  void test('passes items that arrive in time', async () => {
    assert.deepEqual(await toArray(timeoutEach([1, 2, 3], 50)), [1, 2, 3]);
    const log = newLog();
    assert.deepEqual(await toArray(timeoutEach(counting([1, 2, 3], log, 5), 500)), [1, 2, 3]);
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('the limit is per item, not for the whole iteration (virtual time)', async () => {
    // 6 items 150 ms apart take 900 ms in all, each within 200 ms.
    const out = await runVirtual(async () => {
      const loop = getRunningLoop();
      const t0 = loop.time();
      const out: string[] = [];
      for await (const item of timeoutEach(counting([1, 2, 3, 4, 5, 6], newLog(), 150), 200)) {
        out.push(`${item} at ${loop.time() - t0}`);
      }
      return out;
    });
    assert.deepEqual(out, ['1 at 150', '2 at 300', '3 at 450', '4 at 600', '5 at 750', '6 at 900']);
    await assertNoLeaks();
  });

  void test('a late item fails with TimeoutError and the source is closed', async () => {
    let closed = false;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => {
        let i = 0;
        return {
          next: () =>
            i++ === 0
              ? Promise.resolve({ done: false, value: 1 })
              : new Promise<IteratorResult<number>>(() => {}),
          return: () => {
            closed = true;
            return Promise.resolve({ done: true, value: undefined });
          },
        };
      },
    };
    const out: number[] = [];
    const t0 = performance.now();
    const err = await rejection(
      (async () => {
        for await (const x of timeoutEach(source, 30)) out.push(x);
      })(),
    );
    const elapsed = since(t0);
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.deepEqual(out, [1]);
    assert.ok(elapsed >= 25 && elapsed < 1000, `took ${elapsed.toFixed(0)} ms`);
    assert.equal(closed, true);
    await assertNoLeaks();
  });

  void test('a late item from an async generator fails promptly, not when the item arrives', async () => {
    const g = gate(600);
    const log = newLog();
    const t0 = performance.now();
    const err = await rejection(toArray(timeoutEach(stuckAfterOne(g, log), 30)));
    const elapsed = since(t0);
    g.release();
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.ok(elapsed < 400, `TimeoutError after ${elapsed.toFixed(0)} ms with a 30 ms limit`);
    await turns();
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('leaving the loop early closes the source and leaves no timer', async () => {
    const log = newLog();
    for await (const x of timeoutEach(counting(null, log, 2), 1000)) {
      if (x === 2) break;
    }
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('the signal aborting throws CancelledError', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 15);
    const log = newLog();
    const err = await rejection(toArray(timeoutEach(counting(null, log, 5), 1000, { signal: ac.signal })));
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('bad ms is a RangeError', async () => {
    for (const ms of [-1, NaN, '5' as unknown as number]) {
      const err = await firstPullError(() => timeoutEach([1], ms));
      assert.ok(err instanceof RangeError, `ms ${String(ms)}: got ${String(err)}`);
    }
  });
});
