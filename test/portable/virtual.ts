// Portable checks: runVirtual from tsaio/testing.
import { getRunningLoop, sleep, timeout, TimeoutError } from 'tsaio';
import { StallError, runVirtual } from 'tsaio/testing';
import { assert, describe, test } from './_runner.ts';

describe('runVirtual', () => {
  test('an hour of sleep takes (real) milliseconds', async () => {
    const start = performance.now();
    const elapsed = await runVirtual(async () => {
      const loop = getRunningLoop();
      const t0 = loop.time();
      await sleep(3_600_000);
      return loop.time() - t0;
    });
    assert.equal(elapsed, 3_600_000);
    assert.ok(performance.now() - start < 2000, 'real time stayed short');
  });
  test('a timeout expires on the virtual clock', async () => {
    await runVirtual(async () => {
      await assert.rejects(
        timeout(60_000, (signal) => sleep(120_000, undefined, { signal })),
        TimeoutError,
      );
    });
  });
  test('a run waiting on a real timer fails with StallError', async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await assert.rejects(
        runVirtual(() => new Promise((resolve) => (timer = setTimeout(resolve, 60_000))), {
          stallTimeout: 50,
        }),
        StallError,
        (e: StallError) => Array.isArray(e.resources),
      );
    } finally {
      clearTimeout(timer);
    }
  });
});
