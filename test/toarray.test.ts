// Behaviour tests for `toArray` (src/toarray.ts). The rule every iterable
// helper follows (src/_reader.ts): work started for an iteration belongs to
// it. Leaving a `for await` early, a failure, or the signal aborting cancels
// the work in flight, waits until it stopped, and closes the source. Timing is
// kept tolerant: the suite runs on a shared, noisy machine.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, toArray } from '../src/index.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';
import { newLog, counting, gate, closedSoon } from './_iterables.ts';

void describe('toArray', () => {
  void test('collects sync and async sources', async () => {
    assert.deepEqual(await toArray([1, 2, 3]), [1, 2, 3]);
    assert.deepEqual(await toArray(new Set(['a'])), ['a']);
    assert.deepEqual(await toArray(counting([4, 5], newLog(), 1)), [4, 5]);
    assert.deepEqual(await toArray([]), []);
  });

  void test('with a signal that never aborts, collects everything', async () => {
    const ac = new AbortController();
    assert.deepEqual(await toArray(counting([1, 2, 3], newLog(), 1), { signal: ac.signal }), [1, 2, 3]);
  });

  void test('the signal aborting rejects with CancelledError and closes the source', async () => {
    const ac = new AbortController();
    const log = newLog();
    setTimeout(() => ac.abort(), 20);
    const err = await rejection(toArray(counting(null, log, 5), { signal: ac.signal }));
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('the signal aborting rejects promptly while the source waits for its next item', async () => {
    const ac = new AbortController();
    const g = gate(600);
    async function* waiting(): AsyncGenerator<number> {
      yield 1;
      await g.promise;
    }
    setTimeout(() => ac.abort(), 15);
    const t0 = performance.now();
    const outcome = await toArray(waiting(), { signal: ac.signal }).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const elapsed = since(t0);
    g.release();
    assert.ok('error' in outcome, `resolved with ${JSON.stringify(outcome)} although the signal aborted`);
    assert.ok(outcome.error instanceof CancelledError, `got ${String(outcome.error)}`);
    assert.ok(elapsed < 400, `rejected after ${elapsed.toFixed(0)} ms (abort at 15 ms)`);
    await assertNoLeaks();
  });

  void test('a pre-aborted signal rejects with CancelledError without pulling the source', async () => {
    const log = newLog();
    const err = await rejection(toArray(counting([1, 2], log), { signal: AbortSignal.abort() }));
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal(log.pulled, 0, 'an already aborted signal must take nothing');
    const e2 = await rejection(toArray([], { signal: AbortSignal.abort() }));
    assert.ok(e2 instanceof CancelledError, `got ${String(e2)}`);
  });

  void test('a source error propagates', async () => {
    const boom = new Error('boom');
    async function* bad(): AsyncGenerator<number> {
      yield 1;
      throw boom;
    }
    assert.equal(await rejection(toArray(bad())), boom);
  });
});
