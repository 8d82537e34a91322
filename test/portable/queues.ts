// Portable checks: Queue, PriorityQueue, LifoQueue.
import {
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  createTask,
  gather,
  run,
  sleep,
} from 'tsaio';
import { assert, describe, test } from './_runner.ts';

describe('queues', () => {
  test('Queue is first in, first out; a bounded put waits for room', async () => {
    await run(async () => {
      const q = new Queue<number>(1);
      const producer = createTask(async () => {
        for (const n of [1, 2, 3]) await q.put(n);
      });
      const got: number[] = [];
      for (let i = 0; i < 3; i++) got.push(await q.get());
      await producer;
      assert.deepEqual(got, [1, 2, 3]);
    });
  });
  test('putNowait/getNowait raise QueueFull/QueueEmpty', () => {
    const q = new Queue<string>(1);
    q.putNowait('a');
    assert.ok(q.full());
    assert.throws(() => q.putNowait('b'), QueueFull);
    assert.equal(q.getNowait(), 'a');
    assert.throws(() => q.getNowait(), QueueEmpty);
  });
  test('PriorityQueue gives the smallest first; LifoQueue the last put', () => {
    const pq = new PriorityQueue<number>();
    for (const n of [5, 1, 3]) pq.putNowait(n);
    assert.deepEqual([pq.getNowait(), pq.getNowait(), pq.getNowait()], [1, 3, 5]);
    const lq = new LifoQueue<number>();
    for (const n of [5, 1, 3]) lq.putNowait(n);
    assert.deepEqual([lq.getNowait(), lq.getNowait(), lq.getNowait()], [3, 1, 5]);
  });
  test('join waits until every item is marked done', async () => {
    await run(async () => {
      const q = new Queue<number>();
      for (const n of [1, 2, 3]) q.putNowait(n);
      let handled = 0;
      const worker = createTask(async (signal) => {
        for (;;) {
          await q.get({ signal });
          await sleep(2);
          handled++;
          q.taskDone();
        }
      });
      await q.join();
      assert.equal(handled, 3);
      worker.cancel();
    });
  });
  test('shutdown ends for-await once drained, and refuses puts', async () => {
    await run(async () => {
      const q = new Queue<number>();
      const consumed = createTask(async () => {
        const seen: number[] = [];
        for await (const n of q) seen.push(n);
        return seen;
      });
      await gather([q.put(1), q.put(2)]);
      q.shutdown();
      assert.deepEqual(await consumed, [1, 2]);
      await assert.rejects(q.put(3), QueueShutDown);
    });
  });
});
