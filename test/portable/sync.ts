// Portable checks: Lock, Event, Semaphore, BoundedSemaphore, Condition, Barrier.
import {
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  CancelledError,
  Condition,
  Event,
  InvalidStateError,
  Lock,
  Semaphore,
  createTask,
  gather,
  run,
  sleep,
} from 'tsaio';
import { assert, describe, test } from './_runner.ts';

describe('locks', () => {
  test('Lock serves waiters first come, first served', async () => {
    const lock = new Lock();
    const order: number[] = [];
    await run(() =>
      gather(
        [1, 2, 3].map((n) => async () => {
          using _held = await lock.acquire();
          order.push(n);
          await sleep(5);
        }),
      ),
    );
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(lock.locked(), false);
  });
  test('Lock.release() when unlocked throws InvalidStateError', () => {
    assert.throws(() => new Lock().release(), InvalidStateError);
  });
  test('a cancelled lock waiter leaves no trace', async () => {
    await run(async () => {
      const lock = new Lock();
      await lock.acquire();
      const controller = new AbortController();
      const waiting = lock.acquire({ signal: controller.signal });
      controller.abort();
      await assert.rejects(waiting, CancelledError);
      lock.release();
      assert.equal(lock.locked(), false);
    });
  });
  test('Event.wait resolves to true once set', async () => {
    await run(async () => {
      const event = new Event();
      const waiter = createTask(() => event.wait());
      await sleep(5);
      assert.equal(waiter.done(), false);
      event.set();
      assert.equal(await waiter, true);
      assert.ok(event.isSet());
    });
  });
  test('Semaphore lets `value` holders in at once', async () => {
    const sem = new Semaphore(2);
    let inside = 0;
    let most = 0;
    await run(() =>
      gather(
        Array.from(
          { length: 6 },
          () => () =>
            sem.run(async () => {
              most = Math.max(most, ++inside);
              await sleep(5);
              inside--;
            }),
        ),
      ),
    );
    assert.equal(most, 2);
  });
  test('Semaphore(-1) is a RangeError; BoundedSemaphore refuses a release above its value', () => {
    assert.throws(() => new Semaphore(-1), RangeError);
    assert.throws(() => new BoundedSemaphore(1).release(), RangeError);
  });
  test('Condition: notify wakes one waiter, which holds the lock again', async () => {
    await run(async () => {
      const cond = new Condition();
      let ready = false;
      const waiter = createTask(async () => {
        await cond.acquire();
        try {
          await cond.waitFor(() => ready);
          return cond.locked();
        } finally {
          cond.release();
        }
      });
      await sleep(5);
      await cond.acquire();
      ready = true;
      cond.notify();
      cond.release();
      assert.equal(await waiter, true);
    });
  });
  test('Barrier: every party gets a distinct index; abort breaks it', async () => {
    await run(async () => {
      const barrier = new Barrier(3);
      const indexes = await gather([() => barrier.wait(), () => barrier.wait(), () => barrier.wait()]);
      assert.deepEqual([...indexes].sort(), [0, 1, 2]);
      const waiting = createTask(() => barrier.wait());
      await sleep(0);
      barrier.abort();
      await assert.rejects(waiting, BrokenBarrierError);
      assert.ok(barrier.broken);
    });
  });
});
