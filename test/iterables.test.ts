// Behaviour tests for the async-iterable helpers: `map`, `filter`, `take`,
// `batch`/`chunk`, `merge`, `buffer`, `toArray` and `timeoutEach`. The rule
// they share (src/iterables.ts): work started for an iteration belongs to it.
// Leaving a `for await` early, a failure, or the signal aborting cancels the
// work in flight, waits until it stopped, and closes the source. Timing is
// kept tolerant: the suite runs on a shared, noisy machine.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelledError,
  TimeoutError,
  batch,
  buffer,
  chunk,
  filter,
  map,
  merge,
  sleep,
  take,
  timeoutEach,
  toArray,
} from '../src/index.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';

// ---------------------------------------------------------------------------
// Helpers

/** One full turn of the Node event loop. */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

/** What a counting source saw: how many items were pulled, whether it was closed. */
interface Log {
  pulled: number;
  closed: boolean;
}

function newLog(): Log {
  return { pulled: 0, closed: false };
}

/** An async generator over `items` (endless with `null`) that counts pulls and records its `finally`. */
async function* counting<T = number>(items: T[] | null, log: Log, delay = 0): AsyncGenerator<T> {
  try {
    for (let i = 0; items === null || i < items.length; i++) {
      if (delay > 0) await sleep(delay);
      log.pulled++;
      yield (items === null ? i : items[i]) as T;
    }
  } finally {
    log.closed = true;
  }
}

/** A sync generator that counts pulls and records its `finally`. */
function* countingSync(n: number, log: Log): Generator<number> {
  try {
    for (let i = 0; i < n; i++) {
      log.pulled++;
      yield i;
    }
  } finally {
    log.closed = true;
  }
}

/**
 * A promise the test releases; a Node timer releases it after `fallbackMs`
 * so that a wrong implementation makes a test fail on timing, never hang.
 * `release()` clears that timer.
 */
function gate(fallbackMs: number): { promise: Promise<void>; release: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  const timer = setTimeout(() => open(), fallbackMs);
  return {
    promise,
    release: () => {
      clearTimeout(timer);
      open();
    },
  };
}

/**
 * Waits (up to 1 s) until the source's `finally` ran. A source in the middle
 * of a read when the iteration ends is closed once that read finishes (an
 * async generator queues `return()` behind its pending `next()`), so the
 * close may come a moment after the loop exits — never much later.
 */
async function closedSoon(log: Log): Promise<void> {
  const t0 = performance.now();
  while (!log.closed && performance.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 1));
  assert.equal(log.closed, true, 'the source was not closed');
}

/** A promise with its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The error that creating and first pulling `make()` raises, sync or async. */
async function firstPullError(make: () => AsyncIterator<unknown>): Promise<unknown> {
  try {
    await make().next();
  } catch (e) {
    return e;
  }
  assert.fail('expected the first pull to fail');
}

/** Tracks how many calls run at once. */
class Gauge {
  running = 0;
  max = 0;
  enter(): void {
    this.running++;
    this.max = Math.max(this.max, this.running);
  }
  leave(): void {
    this.running--;
  }
}

const LONG = 10_000;

// ---------------------------------------------------------------------------
// map

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

// ---------------------------------------------------------------------------
// filter

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

// ---------------------------------------------------------------------------
// take

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

// ---------------------------------------------------------------------------
// batch / chunk

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

  void test('by time: a slow source emits one item per batch, no empty batch', async () => {
    async function* slow(): AsyncGenerator<number> {
      for (let i = 0; i < 3; i++) {
        await sleep(40);
        yield i;
      }
    }
    const out = await toArray(batch(slow(), 10, { timeout: 10 }));
    assert.deepEqual(out, [[0], [1], [2]]);
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
    async function* stuck(): AsyncGenerator<number> {
      try {
        yield 1;
        await g.promise;
        yield 2;
      } finally {
        log.closed = true;
      }
    }
    setTimeout(() => ac.abort(), 15);
    const t0 = performance.now();
    const err = await rejection(toArray(batch(stuck(), 3, { signal: ac.signal })));
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

// ---------------------------------------------------------------------------
// merge

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

  void test('a fast source is not held back by a slow one', async () => {
    async function* every(ms: number, label: string, n: number): AsyncGenerator<string> {
      for (let i = 0; i < n; i++) {
        await sleep(ms);
        yield `${label}${i}`;
      }
    }
    const out = await toArray(merge(every(2, 'fast', 3), every(300, 'slow', 1)));
    assert.deepEqual(out, ['fast0', 'fast1', 'fast2', 'slow0']);
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

// ---------------------------------------------------------------------------
// buffer

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

// ---------------------------------------------------------------------------
// toArray

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

// ---------------------------------------------------------------------------
// timeoutEach

void describe('timeoutEach', () => {
  void test('passes items that arrive in time', async () => {
    assert.deepEqual(await toArray(timeoutEach([1, 2, 3], 50)), [1, 2, 3]);
    const log = newLog();
    assert.deepEqual(await toArray(timeoutEach(counting([1, 2, 3], log, 5), 500)), [1, 2, 3]);
    await closedSoon(log);
    await assertNoLeaks();
  });

  void test('the limit is per item, not for the whole iteration', async () => {
    // 6 items 15 ms apart take ~90 ms in all, each within 200 ms.
    const out = await toArray(timeoutEach(counting([1, 2, 3, 4, 5, 6], newLog(), 15), 200));
    assert.deepEqual(out, [1, 2, 3, 4, 5, 6]);
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
    async function* late(): AsyncGenerator<number> {
      try {
        yield 1;
        await g.promise;
        yield 2;
      } finally {
        log.closed = true;
      }
    }
    const t0 = performance.now();
    const err = await rejection(toArray(timeoutEach(late(), 30)));
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
