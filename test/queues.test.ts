// Behaviour tests for Queue, PriorityQueue and LifoQueue (SPEC
// "Synchronization and queues"). Ports the cases of CPython 3.13
// Lib/test/test_asyncio/test_queues.py that apply, translated: milliseconds,
// an aborted signal where CPython cancels a task, `shutdown(immediate)`.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelledError,
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  TimeoutError,
  createTask,
  gather,
  getRunningLoop,
  sleep,
  waitFor,
} from '../src/index.ts';
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
  type Probe,
} from './_probes.ts';

/** Asserts `e` is an instance of `cls` (a message of its own: a failing `assert.ok` without one is slow to build). */
function assertIs(e: unknown, cls: abstract new (...args: never[]) => unknown): void {
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
}

// ---------------------------------------------------------------------------
// Helpers

function assertShutDown(p: Probe<unknown>): void {
  const e = p.reason;
  assert.ok(e instanceof QueueShutDown, `expected QueueShutDown, got ${String(e)}`);
}

/** Drains a queue with getNowait(). */
function drain<T>(q: Queue<T>): T[] {
  const out: T[] = [];
  while (!q.empty()) out.push(q.getNowait());
  return out;
}

type QueueClass = new <T>(maxsize?: number) => Queue<T>;
const kinds: [string, QueueClass][] = [
  ['Queue', Queue],
  ['LifoQueue', LifoQueue],
  ['PriorityQueue', PriorityQueue as QueueClass],
];

// ---------------------------------------------------------------------------
// Queue basics

void describe('Queue: basics', () => {
  void test('empty(), full(), qsize(), maxsize (test_empty, test_full)', async () => {
    const q = new Queue<number>();
    assert.equal(q.maxsize, 0);
    assert.equal(q.empty(), true);
    assert.equal(q.full(), false);
    await q.put(1);
    assert.equal(q.empty(), false);
    assert.equal(q.qsize(), 1);
    assert.equal(await q.get(), 1);
    assert.equal(q.empty(), true);
    const q1 = new Queue<number>(1);
    assert.equal(q1.maxsize, 1);
    await q1.put(1);
    assert.equal(q1.full(), true);
  });

  void test('FIFO order (test_order)', async () => {
    const q = new Queue<number>();
    for (const i of [1, 3, 2]) await q.put(i);
    assert.deepEqual([await q.get(), await q.get(), await q.get()], [1, 3, 2]);
  });

  void test('a negative maxsize is unbounded; NaN is a RangeError for every kind', () => {
    const q = new Queue<number>(-1);
    for (let i = 0; i < 100; i++) q.putNowait(i);
    assert.equal(q.full(), false);
    for (const [, K] of kinds) assert.throws(() => new K(NaN), RangeError);
  });

  void test('a float maxsize: full once qsize reaches it (test_float_maxsize)', async () => {
    const q = new Queue<number>(1.3);
    q.putNowait(1);
    q.putNowait(2);
    assert.equal(q.full(), true);
    assert.ok(thrown(() => q.putNowait(3)) instanceof QueueFull);
    const q2 = new Queue<number>(1.3);
    await q2.put(1);
    await q2.put(2);
    assert.equal(q2.full(), true);
  });

  void test('maxsize backpressure: put() waits while the queue is full (test_maxsize)', async () => {
    const q = new Queue<number>(2);
    const havePut: number[] = [];
    const t = probe(
      (async () => {
        for (let i = 0; i < 3; i++) {
          await q.put(i);
          havePut.push(i);
        }
        return true;
      })(),
    );
    await turns(2);
    assert.deepEqual(havePut, [0, 1]);
    assert.equal(q.statistics().putters, 1);
    assert.equal(await q.get(), 0);
    await turn();
    assert.deepEqual(havePut, [0, 1, 2]);
    assert.equal(await q.get(), 1);
    assert.equal(await q.get(), 2);
    assert.equal(t.value, true);
  });

  void test('getNowait() on an empty queue is QueueEmpty; putNowait() on a full one is QueueFull', () => {
    const q = new Queue<number>(1);
    const e1 = thrown(() => q.getNowait());
    assert.ok(e1 instanceof QueueEmpty, String(e1));
    assert.equal((e1 as Error).name, 'QueueEmpty');
    q.putNowait(1);
    assert.equal(q.getNowait(), 1);
    q.putNowait(1);
    const e2 = thrown(() => q.putNowait(2));
    assert.ok(e2 instanceof QueueFull, String(e2));
    assert.equal((e2 as Error).name, 'QueueFull');
    assert.equal(q.qsize(), 1);
    // 1 taken without taskDone() + 1 queued
    assert.deepEqual(q.statistics(), { qsize: 1, maxsize: 1, unfinished: 2, getters: 0, putters: 0 });
  });

  void test('a getter blocked on an empty queue gets the next item (test_blocking_get_wait)', async () => {
    const q = new Queue<number>();
    const g = probe(q.get());
    await turn();
    assert.ok(g.pending);
    getRunningLoop().callLater(10, () => q.putNowait(1));
    assert.equal(await g.promise, 1);
    await assertNoLeaks();
  });

  void test('a putter blocked on a full queue goes on once a slot frees (test_blocking_put_wait)', async () => {
    const q = new Queue<number>(1);
    let finished = false;
    getRunningLoop().callLater(10, () => q.getNowait());
    await (async () => {
      await q.put(1);
      await q.put(2);
      finished = true;
    })();
    assert.ok(finished);
    assert.deepEqual(drain(q), [2]);
    await assertNoLeaks();
  });

  void test('getters are served first-come first-served', async () => {
    const q = new Queue<string>();
    const gs = [probe(q.get()), probe(q.get()), probe(q.get())];
    assert.equal(q.statistics().getters, 3);
    q.putNowait('a');
    await q.put('b');
    q.putNowait('c');
    await turn();
    assert.deepEqual(
      gs.map((g) => g.value),
      ['a', 'b', 'c'],
    );
    assert.equal(q.qsize(), 0);
  });

  void test('putters are served first-come first-served (test_get_with_waiting_putters)', async () => {
    const q = new Queue<string>(1);
    const pa = probe(q.put('a'));
    const ps = ['b', 'c', 'd'].map((x) => probe(q.put(x)));
    assert.ok(pa.fulfilled || pa.pending);
    assert.equal(q.statistics().putters, 3);
    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push(await q.get());
    assert.deepEqual(got, ['a', 'b', 'c', 'd']);
    await turn();
    for (const p of ps) assert.ok(p.fulfilled);
  });

  void test('a put() reaches a waiting getter directly (test_put_with_waiting_getters)', async () => {
    const q = new Queue<string>();
    const t = probe(q.get());
    await turn();
    await q.put('a');
    await turn();
    assert.equal(t.value, 'a');
    assert.equal(q.qsize(), 0);
  });

  void test('producer and consumer on Queue(1) do not stall (test_why_are_getters_waiting)', async () => {
    const q = new Queue<number>(1);
    const got: number[] = [];
    await gather([
      async () => {
        for (let i = 0; i < 5; i++) await q.put(i);
      },
      async () => {
        for (let i = 0; i < 5; i++) got.push(await q.get());
      },
    ]);
    assert.deepEqual(got, [0, 1, 2, 3, 4]);
  });

  void test('putters and a getNowait() drainer do not stall (test_why_are_putters_waiting)', async () => {
    const q = new Queue<number>(2);
    await gather([
      async () => {
        await sleep(0);
        const n = q.qsize();
        for (let i = 0; i < n; i++) q.getNowait();
      },
      () => q.put(0),
      () => q.put(1),
      () => q.put(2),
      () => q.put(3),
    ]);
    assert.deepEqual(drain(q), [2, 3]);
    await assertNoLeaks();
  });

  void test('a signal that is not an AbortSignal is a TypeError', async () => {
    const q = new Queue<number>();
    await assert.rejects(async () => q.get({ signal: {} as AbortSignal }), TypeError);
    await assert.rejects(async () => q.put(1, { signal: {} as AbortSignal }), TypeError);
    await assert.rejects(async () => q.join({ signal: {} as AbortSignal }), TypeError);
    assert.equal(q.qsize(), 0);
  });
});

void describe('Queue: FIFO storage', () => {
  void test('order holds while the head wraps around and the store grows, shrinks and grows again', () => {
    const q = new Queue<number>();
    let next = 0;
    let expect = 0;
    // Sizes that wrap the head many times, then force growth from a wrapped position.
    for (const [puts, gets] of [
      [10, 7],
      [10, 10],
      [20, 15],
      [100, 50],
      [3, 61],
      [500, 490],
      [0, 10],
    ]) {
      for (let i = 0; i < puts!; i++) q.putNowait(next++);
      for (let i = 0; i < gets!; i++) assert.equal(q.getNowait(), expect++);
    }
    assert.equal(q.qsize(), next - expect);
    assert.ok(q.empty());
    // A burst far above the first capacity, drained, then reused.
    for (let i = 0; i < 5000; i++) q.putNowait(i);
    for (let i = 0; i < 5000; i++) assert.equal(q.getNowait(), i);
    for (let i = 0; i < 20; i++) q.putNowait(i);
    for (let i = 0; i < 20; i++) assert.equal(q.getNowait(), i);
    q.putNowait(1);
    q.shutdown(true);
    assert.equal(q.qsize(), 0, 'shutdown(immediate) empties the store');
  });
});

// ---------------------------------------------------------------------------
// Cancellation

void describe('Queue: cancellation', () => {
  void test('a cancelled get leaves no getter; the next getter gets the item (test_get_cancelled_race)', async () => {
    const q = new Queue<string>();
    const t1 = cancellable((o) => q.get(o));
    const t2 = probe(q.get());
    await turn();
    t1.ac.abort();
    assert.equal(q.statistics().getters, 1);
    await turn();
    assertCancelled(t1.p);
    await q.put('a');
    await turn();
    assert.equal(t2.value, 'a');
    assertUnlinked(t1.ac.signal);
    await assertNoLeaks();
  });

  void test('cancelled getters are not held (test_cancelled_getters_not_being_held_in_self_getters)', async () => {
    const q = new Queue<number>(5);
    await assert.rejects(
      waitFor((signal) => q.get({ signal }), 20),
      TimeoutError,
    );
    assert.equal(q.statistics().getters, 0);
    await assertNoLeaks();
  });

  void test('a getter handed an item and aborted before it resumed puts it back in front (test_get_cancel_drop_one_pending_reader)', async () => {
    const q = new Queue<number>();
    const reader = cancellable((o) => q.get(o));
    await turn();
    q.putNowait(1); // handed to the reader ...
    q.putNowait(2);
    reader.ac.abort(); // ... which is cancelled before it resumes
    await turn();
    assertCancelled(reader.p);
    assert.equal(await q.get(), 1, 'item 1 was not dropped');
    assert.equal(await q.get(), 2);
    assert.equal(q.statistics().unfinished, 2);
    await assertNoLeaks();
  });

  void test('a getter aborted after it was handed an item gives it back in front of a full store that must grow', async () => {
    const q = new Queue<number>();
    const reader = cancellable((o) => q.get(o));
    await turn();
    q.putNowait(0); // handed to the reader
    for (let i = 1; i <= 32; i++) q.putNowait(i); // the store grows to hold exactly 32: full
    reader.ac.abort();
    await turn();
    assertCancelled(reader.p);
    const out: number[] = [];
    while (!q.empty()) out.push(q.getNowait());
    assert.deepEqual(
      out,
      Array.from({ length: 33 }, (_, i) => i),
    );
    await assertNoLeaks();
  });

  void test('an item given back goes to the next waiting getter (test_get_cancel_drop_many_pending_readers)', async () => {
    const q = new Queue<number>();
    const r1 = cancellable((o) => q.get(o));
    const r2 = probe(q.get());
    const r3 = probe(q.get());
    await turn();
    q.putNowait(1);
    q.putNowait(2);
    r1.ac.abort();
    await turns();
    assertCancelled(r1.p);
    assert.deepEqual(new Set([r2.value, r3.value]), new Set([1, 2]));
    assert.equal(q.qsize(), 0);
    assert.equal(q.statistics().getters, 0);
    await assertNoLeaks();
  });

  void test('an item given back by a cancelled getter never makes qsize() exceed maxsize', async () => {
    const q = new Queue<number>(1);
    const reader = cancellable((o) => q.get(o));
    await turn();
    q.putNowait(1); // handed to the reader
    let second: unknown = null;
    try {
      q.putNowait(2);
    } catch (e) {
      second = e;
    }
    reader.ac.abort(); // the reader is cancelled before it resumes: item 1 comes back
    await turn();
    assertCancelled(reader.p);
    assert.ok(q.qsize() <= q.maxsize, `qsize ${q.qsize()} > maxsize ${q.maxsize}`);
    const items = drain(q);
    assert.equal(items[0], 1, 'item 1 was not lost and is first');
    if (second === null) assert.deepEqual(items, [1, 2]);
    else assert.ok(second instanceof QueueFull);
    await assertNoLeaks();
  });

  void test('a put cancelled once its slot freed but before it resumed puts nothing; put again, it goes in once (test_put_cancel_drop)', async () => {
    const q = new Queue<number>(1);
    q.putNowait(1);
    let writer = cancellable((o) => q.put(2, o));
    await turn();
    assert.equal(q.getNowait(), 1); // the slot goes to the writer ...
    writer.ac.abort(); // ... cancelled before it resumes
    await turn();
    assertCancelled(writer.p);
    assert.equal(q.qsize(), 0, 'the cancelled put put nothing');
    writer = cancellable((o) => q.put(2, o));
    await writer.p.promise;
    assert.equal(q.getNowait(), 2);
    assert.equal(q.qsize(), 0);
    assert.equal(q.statistics().unfinished, 2, 'items 1 and 2, each counted once');
    await assertNoLeaks();
  });

  void test('a cancelled putter is skipped; its item is never put (test_put_cancelled_race)', async () => {
    const q = new Queue<string>(1);
    const putA = probe(q.put('a'));
    const putB = probe(q.put('b'));
    const putC = cancellable((o) => q.put('X', o));
    await turn();
    assert.ok(putA.fulfilled);
    assert.ok(putB.pending);
    putC.ac.abort();
    assert.equal(q.statistics().putters, 1);
    await turn();
    assertCancelled(putC.p);
    assert.equal(q.getNowait(), 'a');
    await turn();
    assert.equal(q.getNowait(), 'b');
    await putB.promise;
    assert.equal(q.qsize(), 0);
    assert.equal(q.statistics().unfinished, 2, 'X was never counted');
    await assertNoLeaks();
  });

  void test('cancelled puts are not held (test_cancelled_puts_not_being_held_in_self_putters)', async () => {
    const q = new Queue<number>(1);
    q.putNowait(1);
    const put = cancellable((o) => q.put(1, o));
    await turn();
    assert.equal(q.statistics().putters, 1);
    put.ac.abort();
    await turn();
    assertCancelled(put.p);
    assert.equal(q.statistics().putters, 0);
    assertUnlinked(put.ac.signal);
    await assertNoLeaks();
  });

  void test('pre-aborted get/put/join reject at once and take or put nothing (p-queue #241)', async () => {
    const ac = new AbortController();
    ac.abort('gone');
    const q = new Queue<number>(1);
    const g0 = probe(q.get({ signal: ac.signal }));
    q.putNowait(7);
    const g1 = probe(q.get({ signal: ac.signal }));
    const p1 = probe(q.put(8, { signal: ac.signal }));
    const j = probe(q.join({ signal: ac.signal }));
    const q2 = new Queue<number>();
    const p2 = probe(q2.put(9, { signal: ac.signal }));
    assert.deepEqual(q.statistics(), { qsize: 1, maxsize: 1, unfinished: 1, getters: 0, putters: 0 });
    await turn();
    for (const p of [g0, g1, p1, j, p2]) assert.equal(assertCancelled(p).cause, 'gone');
    assert.deepEqual(drain(q), [7]);
    assert.equal(q2.qsize(), 0);
    assertUnlinked(ac.signal);
    await assertNoLeaks();
  });

  void test('aborted waiters stop counting at once (p-queue #219)', async () => {
    const q = new Queue<number>();
    const gs = Array.from({ length: 10 }, () => cancellable((o) => q.get(o)));
    for (const g of gs.slice(0, 6)) g.ac.abort();
    assert.equal(q.statistics().getters, 4);
    assert.match(String(q), /getters=4/);
    for (let i = 0; i < 4; i++) q.putNowait(i);
    await turn();
    assert.deepEqual(
      gs.slice(6).map((g) => g.p.value),
      [0, 1, 2, 3],
    );
    for (const g of gs.slice(0, 6)) assertCancelled(g.p);
    await assertNoLeaks();
  });

  void test('a cancelled join leaves the other joiners waiting, and they are released by taskDone()', async () => {
    const q = new Queue<number>();
    q.putNowait(1);
    const j1 = cancellable((o) => q.join(o));
    const j2 = probe(q.join());
    await turn();
    j1.ac.abort();
    await turn();
    assertCancelled(j1.p);
    assert.ok(j2.pending);
    q.getNowait();
    q.taskDone();
    await turn();
    assert.ok(j2.fulfilled);
    assertUnlinked(j1.ac.signal);
    await assertNoLeaks();
  });

  void test('a task cancelled in get() ends cancelled; the item goes to the next getter', async () => {
    const q = new Queue<string>();
    const t = createTask(async (signal) => q.get({ signal }));
    await turn();
    const next = probe(q.get());
    t.cancel();
    assert.ok((await rejection(t)) instanceof CancelledError);
    assert.equal(t.cancelled(), true);
    q.putNowait('x');
    await turn();
    assert.equal(next.value, 'x');
    await assertNoLeaks();
  });

  void test('a task cancelled in put() on a full queue leaves nothing behind', async () => {
    const q = new Queue<string>(1);
    q.putNowait('a');
    const t = createTask(async (signal) => q.put('b', { signal }));
    await turn();
    assert.equal(q.statistics().putters, 1);
    t.cancel();
    assert.ok((await rejection(t)) instanceof CancelledError);
    assert.deepEqual(drain(q), ['a']);
    assert.equal(q.statistics().putters, 0);
    await assertNoLeaks();
  });
});

// ---------------------------------------------------------------------------
// taskDone / join

for (const [name, K] of kinds) {
  void describe(`${name}: taskDone() and join()`, () => {
    void test('taskDone() with nothing unfinished is a RangeError (test_task_done_underflow)', () => {
      const q = new K<number>();
      assert.throws(() => q.taskDone(), RangeError);
      q.putNowait(1);
      q.getNowait();
      q.taskDone();
      assert.throws(() => q.taskDone(), RangeError);
    });

    void test('two workers process 100 items; join() returns when all are done (test_task_done)', async () => {
      const q = new K<number>();
      for (let i = 0; i < 100; i++) q.putNowait(i);
      let accumulator = 0;
      let running = true;
      const worker = async () => {
        while (running) {
          const item = await q.get();
          accumulator += item;
          await sleep(0);
          q.taskDone();
        }
      };
      const workers = [worker(), worker()];
      await q.join();
      assert.equal(accumulator, (99 * 100) / 2);
      running = false;
      for (let i = 0; i < workers.length; i++) q.putNowait(0);
      await Promise.all(workers);
      await assertNoLeaks();
    });

    void test('join() on a queue with nothing unfinished returns at once (test_join_empty_queue)', async () => {
      const q = new K<number>();
      await q.join();
      await q.join();
    });

    void test('join() waits for taskDone(), not for get()', async () => {
      const q = new K<number>();
      q.putNowait(1);
      q.putNowait(2);
      const j = probe(q.join());
      q.getNowait();
      q.getNowait();
      await turn();
      assert.ok(j.pending);
      q.taskDone();
      await turn();
      assert.ok(j.pending);
      q.taskDone();
      await turn();
      assert.ok(j.fulfilled);
    });
  });
}

// ---------------------------------------------------------------------------
// shutdown (3.13)

for (const [name, K] of kinds) {
  void describe(`${name}: shutdown()`, () => {
    void test('toString() shows shutdown (test_format)', () => {
      const q = new K<number>();
      q.shutdown();
      assert.equal(String(q), `<${name} maxsize=0 qsize=0 shutdown>`);
    });

    void test('shutting down an empty queue: the blocked getter gets QueueShutDown (test_shutdown_empty)', async () => {
      const q = new K<string>();
      const get = probe(q.get());
      await turn();
      q.shutdown(false);
      assert.equal(q.qsize(), 0);
      await q.join();
      await turn();
      assertShutDown(get);
      assert.ok((await rejection(q.put('data'))) instanceof QueueShutDown);
      assert.ok(thrown(() => q.putNowait('data')) instanceof QueueShutDown);
      assert.ok((await rejection(q.get())) instanceof QueueShutDown);
      assert.ok(thrown(() => q.getNowait()) instanceof QueueShutDown);
    });

    void test('shutdown(false) on a non-empty queue: putters rejected, items still drain, then QueueShutDown (test_shutdown_nonempty)', async () => {
      const q = new K<string>(1);
      q.putNowait('data');
      const join = probe(q.join());
      const put = probe(q.put('data2'));
      await turn();
      assert.ok(put.pending);
      q.shutdown(false);
      assert.equal(q.qsize(), 1);
      await turn();
      assertShutDown(put);
      assert.equal(await q.get(), 'data');
      await turn();
      assert.ok(join.pending);
      assert.ok((await rejection(q.put('data'))) instanceof QueueShutDown);
      assert.ok(thrown(() => q.putNowait('data')) instanceof QueueShutDown);
      assert.ok((await rejection(q.get())) instanceof QueueShutDown);
      assert.ok(thrown(() => q.getNowait()) instanceof QueueShutDown);
      q.taskDone();
      await turn();
      assert.ok(join.fulfilled);
      assert.throws(() => q.taskDone(), RangeError);
    });

    void test('shutdown(true) drops the items and releases join() (test_shutdown_immediate)', async () => {
      const q = new K<string>();
      q.putNowait('data');
      const join = probe(q.join());
      q.shutdown(true);
      assert.equal(q.qsize(), 0);
      await turn();
      assert.ok(join.fulfilled);
      assert.ok((await rejection(q.put('data'))) instanceof QueueShutDown);
      assert.ok(thrown(() => q.putNowait('data')) instanceof QueueShutDown);
      assert.ok((await rejection(q.get())) instanceof QueueShutDown);
      assert.ok(thrown(() => q.getNowait()) instanceof QueueShutDown);
      assert.throws(() => q.taskDone(), RangeError);
    });

    void test('shutdown(true) with an item taken but not done: join() waits for its taskDone() (test_shutdown_immediate_with_unfinished)', async () => {
      const q = new K<string>();
      q.putNowait('data');
      q.putNowait('data');
      const join = probe(q.join());
      assert.equal(await q.get(), 'data');
      q.shutdown(true);
      assert.equal(q.qsize(), 0);
      await turn();
      assert.ok(join.pending);
      assert.ok((await rejection(q.get())) instanceof QueueShutDown);
      q.taskDone();
      assert.throws(() => q.taskDone(), RangeError);
      await turn();
      assert.ok(join.fulfilled);
    });

    void test('shutdown() rejects every blocked getter and putter with QueueShutDown; none is left pending', async () => {
      const empty = new K<number>();
      const getters = Array.from({ length: 3 }, () => cancellable((o) => empty.get(o)));
      const full = new K<number>(1);
      full.putNowait(0);
      const putters = Array.from({ length: 3 }, (_, i) => cancellable((o) => full.put(i + 1, o)));
      empty.shutdown();
      full.shutdown(true);
      await turn();
      for (const w of [...getters, ...putters]) {
        assertShutDown(w.p);
        assertUnlinked(w.ac.signal);
      }
      assert.deepEqual(empty.statistics().getters, 0);
      assert.deepEqual(full.statistics().putters, 0);
      assert.equal(full.qsize(), 0);
      assert.equal(full.statistics().unfinished, 0, 'rejected putters added nothing');
      await assertNoLeaks();
    });

    void test('for await ends once the queue is shut down and drained', async () => {
      const q = new K<number>();
      const seen: number[] = [];
      const consumer = probe(
        (async () => {
          for await (const x of q) {
            seen.push(x);
            q.taskDone();
          }
          return 'ended';
        })(),
      );
      for (const x of [3, 1, 2]) await q.put(x);
      await q.join();
      q.putNowait(4);
      q.putNowait(5);
      q.shutdown(false);
      assert.equal(await consumer.promise, 'ended');
      assert.equal(seen.length, 5);
      assert.deepEqual(
        [...seen].sort((a, b) => a - b),
        [1, 2, 3, 4, 5],
      );
      await assertNoLeaks();
    });

    void test('for await ends at shutdown(true) without the dropped items', async () => {
      const q = new K<number>();
      const seen: number[] = [];
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const consumer = (async () => {
        for await (const x of q) {
          seen.push(x);
          await gate; // busy with item 1 while the queue is shut down
        }
      })();
      q.putNowait(1);
      await turn();
      assert.deepEqual(seen, [1]);
      q.putNowait(2);
      q.putNowait(3);
      q.shutdown(true);
      open();
      await consumer;
      assert.deepEqual(seen, [1]);
    });
  });
}

void describe('Queue: async iteration', () => {
  void test('for await on an already shut-down empty queue ends at once', async () => {
    const q = new Queue<number>();
    q.shutdown();
    const seen: number[] = [];
    for await (const x of q) seen.push(x);
    assert.deepEqual(seen, []);
  });

  void test('breaking out of for await leaves the queue usable and takes nothing more', async () => {
    const q = new Queue<number>();
    for (let i = 0; i < 5; i++) q.putNowait(i);
    const seen: number[] = [];
    for await (const x of q) {
      seen.push(x);
      if (x === 1) break;
    }
    assert.deepEqual(seen, [0, 1]);
    assert.equal(q.qsize(), 3);
    assert.equal(q.statistics().getters, 0);
    assert.equal(q.getNowait(), 2);
  });

  void test('several consumers with for await: each item exactly once; all end at shutdown', async () => {
    const q = new Queue<number>(3);
    const seen: number[] = [];
    const consumer = async () => {
      for await (const x of q) {
        seen.push(x);
        await sleep(0);
      }
    };
    const consumers = [consumer(), consumer(), consumer()];
    for (let i = 0; i < 30; i++) await q.put(i);
    q.shutdown();
    await Promise.all(consumers);
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      Array.from({ length: 30 }, (_, i) => i),
    );
    await assertNoLeaks();
  });
});

// ---------------------------------------------------------------------------
// statistics / toString

void describe('Queue: statistics() and toString()', () => {
  void test('toString() shows maxsize, qsize, getters, putters, tasks (test_repr, test_format)', async () => {
    const q = new Queue<number>(5);
    assert.equal(String(q), '<Queue maxsize=5 qsize=0>');
    const g = probe(q.get());
    assert.equal(String(q), '<Queue maxsize=5 qsize=0 getters=1>');
    q.putNowait(0);
    await turn();
    assert.equal(g.value, 0);
    assert.equal(String(q), '<Queue maxsize=5 qsize=0 tasks=1>');
    q.taskDone();
    q.putNowait(1);
    q.putNowait(2);
    assert.equal(String(q), '<Queue maxsize=5 qsize=2 tasks=2>');
    const small = new Queue<number>(1);
    small.putNowait(1);
    const p = probe(small.put(2));
    assert.equal(String(small), '<Queue maxsize=1 qsize=1 putters=1 tasks=1>');
    small.getNowait();
    await turn();
    assert.ok(p.fulfilled);
    assert.equal(String(new PriorityQueue<number>()), '<PriorityQueue maxsize=0 qsize=0>');
    assert.equal(String(new LifoQueue<number>(3)), '<LifoQueue maxsize=3 qsize=0>');
  });

  void test('statistics() counts items, unfinished tasks, getters and putters', async () => {
    const q = new Queue<number>(1);
    assert.deepEqual(q.statistics(), { qsize: 0, maxsize: 1, unfinished: 0, getters: 0, putters: 0 });
    const g = probe(q.get());
    assert.deepEqual(q.statistics(), { qsize: 0, maxsize: 1, unfinished: 0, getters: 1, putters: 0 });
    q.putNowait(1);
    q.putNowait(2);
    const p = probe(q.put(3));
    assert.deepEqual(q.statistics(), { qsize: 1, maxsize: 1, unfinished: 2, getters: 0, putters: 1 });
    await turn();
    assert.equal(g.value, 1);
    assert.equal(q.getNowait(), 2);
    await turn();
    assert.ok(p.fulfilled);
    assert.deepEqual(q.statistics(), { qsize: 1, maxsize: 1, unfinished: 3, getters: 0, putters: 0 });
  });
});

// ---------------------------------------------------------------------------
// PriorityQueue

void describe('PriorityQueue', () => {
  void test('numbers come out smallest first (test_order)', async () => {
    const q = new PriorityQueue<number>();
    for (const i of [1, 3, 2]) await q.put(i);
    assert.deepEqual([await q.get(), await q.get(), await q.get()], [1, 2, 3]);
  });

  void test('default compare: numbers (not as strings), strings, bigints', () => {
    const n = new PriorityQueue<number>();
    for (const x of [10, 9, 100, -1, 2.5, 0]) n.putNowait(x);
    assert.deepEqual(drain(n), [-1, 0, 2.5, 9, 10, 100]);
    const s = new PriorityQueue<string>();
    for (const x of ['pear', 'apple', 'Zebra', 'banana']) s.putNowait(x);
    assert.deepEqual(drain(s), ['Zebra', 'apple', 'banana', 'pear']);
    const b = new PriorityQueue<bigint>();
    for (const x of [3n, 1n, 2n]) b.putNowait(x);
    assert.deepEqual(drain(b), [1n, 2n, 3n]);
  });

  void test('default compare: arrays compare as tuples, element by element, shorter first', () => {
    const q = new PriorityQueue<(number | string)[]>();
    const items = [[2, 'b'], [1, 'z'], [1, 'a'], [1], [2, 'a', 0], [0, 'x']];
    for (const x of items) q.putNowait(x);
    assert.deepEqual(drain(q), [[0, 'x'], [1], [1, 'a'], [1, 'z'], [2, 'a', 0], [2, 'b']]);
  });

  void test('equal priorities come out in the order they were put (stable)', () => {
    const q = new PriorityQueue<{ p: number; id: number }>(0, (a, b) => a.p - b.p);
    const input = Array.from({ length: 200 }, (_, id) => ({ p: (id * 7919) % 5, id }));
    for (const x of input) q.putNowait(x);
    const expected = [...input].sort((a, b) => a.p - b.p || a.id - b.id);
    assert.deepEqual(drain(q), expected);
  });

  void test('equal tuples with the default compare keep insertion order too', () => {
    const q = new PriorityQueue<[number, string]>();
    const a: [number, string] = [1, 'x'];
    const b: [number, string] = [1, 'x'];
    const c: [number, string] = [0, 'y'];
    q.putNowait(a);
    q.putNowait(b);
    q.putNowait(c);
    const out = drain(q);
    assert.equal(out[0], c);
    assert.equal(out[1], a);
    assert.equal(out[2], b);
  });

  void test('stable order survives interleaved puts and gets', () => {
    const q = new PriorityQueue<{ p: number; id: number }>(0, (a, b) => a.p - b.p);
    let id = 0;
    const out: { p: number; id: number }[] = [];
    for (let round = 0; round < 20; round++) {
      for (let k = 0; k < 5; k++) q.putNowait({ p: k % 2, id: id++ });
      out.push(q.getNowait(), q.getNowait());
    }
    out.push(...drain(q));
    const byP = (p: number) => out.filter((x) => x.p === p).map((x) => x.id);
    assert.deepEqual(
      byP(0),
      [...byP(0)].sort((a, b) => a - b),
    );
    assert.deepEqual(
      byP(1),
      [...byP(1)].sort((a, b) => a - b),
    );
    assert.equal(out.length, 100);
  });

  void test('a custom comparator decides the order (a max-queue, objects by key)', () => {
    const max = new PriorityQueue<number>(0, (a, b) => b - a);
    for (const x of [1, 5, 3]) max.putNowait(x);
    assert.deepEqual(drain(max), [5, 3, 1]);
    const jobs = new PriorityQueue<{ name: string; prio: number }>(0, (a, b) => a.prio - b.prio);
    jobs.putNowait({ name: 'low', prio: 9 });
    jobs.putNowait({ name: 'high', prio: 1 });
    jobs.putNowait({ name: 'mid', prio: 5 });
    assert.deepEqual(
      drain(jobs).map((j) => j.name),
      ['high', 'mid', 'low'],
    );
  });

  void test('maxsize backpressure and waiting putters on a PriorityQueue', async () => {
    const q = new PriorityQueue<number>(2);
    q.putNowait(5);
    q.putNowait(3);
    const p = probe(q.put(1));
    await turn();
    assert.ok(p.pending);
    assert.equal(q.getNowait(), 3);
    await turn();
    assert.ok(p.fulfilled);
    assert.deepEqual(drain(q), [1, 5]);
  });

  void test('a getter handed an item and aborted gives it back; it still comes out first', async () => {
    const q = new PriorityQueue<number>();
    const g = cancellable((o) => q.get(o));
    q.putNowait(2);
    q.putNowait(3);
    q.putNowait(1);
    g.ac.abort();
    await turn();
    assertCancelled(g.p);
    assert.deepEqual(drain(q), [1, 2, 3]);
    await assertNoLeaks();
  });

  void test('items the default compare cannot order are a TypeError', () => {
    const q = new PriorityQueue<unknown>();
    q.putNowait(1);
    const e = thrown(() => q.putNowait('a'));
    assert.ok(e instanceof TypeError, String(e));
    const o = new PriorityQueue<unknown>();
    o.putNowait({});
    assert.throws(() => o.putNowait({}), TypeError);
    const m = new PriorityQueue<unknown>();
    m.putNowait([1, 'a']);
    assert.throws(() => m.putNowait([1, 2]), TypeError);
  });

  void test('a put the default compare rejects leaves the queue as it was', () => {
    const q = new PriorityQueue<unknown>();
    q.putNowait(2);
    q.putNowait(1);
    assert.throws(() => q.putNowait('a'), TypeError);
    assert.equal(q.qsize(), 2, 'the bad item is not in the queue');
    assert.equal(q.statistics().unfinished, 2, 'the bad item is not counted');
    assert.deepEqual(drain(q), [1, 2]);
  });

  void test('compare must be a function', () => {
    assert.throws(
      () => new PriorityQueue<number>(0, 'desc' as unknown as (a: number, b: number) => number),
      TypeError,
    );
  });
});

void describe('PriorityQueue: a comparator that throws', () => {
  void test('a parked put of an item the comparator refuses: that put rejects; the get, the items and join() are intact', async () => {
    const q = new PriorityQueue<unknown>(2);
    q.putNowait(1);
    q.putNowait(2);
    const bad = probe(q.put('a'));
    const good = probe(q.put(3));
    await turn();
    assert.equal(await q.get(), 1, 'the get that frees the slot gets its item');
    await turn();
    assert.ok(bad.reason instanceof TypeError, `the put that brought the bad item: ${bad.describe()}`);
    assert.ok(good.fulfilled, 'the slot went on to the next putter');
    assert.deepEqual(drain(q), [2, 3]);
    for (let i = 0; i < 3; i++) q.taskDone();
    assert.equal(q.statistics().unfinished, 0);
    await q.join();
    await assertNoLeaks();
  });

  void test('the same with a putter that has a signal: its put rejects when it resumes; the slot goes on', async () => {
    const q = new PriorityQueue<unknown>(2);
    q.putNowait(1);
    q.putNowait(2);
    const bad = cancellable((o) => q.put('a', o));
    const good = probe(q.put(0));
    await turn();
    assert.equal(q.getNowait(), 1);
    await turns();
    assert.ok(bad.p.reason instanceof TypeError, bad.p.describe());
    assert.ok(good.fulfilled, 'the slot went on to the next putter');
    assert.deepEqual(drain(q), [0, 2]);
    assert.equal(q.statistics().unfinished, 3);
    assertUnlinked(bad.ac.signal);
    await assertNoLeaks();
  });

  void test('put() of a bad item on an unbounded queue rejects, it does not throw', async () => {
    const q = new PriorityQueue<unknown>();
    q.putNowait(1);
    let p: Promise<void> | undefined;
    assert.doesNotThrow(() => {
      p = q.put('b');
    });
    assertIs(await rejection(p!), TypeError);
    assert.equal(q.qsize(), 1);
    assert.equal(q.statistics().unfinished, 1);
  });

  void test('a comparator that throws while get() reorders the heap leaves every item in place', () => {
    let armed = false;
    const q = new PriorityQueue<number>(0, (a, b) => {
      if (armed) throw new Error('compare failed');
      return a - b;
    });
    for (const n of [5, 1, 4, 2, 3]) q.putNowait(n);
    armed = true;
    const e = thrown(() => q.getNowait());
    assert.equal((e as Error).message, 'compare failed');
    armed = false;
    assert.equal(q.qsize(), 5, 'no item was lost');
    assert.deepEqual(drain(q), [1, 2, 3, 4, 5]);
  });

  void test('a heap of many items keeps its order through interleaved puts and gets', () => {
    const q = new PriorityQueue<number>();
    const model: number[] = [];
    let x = 12345;
    const rand = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) % 1000;
    for (let round = 0; round < 200; round++) {
      for (let i = rand() % 7; i > 0; i--) {
        const n = rand();
        q.putNowait(n);
        model.push(n);
      }
      for (let i = rand() % 6; i > 0 && model.length > 0; i--) {
        model.sort((a, b) => a - b);
        assert.equal(q.getNowait(), model.shift());
      }
    }
    model.sort((a, b) => a - b);
    assert.deepEqual(drain(q), model);
  });
});

// ---------------------------------------------------------------------------
// LifoQueue

void describe('LifoQueue', () => {
  void test('the last item put comes out first (test_order)', async () => {
    const q = new LifoQueue<number>();
    for (const i of [1, 3, 2]) await q.put(i);
    assert.deepEqual([await q.get(), await q.get(), await q.get()], [2, 3, 1]);
  });

  void test('with maxsize: a waiting putter enters when a slot frees, on top', async () => {
    const q = new LifoQueue<number>(2);
    q.putNowait(1);
    q.putNowait(2);
    const p = probe(q.put(3));
    await turn();
    assert.ok(p.pending);
    assert.equal(q.getNowait(), 2);
    await turn();
    assert.ok(p.fulfilled);
    assert.deepEqual(drain(q), [3, 1]);
  });

  void test('getters are still served FIFO', async () => {
    const q = new LifoQueue<string>();
    const gs = [probe(q.get()), probe(q.get())];
    q.putNowait('a');
    q.putNowait('b');
    await turn();
    assert.deepEqual(
      gs.map((g) => g.value),
      ['a', 'b'],
    );
  });

  void test('a getter handed an item and aborted gives it back on top', async () => {
    const q = new LifoQueue<number>();
    const g = cancellable((o) => q.get(o));
    q.putNowait(1);
    q.putNowait(2);
    g.ac.abort();
    await turn();
    assertCancelled(g.p);
    assert.equal(q.qsize(), 2);
    assert.deepEqual(new Set(drain(q)), new Set([1, 2]));
    await assertNoLeaks();
  });
});

// ---------------------------------------------------------------------------
// Woken, then cancelled before it resumed (issue 14, points 6, 13 and 14)

void describe('Queue: woken, then cancelled before it resumed', () => {
  void test('a putter woken by getNowait() and cancelled before it resumed puts nothing (test_cancelled_put_silence_value_error_exception)', async () => {
    const q = new Queue<number>(1);
    q.putNowait(1);
    const put = createTask((signal) => q.put(2, { signal }));
    await turn();
    assert.equal(q.statistics().putters, 1);
    q.getNowait(); // the putter is woken ...
    put.cancel(); // ... and cancelled before it resumes
    assertIs(await rejection(put), CancelledError);
    assert.equal(put.cancelled(), true);
    assert.equal(q.qsize(), 0, 'the item was not put');
    assert.equal(q.statistics().unfinished, 1, 'only item 1 was ever counted');
    await assertNoLeaks();
  });

  void test("the cancelled putter's slot goes to the next putter", async () => {
    const q = new Queue<string>(1);
    q.putNowait('a');
    const p1 = cancellable((o) => q.put('b', o));
    const p2 = probe(q.put('c'));
    await turn();
    assert.equal(q.getNowait(), 'a');
    p1.ac.abort();
    await turns();
    assertCancelled(p1.p);
    assert.ok(p2.fulfilled, 'the slot went on to the next putter');
    assert.deepEqual(drain(q), ['c']);
    await assertNoLeaks();
  });

  void test('a woken putter whose slot a putNowait() took meanwhile waits again, first in line', async () => {
    const q = new Queue<string>(1);
    q.putNowait('a');
    const p1 = cancellable((o) => q.put('b', o));
    const p2 = probe(q.put('c'));
    await turn();
    assert.equal(q.getNowait(), 'a'); // wakes p1: the slot is free until it resumes ...
    assert.equal(q.full(), false);
    q.putNowait('x'); // ... and a caller that does not wait takes it, as in asyncio
    await turn();
    assert.ok(p1.p.pending, 'p1 waits again');
    assert.deepEqual(q.statistics().putters, 2);
    assert.equal(q.getNowait(), 'x');
    await turn();
    assert.ok(p1.p.fulfilled, 'p1, first in line, gets the next slot');
    assert.ok(p2.pending, 'p2 is still behind p1');
    assert.equal(q.getNowait(), 'b');
    await turn();
    assert.deepEqual(drain(q), ['c']);
    await assertNoLeaks();
  });

  void test('Queue.get: shut down, then the getter cancelled before it resumed: CancelledError, not QueueShutDown', async () => {
    const q = new Queue<number>();
    const getter = createTask((signal) => q.get({ signal }));
    const other = probe(q.get());
    await turn();
    q.shutdown();
    getter.cancel();
    assertIs(await rejection(getter), CancelledError);
    assertShutDown(other);
    await assertNoLeaks();
  });

  void test('Queue.put: shut down, then the putter cancelled before it resumed: CancelledError, not QueueShutDown', async () => {
    const q = new Queue<number>(1);
    q.putNowait(1);
    const putter = createTask((signal) => q.put(2, { signal }));
    await turn();
    q.shutdown();
    putter.cancel();
    assertIs(await rejection(putter), CancelledError);
    assert.deepEqual(drain(q), [1]);
    await assertNoLeaks();
  });

  void test('Queue.join: the last taskDone(), then the joiner cancelled before it resumed: CancelledError', async () => {
    const q = new Queue<number>();
    q.putNowait(1);
    const joiner = createTask((signal) => q.join({ signal }));
    const other = probe(q.join());
    await turn();
    q.getNowait();
    q.taskDone();
    joiner.cancel();
    assertIs(await rejection(joiner), CancelledError);
    assert.ok(other.fulfilled, 'the other joiner returns');
    await assertNoLeaks();
  });

  void test('Queue.join: shutdown(true) drops the last item, then the joiner is cancelled before it resumed: CancelledError', async () => {
    const q = new Queue<number>();
    q.putNowait(1);
    const joiner = cancellable((o) => q.join(o));
    q.shutdown(true);
    joiner.ac.abort();
    await turn();
    assertCancelled(joiner.p);
    await assertNoLeaks();
  });

  void test('a getter woken, then cancelled: the item stays in the queue and goes to the next getter', async () => {
    const q = new Queue<number>();
    const g1 = cancellable((o) => q.get(o));
    const g2 = cancellable((o) => q.get(o));
    await turn();
    q.putNowait(7);
    g1.ac.abort();
    assert.equal(q.qsize(), 1, 'the item never left the queue');
    await turn();
    assertCancelled(g1.p);
    assert.equal(g2.p.value, 7);
    assert.equal(q.qsize(), 0);
    await assertNoLeaks();
  });

  void test('a woken getter whose item a getNowait() took meanwhile waits again, first in line', async () => {
    const q = new Queue<number>();
    const g1 = cancellable((o) => q.get(o));
    const g2 = probe(q.get());
    await turn();
    q.putNowait(1); // wakes g1; the item is in the queue until g1 resumes ...
    assert.equal(q.getNowait(), 1); // ... and a caller that does not wait takes it, as in asyncio
    await turn();
    assert.ok(g1.p.pending, 'g1 waits again');
    assert.equal(q.statistics().getters, 2);
    q.putNowait(2);
    await turn();
    assert.equal(g1.p.value, 2, 'g1, first in line, gets the next item');
    assert.ok(g2.pending, 'g2 is still behind g1');
    q.putNowait(3);
    await turn();
    assert.equal(g2.value, 3);
    await assertNoLeaks();
  });
});

void describe('Queue: qsize() counts an item until its getter resumes', () => {
  void test('a getter waits; putNowait(3): qsize() 1, not empty, and Queue(1) is full, not full and empty at once', async () => {
    const q = new Queue<number>(1);
    const getter = createTask((signal) => q.get({ signal }));
    await turn();
    q.putNowait(3);
    assert.equal(q.qsize(), 1);
    assert.equal(q.empty(), false);
    assert.equal(q.full(), true);
    assert.equal(await getter, 3);
    assert.equal(q.qsize(), 0);
    assert.equal(q.empty(), true);
    assert.equal(q.full(), false);
    await assertNoLeaks();
  });

  void test('a getter without a signal cannot be cancelled: the item is its own at once, qsize() does not count it', async () => {
    // A departure from asyncio, where the item is queued until the getter's
    // task resumes: an uncancellable getter takes it straight from the put.
    const q = new Queue<number>(1);
    const getter = probe(q.get());
    q.putNowait(3);
    assert.equal(q.qsize(), 0);
    assert.equal(q.empty(), true);
    assert.equal(q.full(), false, 'never full and empty at once');
    await turn();
    assert.equal(getter.value, 3);
  });
});

void describe('Queue: the rest of CPython 3.13 QueueGetTests and QueuePutTests', () => {
  void test('get() takes a queued item at once (test_blocking_get)', async () => {
    const q = new Queue<number>();
    q.putNowait(1);
    assert.equal(await q.get(), 1);
  });

  void test('getNowait() takes a queued item; QueueEmpty on an empty queue (test_nonblocking_get, test_nonblocking_get_exception)', () => {
    const q = new Queue<number>();
    q.putNowait(1);
    assert.equal(q.getNowait(), 1);
    assertIs(
      thrown(() => q.getNowait()),
      QueueEmpty,
    );
  });

  void test('get() on a full queue with a waiting putter frees its slot: the putter finishes (test_get_with_putters)', async () => {
    const q = new Queue<number>(1);
    await q.put(1);
    const putter = probe(q.put(2));
    assert.equal(await q.get(), 1);
    await turn();
    assert.equal(putter.value, undefined);
    assert.deepEqual(drain(q), [2]);
  });

  void test('put() on an unbounded queue does not wait (test_blocking_put)', async () => {
    const q = new Queue<number>();
    await q.put(1);
    assert.equal(await q.get(), 1);
  });

  void test('putNowait() then getNowait(); QueueFull on a full queue (test_nonblocking_put, test_nonblocking_put_exception)', () => {
    const q = new Queue<number>();
    q.putNowait(1);
    assert.equal(q.getNowait(), 1);
    const q1 = new Queue<number>(1);
    q1.putNowait(1);
    assertIs(
      thrown(() => q1.putNowait(2)),
      QueueFull,
    );
  });

  void test('a task that puts into an unbounded queue is done soon after the getter resumes (test_put_cancelled)', async () => {
    const q = new Queue<number>();
    const t = createTask(async () => {
      await q.put(1);
      return true;
    });
    assert.equal(await q.get(), 1);
    // CPython: `t.done()` already. tsaio: the getter resumes one microtask
    // after the put, the task a few later (its `await` of the put's promise,
    // then its own completion): done within the same turn of the loop.
    await turn();
    assert.equal(t.done(), true);
    assert.equal(t.result(), true);
  });
});
