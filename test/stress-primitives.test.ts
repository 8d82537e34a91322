// Stress tests of the core: many waits, many cancellations, and nothing left
// behind afterwards.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  CancelledError,
  Condition,
  Event,
  LifoQueue,
  Lock,
  PriorityQueue,
  Queue,
  QueueShutDown,
  RateLimiter,
  Semaphore,
  allTasks,
  createTask,
  sleep,
  type Task,
} from '../src/index.ts';
import { _hookCount } from '../src/_cancel.ts';
import { assertNoLeaks } from './_helpers.ts';

void describe('random cancellations across every primitive', () => {
  /** A small seeded generator (mulberry32): the same seed, the same run. */
  function rng(seed: number): (n: number) => number {
    let a = seed >>> 0;
    return (n) => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
    };
  }

  /** Runs `fn` `depth` microtasks from now. */
  function inMicrotask(depth: number, fn: () => void): void {
    if (depth === 0) return fn();
    queueMicrotask(() => inMicrotask(depth - 1, fn));
  }

  const CANCELLATIONS = 10_000;
  const TASKS_PER_ROUND = 400;

  async function storm(seed: number): Promise<void> {
    const rand = rng(seed);
    const lock = new Lock();
    const sem = new Semaphore(3);
    const bounded = new BoundedSemaphore(2);
    const event = new Event();
    const cond = new Condition();
    const barrier = new Barrier(3);
    const queues = [new Queue<number>(4), new PriorityQueue<number>(4), new LifoQueue<number>(4)];
    const limiter = new RateLimiter({ rate: 50, interval: 5, burst: 10 });

    // What the invariants read.
    let lockHolders = 0;
    let semHolders = 0;
    let boundedHolders = 0;
    let nextItem = 0;
    const accepted = new Set<number>(); // items whose put resolved
    const got: number[] = []; // items taken, by any means
    const unexpected: unknown[] = [];
    const tasks: Task<unknown>[] = [];
    const foreign: AbortController[] = [];

    /** Ends of a wait that the storm expects: anything else is a failure. */
    const expected = (e: unknown): boolean =>
      e instanceof CancelledError || e instanceof BrokenBarrierError || e instanceof QueueShutDown;

    /** A pause inside a critical section: none, a few microtasks, or (now and then) a turn of the loop. */
    const pause = async (signal: AbortSignal): Promise<void> => {
      const k = rand(8);
      if (k === 0) await sleep(0, undefined, { signal });
      else for (let i = k - 1; i > 0; i--) await Promise.resolve();
    };

    const ops: ((signal: AbortSignal) => Promise<unknown>)[] = [
      async (signal) => {
        const held = await lock.acquire({ signal });
        try {
          assert.equal(++lockHolders, 1, 'two holders of the lock');
          await pause(signal);
        } finally {
          lockHolders--;
          held.release();
        }
      },
      (signal) =>
        lock.run(
          async () => {
            assert.equal(++lockHolders, 1, 'two holders of the lock');
            try {
              await pause(signal);
            } finally {
              lockHolders--;
            }
          },
          { signal },
        ),
      async (signal) => {
        using _held = await sem.acquire({ signal });
        assert.ok(++semHolders <= 3, 'more holders than permits');
        try {
          await pause(signal);
        } finally {
          semHolders--;
        }
      },
      (signal) =>
        bounded.run(
          async () => {
            assert.ok(++boundedHolders <= 2, 'more holders than permits');
            try {
              await pause(signal);
            } finally {
              boundedHolders--;
            }
          },
          { signal },
        ),
      (signal) => event.wait({ signal }),
      async () => {
        if (rand(2) === 0) event.set();
        else event.clear();
      },
      (signal) => cond.run(() => cond.wait({ signal })),
      () => cond.run(() => (rand(3) === 0 ? cond.notifyAll() : cond.notify(1 + rand(2)))),
      (signal) => barrier.wait({ signal }),
      async (signal) => {
        const q = queues[rand(3)]!;
        const item = nextItem++;
        await q.put(item, { signal });
        accepted.add(item);
      },
      async (signal) => {
        const q = queues[rand(3)]!;
        got.push(await q.get({ signal }));
        q.taskDone();
      },
      async () => {
        const q = queues[rand(3)]!;
        if (!q.empty()) {
          got.push(q.getNowait());
          q.taskDone();
        }
      },
      (signal) => limiter.acquire({ signal }),
    ];

    let cancellations = 0;
    for (let round = 0; cancellations < CANCELLATIONS; round++) {
      assert.ok(round < 1000, 'the storm does not reach its count of cancellations');
      const shared = new AbortController();
      foreign.push(shared);
      for (let i = 0; i < TASKS_PER_ROUND; i++) {
        const op = ops[rand(ops.length)]!;
        // Most bodies wait on their task's own signal; some on a signal shared by the round.
        const viaShared = rand(8) === 0;
        const task = createTask(async (signal) => {
          try {
            await op(viaShared ? shared.signal : signal);
          } catch (e) {
            if (!expected(e)) unexpected.push(e);
            throw e;
          }
        });
        tasks.push(task);
        // Cancel about half of them: at once, a few microtasks later, or a turn later.
        const when = rand(8);
        if (when < 4) {
          const cancel = (): void => {
            if (task.cancel()) cancellations++;
          };
          if (when === 0) cancel();
          else if (when < 3) inMicrotask(rand(6), cancel);
          else setImmediate(cancel);
        }
      }
      // The shared signal of the round aborts now and then, a few microtasks in.
      if (rand(3) === 0) {
        inMicrotask(rand(4), () => {
          shared.abort();
          cancellations++;
        });
      }
      await sleep(rand(2));
    }

    // The end: release whatever still waits, then every task must settle. A
    // queue shut down still gives the items it holds to getNowait().
    const drain = (): void => {
      for (const q of queues) {
        while (!q.empty()) {
          got.push(q.getNowait());
          q.taskDone();
        }
      }
    };
    for (const q of queues) q.shutdown();
    event.set();
    barrier.abort();
    for (let i = 0; i < 1000 && tasks.some((t) => !t.done()); i++) {
      await cond.run(() => cond.notifyAll());
      drain();
      await sleep(1);
    }
    const pending = tasks.filter((t) => !t.done());
    assert.equal(pending.length, 0, `${pending.length} tasks never settled`);
    assert.deepEqual(unexpected, [], 'a wait ended with an error the storm does not expect');
    // Read every outcome, so that no failure is reported as never retrieved.
    await Promise.allSettled(tasks);

    // Nothing lost, nothing duplicated: every accepted item was taken exactly once.
    assert.equal(new Set(got).size, got.length, 'an item was taken twice');
    for (const item of got) assert.ok(accepted.has(item), `item ${item} taken but its put did not resolve`);
    assert.equal(got.length, accepted.size, `${accepted.size - got.length} accepted items were lost`);
    for (const q of queues) assert.equal(q.statistics().unfinished, 0);

    // The primitives are back at rest.
    assert.equal(lock.locked(), false);
    assert.deepEqual(sem.statistics(), { value: 3, waiters: 0 });
    assert.deepEqual(bounded.statistics(), { value: 2, waiters: 0 });
    assert.equal(cond.locked(), false);
    assert.equal(cond.statistics().waiters, 0);
    assert.equal(barrier.nWaiting, 0);
    assert.equal(limiter.statistics().waiters, 0);

    // Nothing left behind: no pending task, no hook, no listener, no timer.
    assert.equal(allTasks().size, 0, 'pending tasks left');
    for (const t of tasks) assert.ok(_hookCount(t.signal) <= 0, 'a hook left on a task signal');
    for (const ctl of foreign) {
      assert.ok(_hookCount(ctl.signal) <= 0, 'a hook left on a shared signal');
      assert.equal(getEventListeners(ctl.signal, 'abort').length, 0, 'a listener left on a shared signal');
    }
    await assertNoLeaks();
    assert.ok(cancellations >= CANCELLATIONS);
  }

  void test('10,000 random cancellations: every promise settles, no item lost or duplicated, nothing left behind', async () => {
    const seed = Number(process.env['TSAIO_STRESS_SEED'] ?? Date.now() % 2 ** 31);
    try {
      await storm(seed);
    } catch (e) {
      throw new Error(`the storm failed with seed ${seed} (TSAIO_STRESS_SEED=${seed} replays it)`, {
        cause: e,
      });
    }
  });
});
