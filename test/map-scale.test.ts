// `map` at scale and the paths of its lean calls (src/_mapcalls.ts): no Task
// per call, a signal only for a mapper that can read it, a sync source read
// without a promise. The limit must hold over 100,000 items, and every way
// out (early exit, failure, the signal) must stop the calls and leave
// nothing behind.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, map, sleep, toArray } from '../src/index.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';
import { Gauge, LONG, closedSoon, countingSync, newLog } from './_iterables.ts';

const N = 100_000;
/** The ways out are checked on fewer items: halfway is where they stop. */
const M = 20_000;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

void describe('map at scale', () => {
  for (const ordered of [true, false]) {
    void test(`${N} items at concurrency 100 (ordered: ${ordered}): never more than 100 calls at once, all results, nothing left`, async () => {
      const gauge = new Gauge();
      const seen = new Uint8Array(N);
      let count = 0;
      let inOrder = true;
      for await (const x of map(
        range(N),
        async (x, signal) => {
          gauge.enter();
          try {
            return await sleep(0, x, { signal });
          } finally {
            gauge.leave();
          }
        },
        { concurrency: 100, ordered },
      )) {
        if (x !== count) inOrder = false;
        seen[x]++;
        count++;
      }
      assert.equal(count, N);
      assert.ok(
        seen.every((s) => s === 1),
        'every item yielded once',
      );
      if (ordered) assert.ok(inOrder, 'yielded in input order');
      assert.equal(gauge.max, 100);
      assert.equal(gauge.running, 0);
      await assertNoLeaks();
    });
  }

  void test('leaving a 20,000-item map halfway cancels the 100 calls in flight and waits for them', async () => {
    const gauge = new Gauge();
    const signals = new Map<number, AbortSignal>();
    let got = 0;
    for await (const x of map(
      range(M),
      async (x, signal) => {
        gauge.enter();
        signals.set(x, signal);
        try {
          return await sleep(x < M / 2 ? 0 : LONG, x, { signal });
        } finally {
          gauge.leave();
          signals.delete(x);
        }
      },
      { concurrency: 100 },
    )) {
      got = x;
      if (x === M / 2 - 1) break;
    }
    assert.equal(got, M / 2 - 1);
    assert.equal(gauge.running, 0, 'a call was still running after the loop');
    assert.equal(signals.size, 0);
    assert.equal(gauge.max, 100);
    await assertNoLeaks();
  });

  void test('the signal aborting halfway through 20,000 items stops the calls in flight', async () => {
    const ac = new AbortController();
    const gauge = new Gauge();
    const aborted: boolean[] = [];
    let got = 0;
    const err = await rejection(
      (async () => {
        for await (const _ of map(
          range(M),
          async (x, signal) => {
            gauge.enter();
            try {
              return await sleep(0, x, { signal });
            } catch (error) {
              aborted.push(signal.aborted);
              throw error;
            } finally {
              gauge.leave();
            }
          },
          { concurrency: 100, ordered: false, signal: ac.signal },
        )) {
          if (++got === M / 2) ac.abort();
        }
      })(),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal(gauge.running, 0);
    assert.ok(aborted.length > 0 && aborted.every(Boolean), 'the calls in flight saw their signal abort');
    await assertNoLeaks();
  });

  void test('a mapper without a signal parameter is still waited for when the loop ends early', async () => {
    const finished = new Set<number>();
    const started: number[] = [];
    for await (const x of map(
      range(10),
      async (x) => {
        started.push(x);
        await sleep(x === 0 ? 0 : 20);
        finished.add(x);
        return x;
      },
      { concurrency: 3 },
    )) {
      assert.equal(x, 0);
      break;
    }
    assert.ok(started.length >= 2);
    for (const i of started) assert.ok(finished.has(i), `call ${i} had not stopped when the loop ended`);
    await assertNoLeaks();
  });

  void test('a sync source that throws fails the map after the calls in flight stopped', async () => {
    const boom = new Error('source failed');
    const stopped: number[] = [];
    function* failing(): Generator<number> {
      yield 0;
      yield 1;
      throw boom;
    }
    const err = await rejection(
      toArray(
        map(
          failing(),
          async (i, signal) => {
            try {
              return await sleep(LONG, i, { signal });
            } finally {
              stopped.push(i);
            }
          },
          { concurrency: 3 },
        ),
      ),
    );
    assert.equal(err, boom);
    assert.deepEqual(stopped.sort(), [0, 1]);
    await assertNoLeaks();
  });

  void test('a mapper that throws at once fails the map and no call starts after it', async () => {
    const boom = new Error('boom');
    const log = newLog();
    const started: number[] = [];
    const err = await rejection(
      toArray(
        map(
          countingSync(100, log),
          (i) => {
            started.push(i);
            if (i === 2) throw boom;
            return i;
          },
          { concurrency: 5 },
        ),
      ),
    );
    assert.equal(err, boom);
    assert.deepEqual(started, [0, 1, 2]);
    await closedSoon(log);
    assert.ok(log.closed, 'the source was closed');
  });
});
