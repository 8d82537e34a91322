// Behaviour tests for `batch` and its alias `chunk` (src/batch.ts). The rule
// every iterable helper follows (src/_reader.ts): work started for an
// iteration belongs to it. Leaving a `for await` early, a failure, or the
// signal aborting cancels the work in flight, waits until it stopped, and
// closes the source. Timing is kept tolerant: the suite runs on a shared,
// noisy machine.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, batch, chunk, getRunningLoop, sleep, toArray } from '../src/index.ts';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';
import { turns, newLog, counting, gate, closedSoon, firstPullError, stuckAfterOne } from './_iterables.ts';

void describe('batch', () => {
  void test('groups by size; the last batch may be shorter', async () => {
    assert.deepEqual(await toArray(batch([1, 2, 3, 4, 5], 2)), [[1, 2], [3, 4], [5]]);
    assert.deepEqual(await toArray(batch([1, 2, 3, 4], 2)), [
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(await toArray(batch([1, 2], 10)), [[1, 2]]);
    assert.deepEqual(await toArray(batch([], 3)), []);
    const log = newLog();
    assert.deepEqual(await toArray(batch(counting([1, 2, 3], log), 2)), [[1, 2], [3]]);
    await closedSoon(log);
  });

  void test('chunk is batch', () => {
    assert.equal(chunk, batch);
  });

  void test('by time: a partial batch is emitted once the timeout passed since its first item', async () => {
    const g = gate(2000);
    async function* ticks(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      await g.promise;
      yield 3;
    }
    const t0 = performance.now();
    const seen: { batch: number[]; at: number }[] = [];
    try {
      for await (const b of batch(ticks(), 10, { timeout: 30 })) {
        seen.push({ batch: b, at: since(t0) });
        if (seen.length === 1) g.release();
      }
    } finally {
      g.release();
    }
    assert.deepEqual(
      seen.map((s) => s.batch),
      [[1, 2], [3]],
    );
    assert.ok(seen[0]!.at >= 25, `first batch at ${seen[0]!.at.toFixed(0)} ms: before its timeout`);
    assert.ok(seen[0]!.at < 1000, `first batch at ${seen[0]!.at.toFixed(0)} ms: the timeout did not emit it`);
    await assertNoLeaks();
  });

  void test('by time: a full batch is emitted at once, and the clock restarts with the next batch', async () => {
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < 5; i++) {
        await sleep(5);
        yield i;
      }
    }
    const out = await toArray(batch(source(), 2, { timeout: 500 }));
    assert.deepEqual(out, [[0, 1], [2, 3], [4]]);
    await assertNoLeaks();
  });

  void test('by time: a slow source emits one item per batch, no empty batch (virtual time)', async () => {
    const out = await runVirtual(async () => {
      const loop = getRunningLoop();
      const t0 = loop.time();
      async function* slow(): AsyncGenerator<number> {
        for (let i = 0; i < 3; i++) {
          await sleep(40);
          yield i;
        }
      }
      const out: string[] = [];
      for await (const b of batch(slow(), 10, { timeout: 10 })) {
        out.push(`[${b.join(',')}] at ${loop.time() - t0}`);
      }
      return out;
    });
    // Each batch goes 10 ms after its only item; the last one when the source ends.
    assert.deepEqual(out, ['[0] at 50', '[1] at 90', '[2] at 120']);
    await assertNoLeaks();
  });

  void test('the signal aborting throws CancelledError and closes the source', async () => {
    const ac = new AbortController();
    let closed = false;
    let pending: (() => void) | undefined;
    // A hand-written iterator whose next() waits and whose return() ends the wait.
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<number>>((r) => (pending = () => r({ done: true, value: 0 }))),
        return: () => {
          closed = true;
          pending?.();
          return Promise.resolve({ done: true, value: undefined });
        },
      }),
    };
    setTimeout(() => ac.abort(), 15);
    const err = await rejection(toArray(batch(source, 3, { signal: ac.signal })));
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal(closed, true);
    await assertNoLeaks();
  });

  void test('the signal aborting settles promptly even while an async generator source is stuck', async () => {
    const ac = new AbortController();
    const g = gate(600);
    const log = newLog();
    setTimeout(() => ac.abort(), 15);
    const t0 = performance.now();
    const err = await rejection(toArray(batch(stuckAfterOne(g, log), 3, { signal: ac.signal })));
    const elapsed = since(t0);
    g.release();
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.ok(elapsed < 400, `CancelledError came ${elapsed.toFixed(0)} ms after start (abort at 15 ms)`);
    await turns();
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('a pre-aborted signal throws CancelledError', async () => {
    const err = await rejection(toArray(batch([1, 2, 3], 2, { signal: AbortSignal.abort() })));
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
  });

  void test('a source error propagates after the batches before it', async () => {
    const boom = new Error('boom');
    async function* bad(): AsyncGenerator<number> {
      yield 1;
      yield 2;
      yield 3;
      throw boom;
    }
    const out: number[][] = [];
    const err = await rejection(
      (async () => {
        for await (const b of batch(bad(), 2)) out.push(b);
      })(),
    );
    assert.equal(err, boom);
    assert.deepEqual(out, [[1, 2]]);
    await assertNoLeaks();
  });

  void test('leaving the loop early closes the source', async () => {
    const log = newLog();
    for await (const b of batch(counting(null, log), 3)) {
      assert.deepEqual(b, [0, 1, 2]);
      break;
    }
    await closedSoon(log);
    assert.equal(log.pulled, 3);
    const tlog = newLog();
    for await (const b of batch(counting(null, tlog, 2), 100, { timeout: 20 })) {
      assert.ok(b.length >= 1);
      break;
    }
    await closedSoon(tlog);
    await assertNoLeaks();
  });

  void test('bad size or timeout is a RangeError', async () => {
    for (const size of [0, -1, NaN, 1.5]) {
      const err = await firstPullError(() => batch([1], size));
      assert.ok(err instanceof RangeError, `size ${size}: got ${String(err)}`);
    }
    for (const timeout of [-1, NaN]) {
      const err = await firstPullError(() => batch([1], 2, { timeout }));
      assert.ok(err instanceof RangeError, `timeout ${timeout}: got ${String(err)}`);
    }
    const err = await firstPullError(() => batch(5 as unknown as number[], 2));
    assert.ok(err instanceof TypeError, `got ${String(err)}`);
  });
});
