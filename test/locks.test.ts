// Behaviour tests for Lock, Event, Condition, Semaphore, BoundedSemaphore and
// Barrier (SPEC "Synchronization and queues" and "Details that code outside
// the project relies on"). Ports the cases of CPython 3.13
// Lib/test/test_asyncio/test_locks.py that apply, translated: milliseconds,
// an aborted signal where CPython cancels a task, `acquire()` handles with
// `using`/`await using` where CPython writes `async with`.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  CancelledError,
  Condition,
  Event,
  InvalidStateError,
  Lock,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  Semaphore,
  TimeoutError,
  createTask,
  gather,
  sleep,
  timeout,
} from '../src/index.ts';
import type { Held } from '../src/index.ts';
import { _hookCount } from '../src/_cancel.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';
import {
  assertCancelled,
  assertUnlinked,
  cancellable,
  probe,
  thrown,
  turn,
  turns,
  until,
  type Probe,
} from './_probes.ts';

/** Asserts `e` is an instance of `cls` (a message of its own: a failing `assert.ok` without one is slow to build). */
function assertIs(e: unknown, cls: abstract new (...args: never[]) => unknown): void {
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
}

// ---------------------------------------------------------------------------
// Helpers

// ---------------------------------------------------------------------------
// Lock

void describe('Lock: basics', () => {
  void test('acquire() locks and resolves to a handle; release() unlocks (test_lock, test_release_no_waiters)', async () => {
    const lock = new Lock();
    assert.equal(lock.locked(), false);
    const held = await lock.acquire();
    assert.equal(lock.locked(), true);
    assert.equal(typeof held.release, 'function');
    assert.equal(typeof held[Symbol.dispose], 'function');
    lock.release();
    assert.equal(lock.locked(), false);
  });

  void test('release() of an unlocked lock throws InvalidStateError (test_release_not_acquired)', () => {
    const lock = new Lock();
    const e = thrown(() => lock.release());
    assert.ok(e instanceof InvalidStateError, `got ${String(e)}`);
    assert.equal((e as Error).name, 'InvalidStateError');
    assert.equal(lock.locked(), false);
  });

  void test('waiters are served first-come first-served (test_acquire)', async () => {
    const lock = new Lock();
    const result: number[] = [];
    await lock.acquire();
    const c = (n: number) => async () => {
      await lock.acquire();
      result.push(n);
      return true;
    };
    const t1 = probe(c(1)());
    const t2 = probe(c(2)());
    await turn();
    assert.deepEqual(result, []);
    lock.release();
    await turn();
    assert.deepEqual(result, [1]);
    await turn();
    assert.deepEqual(result, [1]);
    const t3 = probe(c(3)());
    lock.release();
    await turn();
    assert.deepEqual(result, [1, 2]);
    lock.release();
    await turn();
    assert.deepEqual(result, [1, 2, 3]);
    assert.equal(t1.value, true);
    assert.equal(t2.value, true);
    assert.equal(t3.value, true);
    assert.equal(lock.locked(), true);
    lock.release();
  });

  void test('release() hands the lock straight to the longest waiter: a newcomer cannot barge in', async () => {
    const lock = new Lock();
    const order: string[] = [];
    const first = await lock.acquire();
    const w1 = probe(lock.acquire().then((h) => (order.push('w1'), h)));
    await turn();
    first.release();
    assert.equal(lock.locked(), true, 'the lock passed to w1, it was never free');
    const late = probe(lock.acquire().then((h) => (order.push('late'), h)));
    await turn();
    assert.deepEqual(order, ['w1']);
    assert.ok(late.pending);
    w1.value.release();
    await turn();
    assert.deepEqual(order, ['w1', 'late']);
    late.value.release();
    assert.equal(lock.locked(), false);
  });

  void test('1000 waiters, every third aborted: the others get the lock in order, one at a time', async () => {
    const lock = new Lock();
    const first = await lock.acquire();
    const order: number[] = [];
    let inside = 0;
    const waiters = Array.from({ length: 1000 }, (_, i) => {
      const ac = new AbortController();
      const p = probe(
        (async () => {
          using _h = await lock.acquire({ signal: ac.signal });
          inside++;
          assert.equal(inside, 1);
          order.push(i);
          await Promise.resolve();
          inside--;
        })(),
      );
      return { ac, p, i };
    });
    for (const w of waiters) if (w.i % 3 === 0) w.ac.abort();
    assert.equal(lock.statistics().waiters, 666);
    first.release();
    await Promise.all(waiters.map((w) => w.p.promise.catch(() => undefined)));
    assert.deepEqual(
      order,
      waiters.filter((w) => w.i % 3 !== 0).map((w) => w.i),
    );
    for (const w of waiters) {
      if (w.i % 3 === 0) assertCancelled(w.p);
      assertUnlinked(w.ac.signal);
    }
    assert.equal(lock.locked(), false);
    await assertNoLeaks();
  });

  void test('statistics() and toString()', async () => {
    const lock = new Lock();
    assert.deepEqual(lock.statistics(), { locked: false, waiters: 0 });
    assert.equal(String(lock), '<Lock [unlocked] waiters=0>');
    const held = await lock.acquire();
    const w = probe(lock.acquire());
    assert.deepEqual(lock.statistics(), { locked: true, waiters: 1 });
    assert.equal(String(lock), '<Lock [locked] waiters=1>');
    held.release();
    await turn();
    w.value.release();
    assert.deepEqual(lock.statistics(), { locked: false, waiters: 0 });
  });

  void test('a signal that is not an AbortSignal is a TypeError', () => {
    const lock = new Lock();
    assert.throws(() => lock.acquire({ signal: {} as AbortSignal }), TypeError);
    assert.equal(lock.locked(), false);
  });
});

void describe('Lock: cancellation', () => {
  void test('a waiting acquire cancelled through its signal rejects and leaves the queue (test_acquire_cancel)', async () => {
    const lock = new Lock();
    await lock.acquire();
    const { ac, p } = cancellable((o) => lock.acquire(o));
    await turn();
    assert.equal(lock.statistics().waiters, 1);
    const reason = new Error('stop');
    ac.abort(reason);
    assert.equal(lock.statistics().waiters, 0, 'the aborted waiter left at once');
    await turn();
    const e = assertCancelled(p);
    assert.equal(e.cause, reason);
    assertUnlinked(ac.signal);
    assert.equal(lock.locked(), true, 'still held by its owner');
    lock.release();
    assert.equal(lock.locked(), false, 'nobody inherited the lock');
    await assertNoLeaks();
  });

  void test('a CancelledError reason lends its message', async () => {
    const lock = new Lock();
    await lock.acquire();
    const { ac, p } = cancellable((o) => lock.acquire(o));
    ac.abort(new CancelledError('bye'));
    await turn();
    assert.equal(assertCancelled(p).message, 'bye');
    lock.release();
    await assertNoLeaks();
  });

  void test('a pre-aborted signal rejects at once and takes nothing, free or held (p-queue #241)', async () => {
    const lock = new Lock();
    const ac = new AbortController();
    ac.abort();
    const free = probe(lock.acquire({ signal: ac.signal }));
    await turn();
    assertCancelled(free);
    assert.equal(lock.locked(), false, 'a free lock is not taken by a pre-aborted acquire');
    const held = await lock.acquire();
    const busy = probe(lock.acquire({ signal: ac.signal }));
    assert.equal(lock.statistics().waiters, 0, 'never parked');
    await turn();
    assertCancelled(busy);
    held.release();
    assert.equal(lock.locked(), false);
    assertUnlinked(ac.signal);
    await assertNoLeaks();
  });

  void test('B aborted while A releases: C gets the lock (test_cancel_race)', async () => {
    const lock = new Lock();
    let releaseA!: () => void;
    const blocker = new Promise<void>((r) => (releaseA = r));
    const lockit = async (signal?: AbortSignal, block?: Promise<void>) => {
      await lock.acquire({ signal });
      try {
        if (block) await block;
      } finally {
        lock.release();
      }
    };
    const ta = probe(lockit(undefined, blocker));
    await turn();
    assert.ok(lock.locked());
    const acB = new AbortController();
    const tb = probe(lockit(acB.signal));
    await turn();
    assert.equal(lock.statistics().waiters, 1);
    const tc = probe(lockit());
    await turn();
    assert.equal(lock.statistics().waiters, 2);
    releaseA();
    acB.abort();
    await turns();
    assert.ok(ta.fulfilled);
    assertCancelled(tb);
    assert.ok(tc.fulfilled);
    assert.equal(lock.locked(), false);
    await assertNoLeaks();
  });

  void test('abort t1 and release together: exactly one lock is taken (test_cancel_release_race)', async () => {
    const lock = new Lock();
    let lockCount = 0;
    let callCount = 0;
    const lockit = async (signal: AbortSignal) => {
      callCount++;
      await lock.acquire({ signal });
      lockCount++;
    };
    await lock.acquire();
    const acs = [new AbortController(), new AbortController(), new AbortController()];
    const [t1, t2, t3] = acs.map((ac) => probe(lockit(ac.signal)));
    await turn();
    acs[0]!.abort();
    lock.release();
    await turns();
    assertCancelled(t1!);
    assert.equal(lockCount, 1);
    assert.equal(callCount, 3);
    assert.ok(t2!.fulfilled);
    assert.ok(t3!.pending);
    acs[2]!.abort();
    await turn();
    assertCancelled(t3!);
    assert.equal(lock.statistics().waiters, 0);
    await assertNoLeaks();
  });

  void test('a waiter granted the lock and aborted before it resumed hands it on (test_finished_waiter_cancelled)', async () => {
    const lock = new Lock();
    await lock.acquire();
    const b = cancellable((o) => lock.acquire(o));
    await turn();
    const c = probe(lock.acquire());
    await turn();
    lock.release(); // hands the lock to B ...
    b.ac.abort(); // ... which is cancelled before its code runs
    await turns();
    assertCancelled(b.p);
    assert.ok(c.fulfilled, 'C got the lock B gave back');
    assert.equal(lock.locked(), true);
    assert.equal(lock.statistics().waiters, 0);
    c.value.release();
    assert.equal(lock.locked(), false);
    assertUnlinked(b.ac.signal);
    await assertNoLeaks();
  });

  void test('granted and aborted with nobody behind: the lock ends up free', async () => {
    const lock = new Lock();
    const first = await lock.acquire();
    const b = cancellable((o) => lock.acquire(o));
    first.release();
    b.ac.abort();
    await turns();
    assertCancelled(b.p);
    assert.equal(lock.locked(), false);
    await assertNoLeaks();
  });

  void test('a task cancelled while it waits for the lock ends cancelled; the next waiter is served', async () => {
    const lock = new Lock();
    const first = await lock.acquire();
    let ran = false;
    const t = createTask(async (signal) => {
      using _h = await lock.acquire({ signal });
      ran = true;
    });
    const next = probe(lock.acquire());
    await turn();
    assert.equal(lock.statistics().waiters, 2);
    t.cancel();
    assert.ok((await rejection(t)) instanceof CancelledError);
    assert.equal(t.cancelled(), true);
    assert.equal(lock.statistics().waiters, 1);
    first.release();
    await turn();
    assert.ok(next.fulfilled);
    assert.equal(ran, false);
    next.value.release();
    await assertNoLeaks();
  });
});

void describe('Lock: handles and run()', () => {
  void test('using: the lock is released at the end of the block (test_context_manager)', async () => {
    const lock = new Lock();
    {
      using _held = await lock.acquire();
      assert.equal(lock.locked(), true);
    }
    assert.equal(lock.locked(), false);
  });

  void test('await using: released at the end of the block, even when the block throws', async () => {
    const lock = new Lock();
    {
      await using _held = await lock.acquire();
      assert.equal(lock.locked(), true);
    }
    assert.equal(lock.locked(), false);
    await assert.rejects(async () => {
      await using _held = await lock.acquire();
      throw new Error('boom');
    }, /boom/);
    assert.equal(lock.locked(), false);
  });

  void test('releasing twice through a handle is harmless and never releases a later holder', async () => {
    const lock = new Lock();
    const h1 = await lock.acquire();
    h1.release();
    h1.release();
    h1[Symbol.dispose]();
    assert.equal(lock.locked(), false);
    const h2 = await lock.acquire();
    h1.release();
    h1[Symbol.dispose]();
    assert.equal(lock.locked(), true, "h1's second release did not release h2's hold");
    {
      using h3 = h2;
      h3.release(); // explicit release inside a using block, then dispose at its end
    }
    assert.equal(lock.locked(), false);
  });

  void test('run(fn) holds the lock for the length of fn and returns its value', async () => {
    const lock = new Lock();
    const r = await lock.run(async () => {
      assert.equal(lock.locked(), true);
      await sleep(1);
      assert.equal(lock.locked(), true);
      return 42;
    });
    assert.equal(r, 42);
    assert.equal(lock.locked(), false);
    assert.equal(await lock.run(() => 'sync'), 'sync');
    assert.equal(lock.locked(), false);
  });

  void test('run(fn) releases the lock when fn throws or rejects', async () => {
    const lock = new Lock();
    await assert.rejects(
      lock.run(async () => {
        await sleep(1);
        throw new RangeError('async boom');
      }),
      RangeError,
    );
    assert.equal(lock.locked(), false);
    await assert.rejects(
      lock.run(() => {
        throw new SyntaxError('sync boom');
      }),
      SyntaxError,
    );
    assert.equal(lock.locked(), false);
  });

  void test('run() serializes: the seed counter reaches 5', async () => {
    const lock = new Lock();
    let shared = 0;
    let inside = 0;
    await gather(
      [1, 2, 3, 4, 5].map(
        () => () =>
          lock.run(async () => {
            assert.equal(++inside, 1);
            const v = shared;
            await sleep(1);
            shared = v + 1;
            inside--;
          }),
      ),
    );
    assert.equal(shared, 5);
    await assertNoLeaks();
  });

  void test('run(fn, { signal }) aborted while waiting never calls fn and takes nothing', async () => {
    const lock = new Lock();
    const held = await lock.acquire();
    let called = 0;
    const ac = new AbortController();
    const r = probe(lock.run(() => void called++, { signal: ac.signal }));
    await turn();
    ac.abort();
    await turn();
    assertCancelled(r);
    const pre = probe(lock.run(() => void called++, { signal: ac.signal }));
    await turn();
    assertCancelled(pre);
    held.release();
    assert.equal(called, 0);
    assert.equal(lock.locked(), false);
    await assertNoLeaks();
  });

  void test('run() with a non-function is a TypeError', async () => {
    const lock = new Lock();
    await assert.rejects(async () => lock.run(42 as unknown as () => void), TypeError);
    assert.equal(lock.locked(), false);
  });
});

// ---------------------------------------------------------------------------
// Event

void describe('Event', () => {
  void test('set(), isSet(), clear() (test_clear)', () => {
    const ev = new Event();
    assert.equal(ev.isSet(), false);
    ev.set();
    assert.equal(ev.isSet(), true);
    ev.set();
    assert.equal(ev.isSet(), true);
    ev.clear();
    assert.equal(ev.isSet(), false);
  });

  void test('set() wakes every waiter, in the order they waited; wait() resolves to true (test_wait)', async () => {
    const ev = new Event();
    const result: number[] = [];
    const c = (n: number) => async () => {
      if ((await ev.wait()) === true) result.push(n);
      return n;
    };
    const t1 = probe(c(1)());
    const t2 = probe(c(2)());
    await turn();
    assert.deepEqual(result, []);
    const t3 = probe(c(3)());
    ev.set();
    await turn();
    assert.deepEqual(result, [1, 2, 3]);
    assert.deepEqual([t1.value, t2.value, t3.value], [1, 2, 3]);
    assert.equal(ev.statistics().waiters, 0);
  });

  void test('wait() on a set event resolves to true at once (test_wait_on_set)', async () => {
    const ev = new Event();
    ev.set();
    assert.equal(await ev.wait(), true);
  });

  void test('a cancelled wait rejects and leaves no waiter (test_wait_cancel)', async () => {
    const ev = new Event();
    const { ac, p } = cancellable((o) => ev.wait(o));
    await turn();
    assert.equal(ev.statistics().waiters, 1);
    ac.abort();
    assert.equal(ev.statistics().waiters, 0);
    await turn();
    assertCancelled(p);
    assertUnlinked(ac.signal);
    await assertNoLeaks();
  });

  void test('a pre-aborted signal rejects even when the event is set', async () => {
    const ev = new Event();
    const ac = new AbortController();
    ac.abort();
    const unset = probe(ev.wait({ signal: ac.signal }));
    ev.set();
    const set = probe(ev.wait({ signal: ac.signal }));
    await turn();
    assertCancelled(unset);
    assertCancelled(set);
    assert.equal(ev.statistics().waiters, 0);
    await assertNoLeaks();
  });

  void test('set() then clear() still wakes the waiters of that set() (test_clear_with_waiters)', async () => {
    const ev = new Event();
    const t = probe(ev.wait());
    await turn();
    ev.set();
    ev.clear();
    assert.equal(ev.isSet(), false);
    ev.set();
    ev.set();
    await turn();
    assert.equal(t.value, true);
    assert.equal(ev.statistics().waiters, 0);
  });

  void test('clear() right after set() leaves no promise unsettled, and later waits block again', async () => {
    const ev = new Event();
    const ps = Array.from({ length: 5 }, () => probe(ev.wait()));
    ev.set();
    ev.clear();
    await turn();
    for (const p of ps) assert.equal(p.value, true);
    const later = probe(ev.wait());
    await turn();
    assert.ok(later.pending);
    ev.set();
    await turn();
    assert.equal(later.value, true);
  });

  void test('waiters with cancellations mixed in: the aborted ones reject, the rest wake in order', async () => {
    const ev = new Event();
    const order: number[] = [];
    const ws = Array.from({ length: 6 }, (_, i) => {
      const ac = new AbortController();
      const p = probe(ev.wait({ signal: ac.signal }).then((v) => (order.push(i), v)));
      return { ac, p, i };
    });
    const plain = probe(ev.wait().then((v) => (order.push(99), v)));
    ws[1]!.ac.abort();
    ws[4]!.ac.abort();
    assert.equal(ev.statistics().waiters, 5);
    await turn();
    assertCancelled(ws[1]!.p);
    assertCancelled(ws[4]!.p);
    ev.set();
    ws[5]!.ac.abort(); // after the wake-up: it already has its `true`, or it rejects; either way it settles
    await turns();
    assert.deepEqual(
      order.filter((i) => i !== 5),
      [0, 2, 3, 99],
    );
    assert.ok(plain.fulfilled);
    for (const w of ws) {
      assert.ok(!w.p.pending, `waiter ${w.i} settled`);
      assertUnlinked(w.ac.signal);
    }
    assert.equal(ev.statistics().waiters, 0);
    await assertNoLeaks();
  });

  void test('many waits on one long-lived signal leave no listener behind', async () => {
    const ev = new Event();
    const ac = new AbortController();
    for (let round = 0; round < 3; round++) {
      const ps = Array.from({ length: 100 }, () => ev.wait({ signal: ac.signal }));
      ev.set();
      await Promise.all(ps);
      ev.clear();
    }
    assertUnlinked(ac.signal);
  });

  void test('statistics() and toString()', () => {
    const ev = new Event();
    assert.equal(String(ev), '<Event [unset] waiters=0>');
    const p = probe(ev.wait());
    assert.deepEqual(ev.statistics(), { set: false, waiters: 1 });
    assert.equal(String(ev), '<Event [unset] waiters=1>');
    ev.set();
    assert.deepEqual(ev.statistics(), { set: true, waiters: 0 });
    assert.equal(String(ev), '<Event [set] waiters=0>');
    void p;
  });
});

// ---------------------------------------------------------------------------
// Condition

/** A task-like waiter on a condition: acquire, wait, record, release. */
function condWaiter(cond: Condition, result: number[], n: number, signal?: AbortSignal): Probe<boolean> {
  return probe(
    (async () => {
      await cond.acquire();
      try {
        if (await cond.wait({ signal })) result.push(n);
        return true;
      } finally {
        cond.release();
      }
    })(),
  );
}

void describe('Condition: wait and notify', () => {
  void test('notify() wakes waiters in order, each re-acquiring the lock (test_wait)', async () => {
    const cond = new Condition();
    const result: number[] = [];
    // As in CPython's test_wait, the waiters keep the lock once woken.
    const c = (n: number) =>
      probe(
        (async () => {
          await cond.acquire();
          if (await cond.wait()) result.push(n);
          return true;
        })(),
      );
    const t1 = c(1);
    const t2 = c(2);
    const t3 = c(3);
    await turn();
    assert.deepEqual(result, []);
    assert.equal(cond.locked(), false);
    await cond.acquire();
    cond.notify();
    await turn();
    assert.deepEqual(result, []);
    assert.equal(cond.locked(), true);
    cond.release();
    await turn();
    assert.deepEqual(result, [1]);
    assert.equal(cond.locked(), true);
    cond.notify(2);
    await turn();
    assert.deepEqual(result, [1]);
    cond.release();
    await turn();
    assert.deepEqual(result, [1, 2]);
    assert.equal(cond.locked(), true);
    cond.release();
    await turn();
    assert.deepEqual(result, [1, 2, 3]);
    assert.equal(cond.locked(), true);
    assert.equal(t1.value, true);
    assert.equal(t2.value, true);
    assert.equal(t3.value, true);
    cond.release();
  });

  void test('notify(1), then notify(1) and notify(2048) (test_notify)', async () => {
    const cond = new Condition();
    const result: number[] = [];
    const ts = [1, 2, 3].map((n) => condWaiter(cond, result, n));
    await turn();
    await cond.acquire();
    cond.notify(1);
    cond.release();
    await turn();
    assert.deepEqual(result, [1]);
    await cond.acquire();
    cond.notify(1);
    cond.notify(2048);
    cond.release();
    await turn();
    assert.deepEqual(result, [1, 2, 3]);
    for (const t of ts) assert.equal(t.value, true);
    assert.equal(cond.locked(), false);
  });

  void test('notifyAll() wakes every waiter (test_notify_all)', async () => {
    const cond = new Condition();
    const result: number[] = [];
    const ts = [1, 2].map((n) => condWaiter(cond, result, n));
    await turn();
    await cond.run(() => cond.notifyAll());
    await turn();
    assert.deepEqual(result, [1, 2]);
    for (const t of ts) assert.equal(t.value, true);
  });

  void test('notify(n) wakes exactly n waiters, skipping aborted ones; notify(0) wakes none', async () => {
    const cond = new Condition();
    const result: number[] = [];
    const acs = Array.from({ length: 6 }, () => new AbortController());
    const ts = acs.map((ac, i) => condWaiter(cond, result, i, ac.signal));
    await turn();
    assert.equal(cond.statistics().waiters, 6);
    acs[0]!.abort();
    acs[2]!.abort();
    assert.equal(cond.statistics().waiters, 4);
    await cond.acquire();
    cond.notify(0);
    cond.release();
    await turns();
    assert.deepEqual(result, []);
    await cond.acquire();
    cond.notify(2);
    cond.release();
    await turns();
    assert.deepEqual(result, [1, 3]);
    assert.equal(cond.statistics().waiters, 2);
    assertCancelled(ts[0]!);
    assertCancelled(ts[2]!);
    await cond.run(() => cond.notifyAll());
    await turns();
    assert.deepEqual(result, [1, 3, 4, 5]);
    assert.equal(cond.locked(), false);
    for (const ac of acs) assertUnlinked(ac.signal);
    await assertNoLeaks();
  });

  void test('notify(-1) is a RangeError', async () => {
    const cond = new Condition();
    await cond.acquire();
    assert.throws(() => cond.notify(-1), RangeError);
    cond.release();
  });

  void test('wait(), notify(), notifyAll() without the lock are InvalidStateError (test_wait_unacquired, test_notify_unacquired)', async () => {
    const cond = new Condition();
    assert.ok((await rejection(cond.wait())) instanceof InvalidStateError);
    assert.ok(thrown(() => cond.notify()) instanceof InvalidStateError);
    assert.ok(thrown(() => cond.notifyAll()) instanceof InvalidStateError);
    assert.equal(cond.locked(), false);
  });

  void test('waitFor(pred) waits until the predicate holds and returns its value (test_wait_for)', async () => {
    const cond = new Condition();
    let presult: number | false = false;
    const result: number[] = [];
    const t = probe(
      (async () => {
        await cond.acquire();
        const v = (await cond.waitFor(() => presult)) as number;
        result.push(v);
        cond.release();
        return v;
      })(),
    );
    await turn();
    assert.deepEqual(result, []);
    await cond.acquire();
    cond.notify();
    cond.release();
    await turn();
    assert.deepEqual(result, []);
    presult = 7;
    await cond.acquire();
    cond.notify();
    cond.release();
    await turn();
    assert.deepEqual(result, [7]);
    assert.equal(t.value, 7);
  });

  void test('waitFor without the lock: a true predicate returns at once, a false one is InvalidStateError (test_wait_for_unacquired)', async () => {
    const cond = new Condition();
    assert.deepEqual(await cond.waitFor(() => [1, 2, 3]), [1, 2, 3]);
    assert.ok((await rejection(cond.waitFor(() => false))) instanceof InvalidStateError);
  });

  void test('using and run() on a Condition (test_context_manager)', async () => {
    const cond = new Condition();
    {
      using _held = await cond.acquire();
      assert.equal(cond.locked(), true);
    }
    assert.equal(cond.locked(), false);
    assert.equal(await cond.run(() => cond.locked()), true);
    assert.equal(cond.locked(), false);
    await assert.rejects(
      cond.run(() => {
        throw new Error('x');
      }),
      /x/,
    );
    assert.equal(cond.locked(), false);
  });

  void test('an explicit lock is shared with the condition (test_explicit_lock)', async () => {
    const check = async (lock: Lock, cond: Condition) => {
      assert.equal(lock.locked(), false);
      assert.equal(cond.locked(), false);
      {
        using _h = await cond.acquire();
        assert.equal(lock.locked(), true);
        assert.equal(cond.locked(), true);
      }
      assert.equal(lock.locked(), false);
      {
        using _h = await lock.acquire();
        assert.equal(cond.locked(), true);
      }
      assert.equal(cond.locked(), false);
    };
    const lock = new Lock();
    await check(lock, new Condition(lock));
    const lock2 = new Lock();
    await check(lock2, new Condition(lock2));
  });

  void test('Condition(non-Lock) is a TypeError', () => {
    assert.throws(() => new Condition({} as Lock), TypeError);
  });

  void test('statistics() and toString()', async () => {
    const cond = new Condition();
    assert.equal(String(cond), '<Condition [unlocked] waiters=0>');
    await cond.acquire();
    const w = probe(cond.wait());
    await turn();
    await cond.acquire();
    assert.deepEqual(cond.statistics(), { locked: true, waiters: 1 });
    assert.equal(String(cond), '<Condition [locked] waiters=1>');
    cond.notify();
    cond.release();
    await turn();
    assert.equal(w.value, true);
    cond.release();
  });
});

void describe('Condition: cancellation', () => {
  void test('a cancelled wait rejects with the lock re-acquired and leaves no waiter (test_wait_cancel)', async () => {
    const cond = new Condition();
    await cond.acquire();
    const { ac, p } = cancellable((o) => cond.wait(o));
    await turn();
    assert.equal(cond.locked(), false, 'wait() released the lock');
    ac.abort();
    await turns();
    assertCancelled(p);
    assert.equal(cond.statistics().waiters, 0);
    assert.equal(cond.locked(), true, 'the lock was re-acquired');
    cond.release();
    assertUnlinked(ac.signal);
    await assertNoLeaks();
  });

  void test('a cancelled wait does not reject until it has the lock back', async () => {
    const cond = new Condition();
    await cond.acquire();
    const { ac, p } = cancellable((o) => cond.wait(o));
    await turn();
    const other = await cond.acquire();
    ac.abort();
    await turns();
    assert.ok(p.pending, 'still waiting for the lock held by someone else');
    other.release();
    await turns();
    assertCancelled(p);
    assert.equal(cond.locked(), true);
    cond.release();
    await assertNoLeaks();
  });

  void test('a pre-aborted wait rejects without releasing the lock', async () => {
    const cond = new Condition();
    await cond.acquire();
    const ac = new AbortController();
    ac.abort();
    const w = probe(cond.wait({ signal: ac.signal }));
    assert.equal(cond.locked(), true);
    await turn();
    assertCancelled(w);
    assert.equal(cond.locked(), true);
    assert.equal(cond.statistics().waiters, 0);
    cond.release();
    await assertNoLeaks();
  });

  void test('notify, abort and release in one go: the waiter ends holding the lock either way (test_wait_cancel_contested)', async () => {
    const cond = new Condition();
    await cond.acquire();
    const { ac, p } = cancellable((o) => cond.wait(o));
    await turn();
    assert.equal(cond.locked(), false);
    await cond.acquire();
    cond.notify();
    ac.abort();
    cond.release();
    await turns();
    assert.ok(!p.pending);
    assert.equal(cond.locked(), true);
    cond.release();
    await assertNoLeaks();
  });

  void test('a waiter notified then aborted before it resumed passes the notification on', async () => {
    const cond = new Condition();
    const result: number[] = [];
    const acs = [new AbortController(), new AbortController(), new AbortController()];
    const ts = acs.map((ac, i) => condWaiter(cond, result, i, ac.signal));
    await turn();
    await cond.acquire();
    cond.notify(1); // goes to waiter 0 ...
    acs[0]!.abort(); // ... which is cancelled before its code runs
    cond.release();
    await turns();
    assertCancelled(ts[0]!);
    assert.deepEqual(result, [1], 'waiter 1 got the notification; exactly one woke');
    assert.ok(ts[2]!.pending);
    assert.equal(cond.statistics().waiters, 1);
    assert.equal(cond.locked(), false);
    acs[2]!.abort();
    await turns();
    assertCancelled(ts[2]!);
    await assertNoLeaks();
  });

  void test('cancelled while re-acquiring the lock after a notify: CancelledError, lock held, notification passed on (test_wait_cancel_after_notify)', async () => {
    const cond = new Condition();
    let waited = false;
    const acA = new AbortController();
    const a = probe(
      (async () => {
        using _h = await cond.acquire();
        waited = true;
        await cond.wait({ signal: acA.signal });
      })(),
    );
    const result: number[] = [];
    const b = condWaiter(cond, result, 2);
    await turn();
    assert.equal(cond.statistics().waiters, 2);
    await cond.acquire();
    cond.notify(1);
    await turns(); // A is past its notification and waits for the lock
    assert.ok(a.pending);
    acA.abort();
    await turns();
    cond.release();
    await turns();
    assert.ok(waited);
    assertCancelled(a);
    assert.deepEqual(result, [2], 'the notification A could not use went to B');
    assert.ok(b.fulfilled);
    assert.equal(cond.locked(), false);
    await assertNoLeaks();
  });

  void test('waitFor(pred, { signal }) cancelled: CancelledError with the lock held', async () => {
    const cond = new Condition();
    await cond.acquire();
    const { ac, p } = cancellable((o) => cond.waitFor(() => false, o));
    await turn();
    ac.abort();
    await turns();
    assertCancelled(p);
    assert.equal(cond.locked(), true);
    cond.release();
    await assertNoLeaks();
  });

  void test('a timeout around wait() inside the block: TimeoutError and the lock is held again (test_timeout_in_block)', async () => {
    const cond = new Condition();
    {
      using _h = await cond.acquire();
      await assert.rejects(
        timeout(20, (signal) => cond.wait({ signal })),
        TimeoutError,
      );
      assert.equal(cond.locked(), true);
    }
    assert.equal(cond.locked(), false);
    await assertNoLeaks();
  });

  void test('a task cancelled in cond.wait() ends cancelled and its using-block releases the lock', async () => {
    const cond = new Condition();
    const t = createTask(async (signal) => {
      using _h = await cond.acquire({ signal });
      await cond.wait({ signal });
    });
    await turn();
    assert.equal(cond.statistics().waiters, 1);
    t.cancel();
    assert.ok((await rejection(t)) instanceof CancelledError);
    assert.equal(t.cancelled(), true);
    assert.equal(cond.locked(), false);
    assert.equal(cond.statistics().waiters, 0);
    await assertNoLeaks();
  });
});

void describe('Condition: mixed waiter kinds on one lock', () => {
  void test('woken condition waiters queue on the lock behind earlier plain acquirers (FIFO)', async () => {
    const lock = new Lock();
    const cond = new Condition(lock);
    const order: string[] = [];
    const c1 = probe(
      (async () => {
        using _h = await cond.acquire();
        await cond.wait();
        order.push('c1');
      })(),
    );
    await turn();
    const main = await lock.acquire();
    const x = probe(
      (async () => {
        using _h = await lock.acquire();
        order.push('x');
        await sleep(1);
      })(),
    );
    await turn();
    cond.notify(); // c1 resumes and queues for the lock, behind x
    await turn();
    const y = probe(
      (async () => {
        using _h = await lock.acquire();
        order.push('y');
      })(),
    );
    await turn();
    assert.equal(lock.statistics().waiters, 3);
    main.release();
    await Promise.all([c1.promise, x.promise, y.promise]);
    assert.deepEqual(order, ['x', 'c1', 'y']);
    assert.equal(lock.locked(), false);
    await assertNoLeaks();
  });

  void test('condition waiters, lock acquirers and cancellations together: nothing stuck, nothing lost', async () => {
    const lock = new Lock();
    const cond = new Condition(lock);
    const done: string[] = [];
    const acs: AbortController[] = [];
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      const ac = new AbortController();
      acs.push(ac);
      if (i % 2 === 0) {
        jobs.push(
          (async () => {
            using _h = await cond.acquire();
            await cond.wait({ signal: ac.signal });
            done.push(`w${i}`);
          })().catch((e: unknown) => {
            assert.ok(e instanceof CancelledError);
            done.push(`w${i}!`);
          }),
        );
      } else {
        jobs.push(
          lock
            .run(
              async () => {
                await sleep(1);
                done.push(`a${i}`);
              },
              { signal: ac.signal },
            )
            .catch((e: unknown) => {
              assert.ok(e instanceof CancelledError);
              done.push(`a${i}!`);
            }),
        );
      }
    }
    acs[3]!.abort(); // a3 is still queued for the lock
    acs[4]!.abort(); // w4 will find its signal aborted when it reaches wait()
    await until(() => cond.statistics().waiters === 4);
    await cond.run(() => cond.notifyAll());
    await Promise.all(jobs);
    assert.equal(done.length, 10);
    assert.ok(done.includes('a3!'));
    assert.ok(done.includes('w4!'));
    for (const i of [0, 2, 6, 8]) assert.ok(done.includes(`w${i}`), `w${i} woke`);
    for (const i of [1, 5, 7, 9]) assert.ok(done.includes(`a${i}`), `a${i} ran`);
    assert.equal(lock.locked(), false);
    assert.equal(cond.statistics().waiters, 0);
    for (const ac of acs) assertUnlinked(ac.signal);
    await assertNoLeaks();
  });
});

// ---------------------------------------------------------------------------
// Semaphore

void describe('Semaphore: basics', () => {
  void test('Semaphore(0) is locked; the default value is 1 (test_initial_value_zero)', async () => {
    assert.equal(new Semaphore(0).locked(), true);
    const sem = new Semaphore();
    assert.equal(sem.locked(), false);
    await sem.acquire();
    assert.equal(sem.locked(), true);
  });

  void test('a negative or non-integer value is a RangeError (test_semaphore_value)', () => {
    assert.throws(() => new Semaphore(-1), RangeError);
    assert.throws(() => new Semaphore(NaN), RangeError);
    assert.throws(() => new Semaphore(1.5), RangeError);
    assert.throws(() => new BoundedSemaphore(-1), RangeError);
  });

  void test('acquire() takes permits until none is free, then waits (test_acquire)', async () => {
    const sem = new Semaphore(3);
    const result: number[] = [];
    await sem.acquire();
    await sem.acquire();
    assert.equal(sem.locked(), false);
    const c = (n: number) =>
      probe(
        (async () => {
          await sem.acquire();
          result.push(n);
          return true;
        })(),
      );
    const t1 = c(1);
    const t2 = c(2);
    const t3 = c(3);
    await turn();
    assert.deepEqual(result, [1]);
    assert.equal(sem.locked(), true);
    assert.deepEqual(sem.statistics(), { value: 0, waiters: 2 });
    const t4 = c(4);
    sem.release();
    sem.release();
    assert.equal(sem.statistics().value, 0);
    await turn();
    assert.deepEqual(result, [1, 2, 3]);
    assert.deepEqual(sem.statistics(), { value: 0, waiters: 1 });
    assert.ok(t1.fulfilled && t2.fulfilled && t3.fulfilled);
    assert.ok(t4.pending);
    sem.release();
    await turn();
    assert.ok(t4.fulfilled);
  });

  void test('release() with no waiters frees a permit; a plain Semaphore may go above its start (test_release_no_waiters)', async () => {
    const sem = new Semaphore();
    await sem.acquire();
    assert.equal(sem.locked(), true);
    sem.release();
    assert.equal(sem.locked(), false);
    sem.release();
    assert.equal(sem.statistics().value, 2);
  });

  void test('two rounds of acquire in FIFO order (test_acquire_fifo_order)', async () => {
    const sem = new Semaphore(1);
    const result: string[] = [];
    const coro = (tag: string) => async () => {
      await sem.acquire();
      result.push(`${tag}_1`);
      await sleep(10);
      sem.release();
      await sem.acquire();
      result.push(`${tag}_2`);
      await sleep(10);
      sem.release();
    };
    await gather([coro('c1'), coro('c2'), coro('c3')]);
    assert.deepEqual(result, ['c1_1', 'c2_1', 'c3_1', 'c1_2', 'c2_2', 'c3_2']);
    await assertNoLeaks();
  });

  void test('a waiter that releases and re-acquires goes to the back (test_acquire_fifo_order_2)', async () => {
    const sem = new Semaphore(1);
    const result: number[] = [];
    const c1 = async () => {
      await sem.acquire();
      result.push(1);
    };
    const c2 = async () => {
      await sem.acquire();
      result.push(2);
      sem.release();
      await sem.acquire();
      result.push(4);
    };
    const c3 = async () => {
      await sem.acquire();
      result.push(3);
    };
    const ps = [c1(), c2(), c3()];
    await turn();
    sem.release();
    sem.release();
    await Promise.all(ps);
    assert.deepEqual(result, [1, 2, 3, 4]);
  });

  void test('statistics() and toString()', async () => {
    const sem = new Semaphore(2);
    assert.deepEqual(sem.statistics(), { value: 2, waiters: 0 });
    assert.equal(String(sem), '<Semaphore [unlocked] value=2 waiters=0>');
    await sem.acquire();
    await sem.acquire();
    const w = probe(sem.acquire());
    assert.equal(String(sem), '<Semaphore [locked] value=0 waiters=1>');
    sem.release();
    await turn();
    assert.ok(w.fulfilled);
    assert.equal(String(new BoundedSemaphore(3)), '<BoundedSemaphore [unlocked] value=3 waiters=0>');
  });
});

void describe('Semaphore: cancellation', () => {
  void test('a cancelled acquire rejects and leaves no waiter (test_acquire_cancel)', async () => {
    const sem = new Semaphore();
    await sem.acquire();
    const { ac, p } = cancellable((o) => sem.acquire(o));
    await turn();
    ac.abort();
    assert.equal(sem.statistics().waiters, 0);
    await turn();
    assertCancelled(p);
    sem.release();
    assert.equal(sem.statistics().value, 1, 'the cancelled waiter took no permit');
    assertUnlinked(ac.signal);
    await assertNoLeaks();
  });

  void test('two cancelled before the release: the third is served, the fourth still waits (test_acquire_cancel_before_awoken)', async () => {
    const sem = new Semaphore(0);
    const ws = Array.from({ length: 4 }, () => cancellable((o) => sem.acquire(o)));
    await turn();
    ws[0]!.ac.abort();
    ws[1]!.ac.abort();
    sem.release();
    await turns();
    assertCancelled(ws[0]!.p);
    assertCancelled(ws[1]!.p);
    assert.ok(ws[2]!.p.fulfilled);
    assert.ok(ws[3]!.p.pending);
    ws[3]!.ac.abort();
    await turn();
    assertCancelled(ws[3]!.p);
    assert.deepEqual(sem.statistics(), { value: 0, waiters: 0 });
    await assertNoLeaks();
  });

  void test('cancel one, release one: the other gets it and the semaphore stays locked (test_acquire_hang)', async () => {
    const sem = new Semaphore(0);
    const t1 = cancellable((o) => sem.acquire(o));
    const t2 = probe(sem.acquire());
    await turn();
    t1.ac.abort();
    sem.release();
    await turns();
    assertCancelled(t1.p);
    assert.ok(t2.fulfilled);
    assert.equal(sem.locked(), true);
    await assertNoLeaks();
  });

  void test('granted a permit and aborted before it resumed: the permit is handed back (test_acquire_no_hang)', async () => {
    const sem = new Semaphore(1);
    const ac2 = new AbortController();
    let c2ran = false;
    const c1 = async () => {
      {
        using _h = await sem.acquire();
        await sleep(0);
      } // releases, handing the permit to c2 ...
      ac2.abort(); // ... which is cancelled before it resumes
    };
    const c2 = async () => {
      using _h = await sem.acquire({ signal: ac2.signal });
      c2ran = true;
    };
    const [r1, r2] = await gather([c1, c2], { returnExceptions: true });
    assert.equal(r1, undefined);
    assert.ok(r2 instanceof CancelledError, `got ${String(r2)}`);
    assert.equal(c2ran, false);
    assert.deepEqual(sem.statistics(), { value: 1, waiters: 0 });
    const h = await timeout(1000, () => sem.acquire());
    h.release();
    await assertNoLeaks();
  });

  void test('granted and aborted synchronously after release(): the next waiter gets the permit', async () => {
    const sem = new Semaphore(0);
    const w1 = cancellable((o) => sem.acquire(o));
    const w2 = probe(sem.acquire());
    const w3 = probe(sem.acquire());
    await turn();
    sem.release();
    w1.ac.abort();
    await turns();
    assertCancelled(w1.p);
    assert.ok(w2.fulfilled);
    assert.ok(w3.pending);
    assert.deepEqual(sem.statistics(), { value: 0, waiters: 1 });
    w2.value.release();
    await turn();
    assert.ok(w3.fulfilled);
    await assertNoLeaks();
  });

  void test('a cancelled waiter in front: later waiters keep their order (test_acquire_fifo_order_3)', async () => {
    const sem = new Semaphore(0);
    const result: number[] = [];
    const acs = [new AbortController(), new AbortController(), new AbortController()];
    const ps = acs.map((ac, i) =>
      probe(
        (async () => {
          await sem.acquire({ signal: ac.signal });
          result.push(i + 1);
        })(),
      ),
    );
    await turn();
    acs[0]!.abort();
    await turn();
    sem.release();
    sem.release();
    await turns();
    assert.deepEqual(result, [2, 3]);
    assertCancelled(ps[0]!);
    await assertNoLeaks();
  });

  void test('a pre-aborted acquire rejects at once, at capacity or not, and takes no permit (p-queue #241)', async () => {
    const ac = new AbortController();
    ac.abort();
    const sem = new Semaphore(1);
    const free = probe(sem.acquire({ signal: ac.signal }));
    await turn();
    assertCancelled(free);
    assert.equal(sem.statistics().value, 1);
    await sem.acquire();
    const full = probe(sem.acquire({ signal: ac.signal }));
    assert.equal(sem.statistics().waiters, 0);
    await turn();
    assertCancelled(full);
    await assertNoLeaks();
  });

  void test('aborted waiters stop counting at once (p-queue #219)', async () => {
    const sem = new Semaphore(0);
    const ws = Array.from({ length: 10 }, () => cancellable((o) => sem.acquire(o)));
    for (const w of ws.slice(0, 7)) w.ac.abort();
    assert.equal(sem.statistics().waiters, 3);
    for (let i = 0; i < 3; i++) sem.release();
    await turns();
    for (const w of ws.slice(7)) assert.ok(w.p.fulfilled);
    assert.deepEqual(sem.statistics(), { value: 0, waiters: 0 });
    await assertNoLeaks();
  });
});

void describe('Semaphore: handles and run()', () => {
  void test('using and await using return the permit', async () => {
    const sem = new Semaphore(2);
    {
      using _a = await sem.acquire();
      await using _b = await sem.acquire();
      assert.equal(sem.locked(), true);
    }
    assert.equal(sem.statistics().value, 2);
  });

  void test('releasing twice through a handle returns one permit only', async () => {
    const sem = new Semaphore(1);
    const h = await sem.acquire();
    h.release();
    h.release();
    h[Symbol.dispose]();
    assert.equal(sem.statistics().value, 1);
  });

  void test('run(fn) limits concurrency and releases on error', async () => {
    const sem = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const results = await gather(
      Array.from(
        { length: 6 },
        (_, i) => () =>
          sem.run(async () => {
            peak = Math.max(peak, ++running);
            await sleep(2);
            running--;
            if (i === 3) throw new Error(`job ${i}`);
            return i;
          }),
      ),
      { returnExceptions: true },
    );
    assert.equal(peak, 2);
    assert.deepEqual(results.slice(0, 3), [0, 1, 2]);
    assert.ok(results[3] instanceof Error);
    assert.deepEqual(results.slice(4), [4, 5]);
    assert.deepEqual(sem.statistics(), { value: 2, waiters: 0 });
    await assertNoLeaks();
  });
});

void describe('BoundedSemaphore', () => {
  void test('release() above the initial value is a RangeError (test_release_not_acquired)', () => {
    const sem = new BoundedSemaphore();
    assert.throws(() => sem.release(), RangeError);
    assert.equal(sem.statistics().value, 1);
  });

  void test('acquire and release up to the bound, then RangeError', async () => {
    const sem = new BoundedSemaphore(2);
    await sem.acquire();
    await sem.acquire();
    sem.release();
    sem.release();
    assert.throws(() => sem.release(), RangeError);
    assert.equal(sem.statistics().value, 2);
  });

  void test('a handle released twice never trips the bound', async () => {
    const sem = new BoundedSemaphore(1);
    const h = await sem.acquire();
    h.release();
    assert.doesNotThrow(() => h.release());
    assert.doesNotThrow(() => h[Symbol.dispose]());
    assert.equal(sem.statistics().value, 1);
  });

  void test('a permit handed back by a waiter cancelled after its grant does not trip the bound', async () => {
    const sem = new BoundedSemaphore(1);
    const first = await sem.acquire();
    const w = cancellable((o) => sem.acquire(o));
    first.release();
    w.ac.abort();
    await turns();
    assertCancelled(w.p);
    assert.deepEqual(sem.statistics(), { value: 1, waiters: 0 });
    assert.throws(() => sem.release(), RangeError);
    await assertNoLeaks();
  });

  void test('run() on a BoundedSemaphore', async () => {
    const sem = new BoundedSemaphore(1);
    assert.equal(await sem.run(() => sem.locked()), true);
    await assert.rejects(
      sem.run(() => Promise.reject(new Error('no'))),
      /no/,
    );
    assert.equal(sem.statistics().value, 1);
  });
});

// ---------------------------------------------------------------------------
// Barrier

void describe('Barrier', () => {
  void test('parties must be a positive integer (test_barrier_parties)', () => {
    assert.throws(() => new Barrier(0), RangeError);
    assert.throws(() => new Barrier(-4), RangeError);
    assert.throws(() => new Barrier(1.5), RangeError);
    assert.throws(() => new Barrier(NaN), RangeError);
    const b = new Barrier(5);
    assert.equal(b.parties, 5);
    assert.equal(b.nWaiting, 0);
    assert.equal(b.broken, false);
  });

  void test('wait() resolves to the arrival index 0 .. parties-1 (test_context_manager)', async () => {
    const barrier = new Barrier(5);
    const ps = Array.from({ length: 5 }, () => barrier.wait());
    const indices = await Promise.all(ps);
    assert.deepEqual(indices, [0, 1, 2, 3, 4]);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  void test('Barrier(1): each wait passes at once with index 0 (test_filling_one_task, _twice)', async () => {
    const barrier = new Barrier(1);
    assert.equal(await barrier.wait(), 0);
    assert.equal(await barrier.wait(), 0);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  void test('filling task by task: nWaiting counts up, then all pass (test_filling_task_by_task)', async () => {
    const barrier = new Barrier(3);
    const t1 = probe(barrier.wait());
    assert.equal(barrier.nWaiting, 1);
    assert.match(String(barrier), /filling/);
    const t2 = probe(barrier.wait());
    assert.equal(barrier.nWaiting, 2);
    await turn();
    assert.ok(t1.pending && t2.pending);
    const t3 = probe(barrier.wait());
    await turn();
    assert.deepEqual([t1.value, t2.value, t3.value], [0, 1, 2]);
    assert.equal(barrier.nWaiting, 0);
  });

  void test('several cycles: each gives every index once (test_filling_tasks_wait_twice, _check_return_value)', async () => {
    const N = 5;
    const barrier = new Barrier(N);
    const first: number[] = [];
    const second: number[] = [];
    await gather(
      Array.from({ length: N }, () => async () => {
        first.push(await barrier.wait());
        second.push(await barrier.wait());
      }),
    );
    assert.deepEqual(
      [...first].sort((a, b) => a - b),
      [0, 1, 2, 3, 4],
    );
    assert.deepEqual(
      [...second].sort((a, b) => a - b),
      [0, 1, 2, 3, 4],
    );
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  void test('tasks that wait again right away do not disturb the next cycle (test_blocking_tasks_while_draining)', async () => {
    const N = 5;
    const rewait = 2;
    const barrier = new Barrier(N);
    const other = new Barrier(N - rewait);
    let rewaitN = rewait;
    await gather(
      Array.from({ length: N }, () => async () => {
        await barrier.wait();
        if (rewaitN > 0) {
          rewaitN--;
          await barrier.wait();
        } else {
          await other.wait();
          await barrier.wait();
        }
      }),
    );
    assert.equal(barrier.nWaiting, 0);
  });

  void test('a cancelled waiter takes no slot (test_filling_tasks_cancel_one)', async () => {
    const barrier = new Barrier(3);
    const t1 = cancellable((o) => barrier.wait(o));
    const t2 = probe(barrier.wait());
    assert.equal(barrier.nWaiting, 2);
    t1.ac.abort();
    assert.equal(barrier.nWaiting, 1);
    await turn();
    assertCancelled(t1.p);
    const t3 = probe(barrier.wait());
    assert.equal(barrier.nWaiting, 2);
    await turn();
    assert.ok(t2.pending && t3.pending, 'the cancelled waiter did not count as a party');
    const t4 = probe(barrier.wait());
    await turn();
    assert.deepEqual([t2.value, t3.value, t4.value], [0, 1, 2]);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
    assertUnlinked(t1.ac.signal);
    await assertNoLeaks();
  });

  void test('a pre-aborted wait rejects and never trips the barrier, even as the last party', async () => {
    const barrier = new Barrier(2);
    const t1 = probe(barrier.wait());
    const ac = new AbortController();
    ac.abort();
    const t2 = probe(barrier.wait({ signal: ac.signal }));
    await turn();
    assertCancelled(t2);
    assert.ok(t1.pending);
    assert.equal(barrier.nWaiting, 1);
    const t3 = probe(barrier.wait());
    await turn();
    assert.deepEqual([t1.value, t3.value], [0, 1]);
    await assertNoLeaks();
  });

  void test('reset() with waiters: they get BrokenBarrierError, the barrier is usable again (test_reset_barrier_while_tasks_waiting)', async () => {
    const N = 5;
    const barrier = new Barrier(N);
    const ws = Array.from({ length: N - 1 }, () => probe(barrier.wait()));
    await turn();
    barrier.reset();
    await turn();
    for (const w of ws) assert.ok(w.reason instanceof BrokenBarrierError, w.describe());
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
    assert.doesNotMatch(String(barrier), /resetting/);
    const again = await Promise.all(Array.from({ length: N }, () => barrier.wait()));
    assert.deepEqual(again, [0, 1, 2, 3, 4]);
  });

  void test('reset() with no waiters leaves it as new (test_reset_barrier)', () => {
    const barrier = new Barrier(1);
    barrier.reset();
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
  });

  void test('waiters reset then waiting again complete the next cycle (test_reset_barrier_while_tasks_waiting_and_waiting_again)', async () => {
    const N = 5;
    const barrier = new Barrier(N);
    let broken = 0;
    let passed = 0;
    const coro1 = async () => {
      try {
        await barrier.wait();
      } catch (e) {
        assert.ok(e instanceof BrokenBarrierError);
        broken++;
      } finally {
        await barrier.wait();
        passed++;
      }
    };
    const tasks = Array.from({ length: N - 1 }, () => coro1());
    await turn();
    barrier.reset();
    await turn();
    const last = (async () => {
      await barrier.wait();
      passed++;
    })();
    await Promise.all([...tasks, last]);
    assert.equal(broken, N - 1);
    assert.equal(passed, N);
    assert.equal(barrier.broken, false);
    assert.equal(barrier.nWaiting, 0);
  });

  void test('abort() breaks the barrier: waiters and later waits get BrokenBarrierError until reset() (test_abort_barrier)', async () => {
    const barrier = new Barrier(3);
    const ws = [probe(barrier.wait()), probe(barrier.wait())];
    barrier.abort();
    assert.equal(barrier.broken, true);
    assert.equal(barrier.nWaiting, 0);
    await turn();
    for (const w of ws) assert.ok(w.reason instanceof BrokenBarrierError);
    assert.ok((await rejection(barrier.wait())) instanceof BrokenBarrierError);
    const ac = new AbortController();
    assert.ok((await rejection(barrier.wait({ signal: ac.signal }))) instanceof BrokenBarrierError);
    assert.equal(barrier.nWaiting, 0);
    assert.match(String(barrier), /broken/);
    barrier.reset();
    assert.equal(barrier.broken, false);
    const again = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
    assert.deepEqual(again, [0, 1, 2]);
  });

  void test('a party that fails aborts the barrier; everyone else sees BrokenBarrierError (test_abort_barrier_when_exception)', async () => {
    const N = 5;
    const barrier = new Barrier(N);
    let results1 = 0;
    let results2 = 0;
    await gather(
      Array.from({ length: N }, () => async () => {
        try {
          const i = await barrier.wait();
          if (i === Math.floor(N / 2)) throw new SyntaxError('boom');
          await barrier.wait();
          results1++;
        } catch (e) {
          if (e instanceof BrokenBarrierError) results2++;
          else barrier.abort();
        }
      }),
    );
    assert.equal(barrier.broken, true);
    assert.equal(results1, 0);
    assert.equal(results2, N - 1);
    assert.equal(barrier.nWaiting, 0);
  });

  void test('abort, then reset by one party between two other barriers (test_abort_barrier_when_exception_then_resetting)', async () => {
    const N = 5;
    const barrier1 = new Barrier(N);
    const barrier2 = new Barrier(N);
    let results1 = 0;
    let results2 = 0;
    let results3 = 0;
    await gather(
      Array.from({ length: N }, () => async () => {
        try {
          const i = await barrier1.wait();
          if (i === Math.floor(N / 2)) throw new SyntaxError('boom');
          await barrier1.wait();
          results1++;
        } catch (e) {
          if (e instanceof BrokenBarrierError) results2++;
          else barrier1.abort();
        }
        const i = await barrier2.wait();
        if (i === Math.floor(N / 2)) barrier1.reset();
        await barrier2.wait();
        await barrier1.wait();
        results3++;
      }),
    );
    assert.equal(barrier1.broken, false);
    assert.equal(results1, 0);
    assert.equal(results2, N - 1);
    assert.equal(results3, N);
    assert.equal(barrier1.nWaiting, 0);
  });

  void test('a task cancelled in Barrier.wait() takes no slot', async () => {
    const barrier = new Barrier(2);
    const t = createTask(async (signal) => barrier.wait({ signal }));
    await turn();
    assert.equal(barrier.nWaiting, 1);
    t.cancel();
    assert.ok((await rejection(t)) instanceof CancelledError);
    assert.equal(barrier.nWaiting, 0);
    const a = probe(barrier.wait());
    await turn();
    assert.ok(a.pending);
    assert.equal(await barrier.wait(), 1);
    await turn();
    assert.equal(a.value, 0);
    await assertNoLeaks();
  });

  void test('statistics() and toString()', () => {
    const barrier = new Barrier(5);
    assert.equal(String(barrier), '<Barrier [filling] waiters=0/5>');
    const ps = [probe(barrier.wait()), probe(barrier.wait())];
    assert.deepEqual(barrier.statistics(), { parties: 5, waiting: 2, broken: false });
    assert.equal(String(barrier), '<Barrier [filling] waiters=2/5>');
    barrier.abort();
    assert.deepEqual(barrier.statistics(), { parties: 5, waiting: 0, broken: true });
    assert.equal(String(barrier), '<Barrier [broken] waiters=0/5>');
    void ps;
  });
});

// ---------------------------------------------------------------------------
// Errors

void describe('errors of the primitives and queues', () => {
  const cases = [
    { cls: QueueEmpty, name: 'QueueEmpty', code: 'TSAIO_ERR_QUEUE_EMPTY' },
    { cls: QueueFull, name: 'QueueFull', code: 'TSAIO_ERR_QUEUE_FULL' },
    { cls: QueueShutDown, name: 'QueueShutDown', code: 'TSAIO_ERR_QUEUE_SHUT_DOWN' },
    { cls: BrokenBarrierError, name: 'BrokenBarrierError', code: 'TSAIO_ERR_BROKEN_BARRIER' },
  ] as const;

  for (const { cls, name, code } of cases) {
    void test(`${name}: name, code, message, cause, instanceof`, () => {
      const e = new cls();
      assert.ok(e instanceof cls);
      assert.ok(e instanceof Error);
      assert.equal(e.name, name);
      assert.equal(cls.name, name);
      assert.equal((e as Error & { code: string }).code, code);
      assert.ok(e.message.length > 0, 'a default message');
      assert.match(String(e), new RegExp(`^${name}: `));
      const cause = new Error('inner');
      const e2 = new cls('custom', { cause });
      assert.equal(e2.message, 'custom');
      assert.equal(e2.cause, cause);
      for (const other of cases) {
        if (other.cls !== cls) assert.equal(e instanceof other.cls, false, `${name} is not a ${other.name}`);
      }
      assert.equal(e instanceof CancelledError, false);
      assert.equal(new Error('x') instanceof cls, false);
      assert.equal({ name } instanceof cls, false);
    });
  }

  void test('a subclass of a tsaio error is still an instance of it', () => {
    class MyShutDown extends QueueShutDown {}
    const e = new MyShutDown();
    assert.ok(e instanceof QueueShutDown);
    assert.ok(e instanceof MyShutDown);
    assert.equal(new QueueShutDown() instanceof MyShutDown, false);
  });

  void test('the errors thrown by the primitives are these classes', async () => {
    const b = new Barrier(2);
    b.abort();
    const e = await rejection(b.wait());
    assert.ok(e instanceof BrokenBarrierError);
    assert.equal((e as Error).name, 'BrokenBarrierError');
    const held: Held = await new Lock().acquire();
    held.release();
  });
});

// ---------------------------------------------------------------------------
// Woken, then cancelled before it resumed (issue 14, points 5 and 13)

/** Runs `fn` in the `depth`-th microtask from now (0: at once). */
function inMicrotask(depth: number, fn: () => void): void {
  if (depth === 0) return fn();
  queueMicrotask(() => inMicrotask(depth - 1, fn));
}

void describe('woken, then cancelled before it resumed', () => {
  void test('an abort between the wake and the resumption wins, whatever microtask the wake runs in', async () => {
    // The release runs in microtask `wakeAt`, the abort in microtask `abortAt`,
    // queued after it. The waiter resumes in the microtask after its wake: an
    // abort at or before `wakeAt` lands first and wins (the lock goes to the
    // next waiter); one later lands after the wait returned.
    for (let wakeAt = 0; wakeAt <= 3; wakeAt++) {
      for (let abortAt = 0; abortAt <= wakeAt + 2; abortAt++) {
        const where = `release in microtask ${wakeAt}, abort in microtask ${abortAt}`;
        const lock = new Lock();
        const first = await lock.acquire();
        const waiter = cancellable((o) => lock.acquire(o));
        const next = probe(lock.acquire());
        inMicrotask(wakeAt, () => first.release());
        inMicrotask(abortAt, () => waiter.ac.abort('late'));
        await turns();
        if (abortAt <= wakeAt) {
          assert.equal(assertCancelled(waiter.p).cause, 'late', where);
          assert.ok(next.fulfilled, `${where}: the lock went on to the next waiter`);
          next.value.release();
        } else {
          assert.ok(waiter.p.fulfilled, `${where}: ${waiter.p.describe()}`);
          waiter.p.value.release();
          await turn();
          assert.ok(next.fulfilled, where);
          next.value.release();
        }
        assert.equal(lock.locked(), false, `${where}: nothing is held by a waiter that is gone`);
        assertUnlinked(waiter.ac.signal);
      }
    }
    await assertNoLeaks();
  });

  void test('the same for a Semaphore permit, and the permit is handed on at once', async () => {
    const sem = new Semaphore(1);
    const first = await sem.acquire();
    const waiter = cancellable((o) => sem.acquire(o));
    const next = probe(sem.acquire());
    first.release(); // the permit is handed to the waiter ...
    waiter.ac.abort(); // ... which is cancelled before it resumes
    assert.equal(sem.statistics().waiters, 0, 'the permit went on to the next waiter at once');
    await turn();
    assertCancelled(waiter.p);
    assert.ok(next.fulfilled);
    next.value.release();
    assert.deepEqual(sem.statistics(), { value: 1, waiters: 0 });
    await assertNoLeaks();
  });

  for (const [name, make] of [
    ['Lock', () => new Lock()],
    ['Semaphore', () => new Semaphore(1)],
    ['Condition', () => new Condition()],
  ] as const) {
    void test(`${name}.run: aborted after the grant, before run() resumed: fn never starts, the grant goes on`, async () => {
      const owner = make();
      const first = await owner.acquire();
      const ac = new AbortController();
      let ran = false;
      const run = probe(
        owner.run(
          () => {
            ran = true;
          },
          { signal: ac.signal },
        ),
      );
      const next = probe(owner.acquire());
      first.release();
      queueMicrotask(() => ac.abort('gone')); // after the acquire resumed, before run() did
      await turns();
      assert.equal(assertCancelled(run).cause, 'gone');
      assert.equal(ran, false, 'fn ran for a caller that was cancelled');
      assert.ok(next.fulfilled, 'the grant went on');
      next.value.release();
      assert.equal(owner.locked(), false);
      await assertNoLeaks();
    });
  }

  void test('waitFor(body acquiring a lock, { signal }) aborted as the lock is granted: the lock is not left held', async () => {
    const { waitFor } = await import('../src/index.ts');
    const lock = new Lock();
    const first = await lock.acquire();
    const ac = new AbortController();
    const w = probe(waitFor((signal: AbortSignal) => lock.acquire({ signal }), null, { signal: ac.signal }));
    await turn();
    first.release();
    ac.abort();
    await turns();
    if (w.fulfilled) w.value.release();
    else assertCancelled(w);
    assert.equal(lock.locked(), false, 'the lock is held by nobody');
  });

  void test('Event.wait: the event set, then the waiter cancelled before it resumed: CancelledError', async () => {
    const event = new Event();
    const waiter = createTask((signal) => event.wait({ signal }));
    const other = probe(event.wait());
    await turn();
    event.set();
    waiter.cancel('m');
    const e = await rejection(waiter);
    assert.ok(e instanceof CancelledError, String(e));
    assert.equal(waiter.cancelled(), true);
    assert.equal(other.value, true, 'the others still see the event');
    assert.equal(event.isSet(), true);
    await assertNoLeaks();
  });

  void test('Barrier.wait: reset(), then the waiter cancelled before it resumed: CancelledError, not BrokenBarrierError', async () => {
    const barrier = new Barrier(3);
    const waiter = createTask((signal) => barrier.wait({ signal }));
    const other = probe(barrier.wait());
    await turn();
    barrier.reset();
    waiter.cancel();
    assertIs(await rejection(waiter), CancelledError);
    await turn();
    assert.ok(other.reason instanceof BrokenBarrierError, 'the others are broken out');
    assert.equal(barrier.broken, false);
    await assertNoLeaks();
  });

  void test('Barrier.wait: abort(), then the waiter cancelled before it resumed: CancelledError', async () => {
    const barrier = new Barrier(2);
    const waiter = cancellable((o) => barrier.wait(o));
    barrier.abort();
    waiter.ac.abort();
    await turn();
    assertCancelled(waiter.p);
    assert.equal(barrier.broken, true);
    await assertNoLeaks();
  });

  void test('Barrier.wait: the barrier trips, then a waiter is cancelled before it resumed: CancelledError; the others pass', async () => {
    const barrier = new Barrier(3);
    const waiter = cancellable((o) => barrier.wait(o));
    const second = probe(barrier.wait());
    await turn();
    const last = probe(barrier.wait()); // the last party: the barrier trips
    waiter.ac.abort();
    await turn();
    assertCancelled(waiter.p);
    assert.deepEqual([second.value, last.value], [1, 2]);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(barrier.broken, false);
    await assertNoLeaks();
  });

  void test('Condition.wait: notified, then cancelled before it resumed: CancelledError, the notification goes on', async () => {
    const cond = new Condition();
    const ac = new AbortController();
    const started: string[] = [];
    const w1 = probe(
      cond.run(async () => {
        started.push('w1');
        await cond.wait({ signal: ac.signal });
      }),
    );
    const w2 = probe(
      cond.run(async () => {
        started.push('w2');
        await cond.wait();
      }),
    );
    await turns();
    assert.deepEqual(started, ['w1', 'w2']);
    await cond.run(() => {
      cond.notify(1); // w1 is notified ...
      ac.abort(); // ... and cancelled before it resumes: w2 gets the notification
    });
    await turns();
    assertCancelled(w1);
    assert.ok(w2.fulfilled, 'the notification went on to w2');
    assert.equal(cond.locked(), false);
    await assertNoLeaks();
  });
});

void describe('Condition.notify(n): n must be a non-negative integer', () => {
  for (const n of [1.5, -1, NaN, Infinity, '1', null]) {
    void test(`notify(${String(n)}) is a RangeError that names the value, and wakes nobody`, async () => {
      const cond = new Condition();
      const waiters = [1, 2].map(() => probe(cond.run(() => cond.wait())));
      await turns();
      await cond.acquire();
      const e = thrown(() => cond.notify(n as number));
      assert.ok(e instanceof RangeError, String(e));
      assert.match((e as Error).message, /^Condition\.notify: n must be a non-negative integer, received /);
      cond.release();
      await turns();
      for (const w of waiters) assert.ok(w.pending, 'nobody was woken');
      await cond.run(() => cond.notifyAll());
      await turns();
      for (const w of waiters) assert.ok(w.fulfilled);
    });
  }
});
