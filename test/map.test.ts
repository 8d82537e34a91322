// Behaviour tests for `map` (src/map.ts). The rule every iterable helper
// follows (src/_reader.ts): work started for an iteration belongs to it.
// Leaving a `for await` early, a failure, or the signal aborting cancels the
// work in flight, waits until it stopped, and closes the source. Timing is
// kept tolerant: the suite runs on a shared, noisy machine.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, TimeoutError, map, sleep, take, toArray } from '../src/index.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';
import {
  turns,
  newLog,
  counting,
  countingSync,
  gate,
  closedSoon,
  deferred,
  firstPullError,
  Gauge,
  LONG,
} from './_iterables.ts';

void describe('map', () => {
  void test('a finished result is yielded while the source is slow to give the next item', async () => {
    const g = gate(2000);
    async function* slowSource(): AsyncGenerator<number> {
      yield 1;
      await g.promise; // the next input line is late
      yield 2;
    }
    const t0 = performance.now();
    const it = map(slowSource(), async (x) => x * 10, { concurrency: 4 });
    const first = await it.next();
    const elapsed = since(t0);
    assert.equal(first.value, 10);
    assert.ok(elapsed < 1000, `the first result waited ${elapsed.toFixed(0)} ms for the source`);
    g.release();
    assert.deepEqual(await toArray(it), [20]);
    await assertNoLeaks();
  });

  void test('never runs more than `concurrency` calls at once, and reaches it', async () => {
    const gauge = new Gauge();
    const delays = [15, 5, 25, 10, 5, 20, 5, 15, 10, 5, 25, 5, 10, 15, 5, 20];
    const out = await toArray(
      map(
        delays,
        async (ms, signal) => {
          gauge.enter();
          try {
            return await sleep(ms, ms * 2, { signal });
          } finally {
            gauge.leave();
          }
        },
        { concurrency: 4 },
      ),
    );
    assert.deepEqual(
      out,
      delays.map((d) => d * 2),
    );
    assert.equal(gauge.max, 4);
    assert.equal(gauge.running, 0);
    await assertNoLeaks();
  });

  void test('concurrency defaults to 1', async () => {
    const gauge = new Gauge();
    const out = await toArray(
      map([1, 2, 3, 4], async (x, signal) => {
        gauge.enter();
        try {
          return await sleep(5, x + 1, { signal });
        } finally {
          gauge.leave();
        }
      }),
    );
    assert.deepEqual(out, [2, 3, 4, 5]);
    assert.equal(gauge.max, 1);
  });

  void test('concurrency: Infinity starts every call at once', async () => {
    const gauge = new Gauge();
    const out = await toArray(
      map(
        [1, 2, 3, 4, 5, 6],
        async (x, signal) => {
          gauge.enter();
          try {
            return await sleep(10, x, { signal });
          } finally {
            gauge.leave();
          }
        },
        { concurrency: Infinity },
      ),
    );
    assert.deepEqual(out, [1, 2, 3, 4, 5, 6]);
    assert.equal(gauge.max, 6);
  });

  void test('ordered (default) yields in input order whatever the finishing order', async () => {
    const out = await toArray(
      map([40, 10, 30, 5, 20], (ms, signal) => sleep(ms, ms, { signal }), { concurrency: 5 }),
    );
    assert.deepEqual(out, [40, 10, 30, 5, 20]);
  });

  void test('ordered: false yields as calls finish', async () => {
    // Each call waits for its own deferred; the test decides the finishing order.
    const d = [deferred(), deferred(), deferred()];
    const it = map([0, 1, 2], async (i) => (await d[i]!.promise, i), { concurrency: 3, ordered: false });
    const first = it.next();
    await turns();
    d[1]!.resolve();
    assert.deepEqual(await first, { done: false, value: 1 });
    const second = it.next();
    await turns();
    d[2]!.resolve();
    assert.deepEqual(await second, { done: false, value: 2 });
    d[0]!.resolve();
    assert.deepEqual(await it.next(), { done: false, value: 0 });
    assert.deepEqual(await it.next(), { done: true, value: undefined });
  });

  void test('ordered: false, calls that finished while the consumer was busy come in finishing order', async () => {
    const d = [deferred(), deferred(), deferred()];
    const it = map([0, 1, 2], async (i) => (await d[i]!.promise, i), { concurrency: 3, ordered: false });
    const first = it.next();
    await turns();
    d[2]!.resolve();
    await turns();
    d[1]!.resolve();
    await turns();
    d[0]!.resolve();
    await turns();
    const out = [(await first).value, (await it.next()).value, (await it.next()).value];
    assert.deepEqual(out, [2, 1, 0], `yielded ${out.join(', ')}; the calls finished 2, 1, 0`);
  });

  void test('ordered: false refills a free slot at once (no head-of-line blocking)', async () => {
    // One stuck item and many quick ones, two at a time: the quick ones pass the stuck one.
    const stuck = deferred();
    const out: number[] = [];
    for await (const x of map([0, 1, 2, 3, 4], async (i) => (i === 0 ? (await stuck.promise, i) : i), {
      concurrency: 2,
      ordered: false,
    })) {
      out.push(x);
      if (out.length === 4) stuck.resolve();
    }
    assert.deepEqual(out, [1, 2, 3, 4, 0]);
  });

  void test('the mapper receives the item, a signal and the index', async () => {
    const seen: [string, boolean, number][] = [];
    const out = await toArray(
      map(
        ['a', 'b', 'c'],
        (item, signal, index) => {
          seen.push([item, signal instanceof AbortSignal, index]);
          return `${item}${index}`;
        },
        { concurrency: 2 },
      ),
    );
    assert.deepEqual(out, ['a0', 'b1', 'c2']);
    assert.deepEqual(seen, [
      ['a', true, 0],
      ['b', true, 1],
      ['c', true, 2],
    ]);
  });

  void test('accepts sync sources (array, Set, generator) and async sources; sync mappers too', async () => {
    const double = (x: number): number => x * 2;
    assert.deepEqual(await toArray(map([1, 2, 3], double)), [2, 4, 6]);
    assert.deepEqual(await toArray(map(new Set([1, 2, 3]), double, { concurrency: 2 })), [2, 4, 6]);
    const log = newLog();
    assert.deepEqual(await toArray(map(countingSync(3, log), double)), [0, 2, 4]);
    await closedSoon(log);
    const alog = newLog();
    assert.deepEqual(
      await toArray(map(counting([1, 2, 3], alog, 2), async (x) => x * 10, { concurrency: 2 })),
      [10, 20, 30],
    );
    await closedSoon(alog);
    assert.deepEqual(await toArray(map([], double)), []);
    await assertNoLeaks();
  });

  void test('pulls lazily: never more than `concurrency` items ahead of the consumer', async () => {
    const log = newLog();
    const concurrency = 3;
    const it = map(counting(null, log), (x, signal) => sleep(2, x, { signal }), { concurrency });
    await turns();
    assert.equal(log.pulled, 0, 'nothing is pulled before the first next()');
    let consumed = 0;
    for await (const x of it) {
      assert.equal(x, consumed);
      consumed++;
      await sleep(5); // a slow consumer
      assert.ok(
        log.pulled <= consumed + concurrency,
        `pulled ${log.pulled} items with ${consumed} consumed and concurrency ${concurrency}`,
      );
      if (consumed === 10) break;
    }
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('an endless source works with take()', async () => {
    const log = newLog();
    const out = await toArray(
      take(
        map(counting(null, log), (x) => x * x, { concurrency: 4 }),
        5,
      ),
    );
    assert.deepEqual(out, [0, 1, 4, 9, 16]);
    await closedSoon(log);
    assert.ok(log.pulled <= 5 + 4, `pulled ${log.pulled}`);
    await assertNoLeaks();
  });

  void test('the first failure cancels the calls in flight and is thrown only after they stopped', async () => {
    const boom = new Error('boom');
    const signals: AbortSignal[] = [];
    const stopped: number[] = [];
    const log = newLog();
    const t0 = performance.now();
    const err = await rejection(
      toArray(
        map(
          counting([0, 1, 2, 3, 4, 5], log),
          async (i, signal) => {
            signals[i] = signal;
            if (i === 0) {
              await sleep(10);
              throw boom;
            }
            try {
              await sleep(LONG, undefined, { signal });
            } finally {
              await sleep(15); // cleanup that takes a while
              stopped.push(i);
            }
          },
          { concurrency: 3 },
        ),
      ),
    );
    assert.equal(err, boom);
    assert.ok(since(t0) < 2000, `took ${since(t0)} ms`);
    assert.deepEqual(stopped.sort(), [1, 2], 'the siblings stopped before the error was thrown');
    assert.equal(signals[1]!.aborted, true);
    assert.equal(signals[2]!.aborted, true);
    assert.equal(signals.length, 3, 'no call started after the failure');
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('ordered: a failure behind a slow head cancels the head at once (p-map #42)', async () => {
    const boom = new Error('boom');
    let headSignal: AbortSignal | undefined;
    const t0 = performance.now();
    const err = await rejection(
      toArray(
        map(
          [0, 1],
          async (i, signal) => {
            if (i === 0) {
              headSignal = signal;
              return sleep(1500, i, { signal });
            }
            await sleep(10);
            throw boom;
          },
          { concurrency: 2 },
        ),
      ),
    );
    const elapsed = since(t0);
    assert.equal(err, boom);
    assert.equal(headSignal?.aborted, true, 'the slow head was cancelled');
    assert.ok(elapsed < 1000, `the failure was thrown after ${elapsed.toFixed(0)} ms, not at once`);
    await assertNoLeaks();
  });

  void test('ordered: false, the first failure cancels the others', async () => {
    const boom = new Error('boom');
    const signals: AbortSignal[] = [];
    const t0 = performance.now();
    const err = await rejection(
      toArray(
        map(
          [0, 1, 2, 3],
          async (i, signal) => {
            signals[i] = signal;
            if (i === 2) {
              await sleep(10);
              throw boom;
            }
            return sleep(LONG, i, { signal });
          },
          { concurrency: 4, ordered: false },
        ),
      ),
    );
    assert.equal(err, boom);
    assert.ok(since(t0) < 2000);
    assert.deepEqual(
      signals.map((s) => s.aborted),
      [true, true, false, true],
    );
    await assertNoLeaks();
  });

  void test('a failing source cancels the calls in flight and its error propagates', async () => {
    const boom = new Error('source failed');
    const signals: AbortSignal[] = [];
    async function* failing(): AsyncGenerator<number> {
      yield 0;
      yield 1;
      await sleep(10);
      throw boom;
    }
    const err = await rejection(
      toArray(
        map(
          failing(),
          async (i, signal) => {
            signals.push(signal);
            return sleep(LONG, i, { signal });
          },
          { concurrency: 3 },
        ),
      ),
    );
    assert.equal(err, boom);
    assert.equal(signals.length, 2);
    assert.ok(signals.every((s) => s.aborted));
    await assertNoLeaks();
  });

  void test('leaving the loop early cancels the calls in flight, waits for them and closes the source', async () => {
    const log = newLog();
    const started: number[] = [];
    const signals = new Map<number, AbortSignal>();
    const finished = new Set<number>();
    let got: number | undefined;
    for await (const x of map(
      counting(null, log),
      async (i, signal) => {
        started.push(i);
        signals.set(i, signal);
        try {
          return await sleep(i === 0 ? 5 : LONG, i, { signal });
        } finally {
          await sleep(10); // cleanup that takes a while
          finished.add(i);
        }
      },
      { concurrency: 3 },
    )) {
      got = x;
      break;
    }
    assert.equal(got, 0);
    assert.ok(started.length >= 2, `started ${started.join(', ')}`);
    for (const i of started) {
      assert.ok(finished.has(i), `call ${i} had not stopped when the loop ended`);
      if (i !== 0) assert.equal(signals.get(i)!.aborted, true, `call ${i} was not cancelled`);
    }
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('the signal aborting cancels the calls in flight and throws CancelledError', async () => {
    const ac = new AbortController();
    const log = newLog();
    const signals: AbortSignal[] = [];
    const stopped: number[] = [];
    const reason = new Error('stop it');
    setTimeout(() => ac.abort(reason), 20);
    const t0 = performance.now();
    const err = await rejection(
      toArray(
        map(
          counting(null, log),
          async (i, signal) => {
            signals.push(signal);
            try {
              return await sleep(LONG, i, { signal });
            } finally {
              stopped.push(i);
            }
          },
          { concurrency: 2, signal: ac.signal },
        ),
      ),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal((err as CancelledError).cause, reason);
    assert.ok(since(t0) < 2000);
    assert.equal(signals.length, 2);
    assert.ok(signals.every((s) => s.aborted));
    assert.deepEqual(stopped.sort(), [0, 1]);
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('the signal aborting between items (mapper done) throws CancelledError and closes the source', async () => {
    const ac = new AbortController();
    const log = newLog();
    const out: number[] = [];
    const err = await rejection(
      (async () => {
        for await (const x of map(counting(null, log), (x) => x, { signal: ac.signal })) {
          out.push(x);
          if (x === 2) ac.abort();
        }
      })(),
    );
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.deepEqual(out, [0, 1, 2]);
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('a pre-aborted signal throws CancelledError without calling the mapper', async () => {
    let calls = 0;
    const log = newLog();
    const err = await rejection(
      toArray(
        map(
          counting([1, 2, 3], log),
          (x) => {
            calls++;
            return x;
          },
          { signal: AbortSignal.abort() },
        ),
      ),
    );
    assert.ok(err instanceof CancelledError);
    assert.equal(calls, 0);
    await assertNoLeaks();
  });

  void test('timeout: a call that exceeds it is cancelled and the iteration fails with TimeoutError', async () => {
    let callSignal: AbortSignal | undefined;
    const log = newLog();
    const t0 = performance.now();
    const err = await rejection(
      toArray(
        map(
          counting([5, 1000, 5], log),
          async (ms, signal) => {
            if (ms === 1000) callSignal = signal;
            return sleep(ms, ms, { signal });
          },
          { timeout: 30 },
        ),
      ),
    );
    const elapsed = since(t0);
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.ok(elapsed >= 25 && elapsed < 800, `took ${elapsed.toFixed(0)} ms`);
    assert.equal(callSignal?.aborted, true);
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('timeout: calls within it pass', async () => {
    const out = await toArray(map([1, 2, 3], (x, signal) => sleep(2, x, { signal }), { timeout: 500 }));
    assert.deepEqual(out, [1, 2, 3]);
    await assertNoLeaks();
  });

  void test('bad concurrency is a RangeError', async () => {
    for (const concurrency of [0, -1, NaN, 1.5, '2' as unknown as number]) {
      const err = await firstPullError(() => map([1], (x) => x, { concurrency }));
      assert.ok(err instanceof RangeError, `concurrency ${String(concurrency)}: got ${String(err)}`);
      assert.match((err as Error).message, /concurrency/);
    }
  });

  void test('a mapper that is not a function is a TypeError', async () => {
    for (const fn of [undefined, null, 42, 'x']) {
      const err = await firstPullError(() => map([1], fn as unknown as (x: number) => number));
      assert.ok(err instanceof TypeError, `fn ${String(fn)}: got ${String(err)}`);
    }
  });

  void test('a source that is not iterable is a TypeError', async () => {
    for (const source of [42, null, undefined, {}, { next() {} }]) {
      const err = await firstPullError(() => map(source as unknown as number[], (x) => x));
      assert.ok(err instanceof TypeError, `source ${String(source)}: got ${String(err)}`);
    }
  });

  void test('a signal that is not an AbortSignal is a TypeError', async () => {
    const err = await firstPullError(() => map([1], (x) => x, { signal: {} as AbortSignal }));
    assert.ok(err instanceof TypeError, `got ${String(err)}`);
  });
});
