// Behaviour tests for `filter` (src/filter.ts). The rule every iterable helper
// follows (src/_reader.ts): work started for an iteration belongs to it.
// Leaving a `for await` early, a failure, or the signal aborting cancels the
// work in flight, waits until it stopped, and closes the source. Timing is
// kept tolerant: the suite runs on a shared, noisy machine.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, TimeoutError, filter, sleep, toArray } from '../src/index.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';
import { newLog, counting, closedSoon, firstPullError, Gauge, LONG } from './_iterables.ts';

void describe('filter', () => {
  void test('keeps the items whose predicate is truthy, in input order', async () => {
    const out = await toArray(
      filter([1, 2, 3, 4, 5, 6], (x, signal) => sleep(7 - x, x % 2 === 0, { signal }), { concurrency: 3 }),
    );
    assert.deepEqual(out, [2, 4, 6]);
    assert.deepEqual(await toArray(filter(new Set(['a', '', 'b']), (s) => s)), ['a', 'b']);
  });

  void test('ordered: false yields as predicates finish', async () => {
    const out = await toArray(
      filter([50, 5, 30, 7], (ms, signal) => sleep(ms, true, { signal }), { concurrency: 4, ordered: false }),
    );
    assert.deepEqual(out, [5, 7, 30, 50]);
  });

  void test('never runs more than `concurrency` predicates at once; default 1', async () => {
    for (const [concurrency, expected] of [
      [undefined, 1],
      [3, 3],
    ] as const) {
      const gauge = new Gauge();
      await toArray(
        filter(
          [1, 2, 3, 4, 5, 6, 7, 8],
          async (x, signal) => {
            gauge.enter();
            try {
              return await sleep(5, x > 2, { signal });
            } finally {
              gauge.leave();
            }
          },
          { concurrency },
        ),
      );
      assert.equal(gauge.max, expected);
    }
  });

  void test('the predicate gets the signal and the index', async () => {
    const indexes: number[] = [];
    const out = await toArray(
      filter(['a', 'b', 'c'], (_item, signal, index) => {
        assert.ok(signal instanceof AbortSignal);
        indexes.push(index);
        return index !== 1;
      }),
    );
    assert.deepEqual(out, ['a', 'c']);
    assert.deepEqual(indexes, [0, 1, 2]);
  });

  void test('the first failure cancels the predicates in flight', async () => {
    const boom = new Error('boom');
    const signals: AbortSignal[] = [];
    const stopped: number[] = [];
    const err = await rejection(
      toArray(
        filter(
          [0, 1, 2],
          async (i, signal) => {
            signals[i] = signal;
            if (i === 0) {
              await sleep(10);
              throw boom;
            }
            try {
              return await sleep(LONG, true, { signal });
            } finally {
              stopped.push(i);
            }
          },
          { concurrency: 3 },
        ),
      ),
    );
    assert.equal(err, boom);
    assert.deepEqual(stopped.sort(), [1, 2]);
    assert.ok(signals[1]!.aborted && signals[2]!.aborted);
    await assertNoLeaks();
  });

  void test('leaving the loop early cancels the predicates in flight and closes the source', async () => {
    const log = newLog();
    const signals: AbortSignal[] = [];
    const finished = new Set<number>();
    for await (const x of filter(
      counting(null, log),
      async (i, signal) => {
        signals[i] = signal;
        try {
          return await sleep(i === 0 ? 5 : LONG, true, { signal });
        } finally {
          finished.add(i);
        }
      },
      { concurrency: 3 },
    )) {
      assert.equal(x, 0);
      break;
    }
    await closedSoon(log);
    for (let i = 1; i < signals.length; i++) {
      assert.equal(signals[i]!.aborted, true, `predicate ${i} was not cancelled`);
      assert.ok(finished.has(i), `predicate ${i} had not stopped`);
    }
    await assertNoLeaks();
  });

  void test('the signal aborting throws CancelledError', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 15);
    const err = await rejection(
      toArray(filter([1, 2, 3], (x, signal) => sleep(LONG, true, { signal }), { signal: ac.signal })),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    await assertNoLeaks();
  });

  void test('timeout per call throws TimeoutError', async () => {
    const err = await rejection(
      toArray(filter([1], (x, signal) => sleep(LONG, true, { signal }), { timeout: 20 })),
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    await assertNoLeaks();
  });

  void test('bad input: RangeError for concurrency, TypeError for predicate and source', async () => {
    for (const concurrency of [0, -1, NaN]) {
      const err = await firstPullError(() => filter([1], () => true, { concurrency }));
      assert.ok(err instanceof RangeError, `concurrency ${concurrency}: got ${String(err)}`);
    }
    const e1 = await firstPullError(() => filter([1], 'yes' as unknown as () => boolean));
    assert.ok(e1 instanceof TypeError, `got ${String(e1)}`);
    const e2 = await firstPullError(() => filter(7 as unknown as number[], () => true));
    assert.ok(e2 instanceof TypeError, `got ${String(e2)}`);
  });
});
