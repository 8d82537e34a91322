// Behaviour tests for `RateLimiter`, a token bucket: `rate` acquisitions per
// `interval` ms on average with bursts of up to `burst`, waiters served
// first-come first-served, an aborted waiter takes no token, and one timer
// runs only while someone waits. Where the point is the arithmetic of the
// bucket, a test runs on a virtual clock (`runVirtual`) and asserts exact
// times; the tests on the real clock keep their timing tolerant: the suite
// runs on a shared, noisy machine, and timers never fire early, so lower
// bounds are tight and upper bounds loose.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, RateLimiter, gather, getRunningLoop, sleep } from '../src/index.ts';
import { runVirtual } from '../src/testing.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';

/** The loop's clock: virtual inside `runVirtual`. */
const clock = (): number => getRunningLoop().time();

/** Asserts `e` is an instance of `cls` (a message of its own: a failing `assert.ok` without one is slow to build). */
function assertIs(e: unknown, cls: abstract new (...args: never[]) => unknown): void {
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
}

/** One full turn of the Node event loop. */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Watches a promise without awaiting it (and marks its rejection handled). */
class Probe<T> {
  status: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  reason: unknown;
  constructor(readonly promise: Promise<T>) {
    void promise.then(
      () => void (this.status = 'fulfilled'),
      (reason: unknown) => {
        this.status = 'rejected';
        this.reason = reason;
      },
    );
  }
}

void describe('RateLimiter: construction', () => {
  void test('keeps its options; interval defaults to 1000 and burst to rate', () => {
    const a = new RateLimiter({ rate: 5 });
    assert.equal(a.rate, 5);
    assert.equal(a.interval, 1000);
    assert.equal(a.burst, 5);
    const b = new RateLimiter({ rate: 2, interval: 50, burst: 7 });
    assert.equal(b.interval, 50);
    assert.equal(b.burst, 7);
    assert.deepEqual(b.statistics(), { tokens: 7, waiters: 0 });
    assert.match(String(b), /RateLimiter/);
  });

  void test('bad options are RangeErrors', () => {
    const bad: unknown[] = [
      undefined,
      {},
      { rate: 0 },
      { rate: -1 },
      { rate: NaN },
      { rate: Infinity },
      { rate: '5' },
      { rate: 5, interval: 0 },
      { rate: 5, interval: -10 },
      { rate: 5, interval: NaN },
      { rate: 5, interval: Infinity },
      { rate: 5, burst: 0 },
      { rate: 5, burst: 0.5 },
      { rate: 5, burst: -1 },
      { rate: 5, burst: NaN },
      { rate: 5, burst: Infinity },
    ];
    for (const opts of bad) {
      assert.throws(
        () => new RateLimiter(opts as ConstructorParameters<typeof RateLimiter>[0]),
        RangeError,
        `options ${JSON.stringify(opts)}`,
      );
    }
  });
});

void describe('RateLimiter: acquire', () => {
  void test('a burst is served at once', async () => {
    // A long interval: nothing refills during the test, however slow the machine.
    const limiter = new RateLimiter({ rate: 5, interval: 60_000 });
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) await limiter.acquire();
    assert.ok(since(t0) < 50, `the burst took ${since(t0).toFixed(0)} ms`);
    const { tokens, waiters } = limiter.statistics();
    assert.ok(tokens < 1, `tokens left: ${tokens}`);
    assert.equal(waiters, 0);
    await assertNoLeaks();
  });

  void test('then `rate` per `interval`: 15 acquisitions at 5 per 100 ms take 200 ms (virtual time)', async () => {
    const { times, elapsed } = await runVirtual(async () => {
      const t0 = clock();
      const limiter = new RateLimiter({ rate: 5, interval: 100 });
      const times: number[] = [];
      await gather(
        Array.from({ length: 15 }, () => async () => {
          await limiter.acquire();
          times.push(clock() - t0);
        }),
      );
      return { times, elapsed: clock() - t0 };
    });
    // The burst of 5 at once, then one every 20 ms.
    assert.deepEqual(times, [0, 0, 0, 0, 0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200]);
    assert.equal(elapsed, 200);
    await assertNoLeaks();
  });

  void test('the k-th acquisition never comes before (k - burst + 1) * interval / rate', async () => {
    const t0 = performance.now();
    const limiter = new RateLimiter({ rate: 1, interval: 10, burst: 3 });
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        await limiter.acquire();
        times.push(since(t0));
      }),
    );
    assert.equal(times.length, 12);
    times.forEach((at, k) => {
      const earliest = Math.max(0, (k - 3 + 1) * 10);
      assert.ok(at >= earliest - 1, `acquisition ${k} at ${at.toFixed(1)} ms, before ${earliest} ms`);
    });
    assert.ok(times[11]! < 1000, `the last came at ${times[11]!.toFixed(0)} ms`);
    await assertNoLeaks();
  });

  void test('a custom burst: that many at once, then the rate (virtual time)', async () => {
    await runVirtual(async () => {
      const t0 = clock();
      const limiter = new RateLimiter({ rate: 1, interval: 400, burst: 3 });
      const probes = Array.from({ length: 4 }, () => new Probe(limiter.acquire()));
      await sleep(0); // a turn of the loop, through tsaio: the clock stands still meanwhile
      assert.deepEqual(
        probes.map((p) => p.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'pending'],
      );
      assert.equal(clock(), t0);
      assert.equal(limiter.statistics().waiters, 1);
      await probes[3]!.promise;
      assert.equal(clock() - t0, 400, 'the fourth comes one interval after the burst');
      assert.equal(limiter.statistics().waiters, 0);
    });
    await assertNoLeaks();
  });

  void test('waiters are served first-come first-served (virtual time)', async () => {
    const served = await runVirtual(async () => {
      const t0 = clock();
      const limiter = new RateLimiter({ rate: 1, interval: 10, burst: 1 });
      await limiter.acquire();
      const served: [number, number][] = [];
      await Promise.all(
        Array.from({ length: 6 }, async (_, i) => {
          await limiter.acquire();
          served.push([i, clock() - t0]);
        }),
      );
      return served;
    });
    assert.deepEqual(served, [
      [0, 10],
      [1, 20],
      [2, 30],
      [3, 40],
      [4, 50],
      [5, 60],
    ]);
    await assertNoLeaks();
  });

  void test('an aborted waiter rejects with CancelledError, takes no token, and the next is served (virtual time)', async () => {
    await runVirtual(async () => {
      const limiter = new RateLimiter({ rate: 1, interval: 60, burst: 1 });
      await limiter.acquire();
      const ac = new AbortController();
      const reason = new Error('no longer needed');
      const t0 = clock();
      const a = new Probe(limiter.acquire({ signal: ac.signal }));
      const b = new Probe(limiter.acquire());
      const c = new Probe(limiter.acquire());
      assert.equal(limiter.statistics().waiters, 3);
      ac.abort(reason);
      await sleep(0);
      assert.equal(a.status, 'rejected');
      assert.ok(a.reason instanceof CancelledError, `got ${String(a.reason)}`);
      assert.equal((a.reason as CancelledError).cause, reason);
      assert.equal(limiter.statistics().waiters, 2);
      await b.promise;
      assert.equal(clock() - t0, 60, "the first new token is b's");
      assert.equal(c.status, 'pending');
      await c.promise;
      assert.equal(clock() - t0, 120);
    });
    await assertNoLeaks();
  });

  void test('the only waiter aborting leaves no timer behind', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 5000, burst: 1 });
    await limiter.acquire();
    const ac = new AbortController();
    const p = new Probe(limiter.acquire({ signal: ac.signal }));
    await turn();
    assert.equal(p.status, 'pending');
    ac.abort();
    await turn();
    assert.equal(p.status, 'rejected');
    assert.ok(p.reason instanceof CancelledError);
    assert.equal(limiter.statistics().waiters, 0);
    await assertNoLeaks();
  });

  void test('an aborted waiter does not delay the token: tokens accrue as if it never waited (virtual time)', async () => {
    await runVirtual(async () => {
      const limiter = new RateLimiter({ rate: 1, interval: 40, burst: 1 });
      await limiter.acquire();
      const ac = new AbortController();
      const a = new Probe(limiter.acquire({ signal: ac.signal }));
      ac.abort();
      await sleep(0);
      assert.equal(a.status, 'rejected');
      await sleep(39);
      assert.equal(limiter.statistics().tokens, 39 / 40, 'no token before the interval is over');
      await sleep(1);
      // The token that accrued meanwhile is there, untouched by the aborted waiter.
      assert.equal(limiter.statistics().tokens, 1);
      assert.equal(limiter.tryAcquire(), true);
    });
    await assertNoLeaks();
  });

  void test('a pre-aborted signal rejects at once and takes nothing, even with tokens free', async () => {
    const limiter = new RateLimiter({ rate: 2, interval: 1000 });
    const reason = new Error('already');
    const err = await rejection(limiter.acquire({ signal: AbortSignal.abort(reason) }));
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal((err as CancelledError).cause, reason);
    assert.equal(limiter.statistics().tokens, 2);
    assert.equal(limiter.statistics().waiters, 0);
    await assertNoLeaks();
  });

  void test('a signal that never aborts does not get in the way', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 20, burst: 1 });
    const ac = new AbortController();
    await limiter.acquire({ signal: ac.signal });
    await limiter.acquire({ signal: ac.signal });
    await assertNoLeaks();
  });

  void test('a signal that is not an AbortSignal is a TypeError', async () => {
    const limiter = new RateLimiter({ rate: 1 });
    await assert.rejects(async () => limiter.acquire({ signal: {} as AbortSignal }), TypeError);
    assert.deepEqual(limiter.statistics().waiters, 0);
  });

  void test('no timer is left once nobody waits', async () => {
    const limiter = new RateLimiter({ rate: 10, interval: 50, burst: 2 });
    await Promise.all(Array.from({ length: 6 }, () => limiter.acquire()));
    assert.equal(limiter.statistics().waiters, 0);
    await assertNoLeaks();
  });
});

void describe('RateLimiter: tryAcquire', () => {
  void test('takes a token when one is free, and refills with time (virtual time)', async () => {
    await runVirtual(async () => {
      const limiter = new RateLimiter({ rate: 1, interval: 60_000, burst: 2 });
      assert.equal(limiter.tryAcquire(), true);
      assert.equal(limiter.tryAcquire(), true);
      assert.equal(limiter.tryAcquire(), false);
      // burst 1: the token is back after exactly one interval, and only one.
      const one = new RateLimiter({ rate: 1, interval: 30, burst: 1 });
      assert.equal(one.tryAcquire(), true);
      assert.equal(one.tryAcquire(), false);
      await sleep(29);
      assert.equal(one.tryAcquire(), false, 'a token before the interval was over');
      await sleep(11);
      assert.equal(one.tryAcquire(), true);
      assert.equal(one.tryAcquire(), false);
    });
    await assertNoLeaks();
  });

  void test('does not jump the queue of waiters (virtual time)', async () => {
    await runVirtual(async () => {
      const t0 = clock();
      const limiter = new RateLimiter({ rate: 1, interval: 30, burst: 1 });
      assert.equal(limiter.tryAcquire(), true);
      const waiter = new Probe(limiter.acquire());
      await sleep(10);
      assert.equal(limiter.tryAcquire(), false);
      await waiter.promise;
      assert.equal(waiter.status, 'fulfilled');
      assert.equal(clock() - t0, 30);
      assert.equal(limiter.tryAcquire(), false, 'the token went to the waiter');
    });
    await assertNoLeaks();
  });

  void test('the bucket never holds more than burst (virtual time)', async () => {
    await runVirtual(async () => {
      const limiter = new RateLimiter({ rate: 10, interval: 10, burst: 3 });
      await sleep(30);
      assert.equal(limiter.statistics().tokens, 3);
      let n = 0;
      while (limiter.tryAcquire()) n++;
      assert.equal(n, 3);
    });
  });
});

void describe('RateLimiter: run', () => {
  void test('runs fn once a token is taken and returns its value (virtual time)', async () => {
    const results = await runVirtual(async () => {
      const limiter = new RateLimiter({ rate: 2, interval: 50, burst: 1 });
      const t0 = clock();
      return Promise.all([
        limiter.run(() => clock() - t0),
        limiter.run(async () => {
          await sleep(1);
          return clock() - t0;
        }),
        limiter.run(() => clock() - t0),
      ]);
    });
    // One token per 25 ms: fn runs at 0, 25 (and returns after its own 1 ms) and 50.
    assert.deepEqual(results, [0, 26, 50]);
    await assertNoLeaks();
  });

  void test("fn's error propagates; the token stays taken", async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 1000, burst: 1 });
    const boom = new Error('boom');
    assert.equal(
      await rejection(
        limiter.run(() => {
          throw boom;
        }),
      ),
      boom,
    );
    assert.equal(limiter.tryAcquire(), false);
  });

  void test('an aborted wait never calls fn', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 1000, burst: 1 });
    await limiter.acquire();
    let called = false;
    const ac = new AbortController();
    const p = limiter.run(
      () => {
        called = true;
      },
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 10);
    const err = await rejection(p);
    assert.ok(err instanceof CancelledError, `got ${String(err)}`);
    assert.equal(called, false);
    const e2 = await rejection(limiter.run(() => (called = true), { signal: AbortSignal.abort() }));
    assert.ok(e2 instanceof CancelledError);
    assert.equal(called, false);
    await assertNoLeaks();
  });

  void test('a non-function is a TypeError', async () => {
    const limiter = new RateLimiter({ rate: 1 });
    const err = await rejection(limiter.run(42 as unknown as () => void));
    assert.ok(err instanceof TypeError, `got ${String(err)}`);
  });
});

void describe('RateLimiter: statistics', () => {
  void test('reports tokens and waiters (virtual time)', async () => {
    await runVirtual(async () => {
      const t0 = clock();
      const limiter = new RateLimiter({ rate: 1, interval: 200, burst: 2 });
      assert.deepEqual(limiter.statistics(), { tokens: 2, waiters: 0 });
      await limiter.acquire();
      await limiter.acquire();
      assert.deepEqual(limiter.statistics(), { tokens: 0, waiters: 0 });
      const a = limiter.acquire();
      const b = limiter.acquire();
      assert.deepEqual(limiter.statistics(), { tokens: 0, waiters: 2 });
      await sleep(100);
      assert.deepEqual(limiter.statistics(), { tokens: 0.5, waiters: 2 });
      await a;
      assert.equal(clock() - t0, 200);
      assert.deepEqual(limiter.statistics(), { tokens: 0, waiters: 1 });
      await b;
      assert.equal(clock() - t0, 400);
      assert.deepEqual(limiter.statistics(), { tokens: 0, waiters: 0 });
    });
    await assertNoLeaks();
  });
});

void describe('RateLimiter: woken, then cancelled before it resumed', () => {
  /** Calls `after()` right after each timer tick of `limiter` has handed out its tokens. */
  function afterTick(limiter: RateLimiter, after: () => void): void {
    const inner = limiter as unknown as { _tick(): void };
    const tick = inner._tick.bind(limiter);
    inner._tick = () => {
      tick();
      after();
    };
  }

  void test('a waiter handed a token and aborted before it resumed takes no token: the next waiter gets it at once', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 40 });
    assert.equal(limiter.tryAcquire(), true);
    const ac = new AbortController();
    const first = new Probe(limiter.acquire({ signal: ac.signal }));
    const second = new Probe(limiter.acquire());
    afterTick(limiter, () => ac.abort()); // in the tick that hands `first` its token
    await until(() => first.status !== 'pending');
    assert.equal(first.status, 'rejected');
    assert.ok(first.reason instanceof CancelledError, String(first.reason));
    await turn();
    assert.equal(second.status, 'fulfilled', 'the token given back went on at once, not a tick later');
    assert.equal(limiter.statistics().waiters, 0);
    await assertNoLeaks();
  });

  void test('run(): aborted after the token was granted, before run() resumed: fn never starts, the token goes on', async () => {
    const limiter = new RateLimiter({ rate: 1, interval: 40 });
    assert.equal(limiter.tryAcquire(), true);
    const ac = new AbortController();
    let ran = false;
    const first = new Probe(
      limiter.run(
        () => {
          ran = true;
        },
        { signal: ac.signal },
      ),
    );
    const second = new Probe(limiter.acquire());
    afterTick(limiter, () => queueMicrotask(() => ac.abort())); // after the acquire resumed, before run() did
    await until(() => second.status !== 'pending');
    assert.equal(first.status, 'rejected');
    assertIs(first.reason, CancelledError);
    assert.equal(ran, false);
    assert.equal(second.status, 'fulfilled', 'the token went on');
    await assertNoLeaks();
  });
});

/** Polls `pred` every millisecond or so until it holds (or fails after `ms`). */
async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const start = performance.now();
  while (!pred()) {
    if (performance.now() - start > ms) assert.fail('condition not reached in time');
    await sleep(1);
  }
}
