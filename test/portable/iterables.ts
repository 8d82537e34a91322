// Portable checks: wait, asCompleted, map.
import {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  TimeoutError,
  asCompleted,
  createTask,
  map,
  run,
  sleep,
  toArray,
  wait,
  type Future,
} from 'tsaio';
import { assert, describe, test } from './_runner.ts';

describe('waiting on many', () => {
  test('wait FIRST_COMPLETED returns once one is done, cancelling nothing', async () => {
    await run(async () => {
      const fast = createTask(() => sleep(5, 'fast'));
      const slow = createTask((signal) => sleep(10_000, 'slow', { signal }));
      const { done, pending } = await wait([fast, slow], { returnWhen: FIRST_COMPLETED });
      assert.ok(done.has(fast) && pending.has(slow) && !slow.cancelled());
      slow.cancel();
    });
  });
  test('wait ALL_COMPLETED with a timeout leaves the late ones pending', async () => {
    await run(async () => {
      const late = createTask((signal) => sleep(10_000, undefined, { signal }));
      const { done, pending } = await wait([late], { timeout: 10, returnWhen: ALL_COMPLETED });
      assert.equal(done.size, 0);
      assert.ok(pending.has(late));
      late.cancel();
    });
  });
  test('asCompleted yields in completion order', async () => {
    const order = await run(async () => {
      const out: string[] = [];
      // At run time each item is a done Future (TypeScript types it as its value).
      for await (const f of asCompleted([sleep(30, 'c'), sleep(10, 'a'), sleep(20, 'b')])) {
        out.push((f as unknown as Future<string>).result());
      }
      return out;
    });
    assert.deepEqual(order, ['a', 'b', 'c']);
  });
  test('asCompleted raises TimeoutError when time runs out', async () => {
    await run(async () => {
      const late = createTask((signal) => sleep(10_000, undefined, { signal }));
      const iterate = async (): Promise<void> => {
        for await (const f of asCompleted([late], { timeout: 10 })) void f;
      };
      await assert.rejects(iterate, TimeoutError);
      assert.ok(!late.done(), 'asCompleted cancels nothing');
      late.cancel();
    });
  });
  test('map keeps input order at the concurrency asked for', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await run(() =>
      toArray(
        map(
          [30, 10, 20, 5],
          async (ms, signal) => {
            most = Math.max(most, ++inFlight);
            await sleep(ms, undefined, { signal });
            inFlight--;
            return ms;
          },
          { concurrency: 2 },
        ),
      ),
    );
    assert.deepEqual(out, [30, 10, 20, 5]);
    assert.equal(most, 2);
  });
  test('map with a per-call timeout fails with TimeoutError', async () => {
    await run(async () => {
      const slow = map([1], (_x, signal) => sleep(10_000, 1, { signal }), { timeout: 10 });
      await assert.rejects(() => toArray(slow), TimeoutError);
    });
  });
});
