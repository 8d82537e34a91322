// Behaviour tests for the loop facade `getRunningLoop()` (SPEC "The loop";
// design.md "Time"). After CPython's test_events.py / test_base_events.py.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getRunningLoop, Future, Task, sleep } from '../src/index.ts';
import { assertNoLeaks, since } from './_helpers.ts';

const loop = getRunningLoop();

/** Resolves after `n` turns of the Node event loop. */
async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Resolves once `pred()` holds, polling each turn; fails after `ms`. */
async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const t0 = performance.now();
  while (!pred()) {
    if (since(t0) > ms) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Finds the context object among the arguments an exception handler receives. */
function contextOf(args: unknown[]): { exception?: unknown; message?: unknown } | undefined {
  return args.find((a) => typeof a === 'object' && a !== null && 'message' in a && 'exception' in a) as
    { exception?: unknown; message?: unknown } | undefined;
}

void describe('getRunningLoop', () => {
  void test('returns the one loop', () => {
    assert.equal(getRunningLoop(), getRunningLoop());
  });

  void test('returns the same loop inside a task', async () => {
    const t = loop.createTask(async () => getRunningLoop());
    assert.equal(await t, loop);
  });
});

void describe('loop.time()', () => {
  void test('is a number of monotonic milliseconds', async () => {
    const a = loop.time();
    assert.equal(typeof a, 'number');
    assert.ok(Number.isFinite(a));
    let prev = a;
    for (let i = 0; i < 1000; i++) {
      const t = loop.time();
      assert.ok(t >= prev, 'time went backwards');
      prev = t;
    }
    await new Promise((r) => setTimeout(r, 30));
    const b = loop.time();
    assert.ok(b - a >= 25, `30 ms of wall time counted ${b - a} ms`);
    assert.ok(b - a < 5000, `30 ms of wall time counted ${b - a} ms (not milliseconds?)`);
  });

  void test('is on the performance.now() clock', () => {
    const diff = Math.abs(loop.time() - performance.now());
    assert.ok(diff < 50, `differs from performance.now() by ${diff} ms`);
  });
});

void describe('loop.callSoon', () => {
  void test('runs in a later turn, not synchronously nor in a microtask', async () => {
    let ran = false;
    loop.callSoon(() => {
      ran = true;
    });
    assert.equal(ran, false);
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(ran, false);
    await until(() => ran);
    await assertNoLeaks();
  });

  void test('runs callbacks in FIFO order with their arguments', async () => {
    const calls: unknown[][] = [];
    for (let i = 0; i < 10; i++) loop.callSoon((...args: unknown[]) => calls.push(args), i, `x${i}`);
    loop.callSoon(() => calls.push([]));
    await until(() => calls.length === 11);
    assert.deepEqual(calls, [...Array.from({ length: 10 }, (_, i) => [i, `x${i}`]), []]);
    await assertNoLeaks();
  });

  void test('a callback scheduled from a callback runs after the ones already queued', async () => {
    const order: number[] = [];
    loop.callSoon(() => {
      order.push(1);
      loop.callSoon(() => order.push(3));
    });
    loop.callSoon(() => order.push(2));
    await until(() => order.length === 3);
    assert.deepEqual(order, [1, 2, 3]);
    await assertNoLeaks();
  });

  void test('Handle.cancel() prevents the call; cancelled() reports it', async () => {
    let ran = false;
    let other = false;
    const h = loop.callSoon(() => {
      ran = true;
    });
    loop.callSoon(() => {
      other = true;
    });
    assert.equal(h.cancelled(), false);
    h.cancel();
    assert.equal(h.cancelled(), true);
    h.cancel(); // twice is harmless
    assert.equal(h.cancelled(), true);
    await until(() => other);
    await turns(2);
    assert.equal(ran, false);
    await assertNoLeaks();
  });

  void test('cancelling a handle after it ran is harmless', async () => {
    let ran = false;
    const h = loop.callSoon(() => {
      ran = true;
    });
    await until(() => ran);
    h.cancel();
    await assertNoLeaks();
  });

  void test('a callback cancelling a later one of the same batch stops it', async () => {
    const order: string[] = [];
    loop.callSoon(() => {
      order.push('a');
      hb.cancel();
    });
    const hb = loop.callSoon(() => order.push('b'));
    loop.callSoon(() => order.push('c'));
    await until(() => order.length >= 2);
    await turns(2);
    assert.deepEqual(order, ['a', 'c']);
    await assertNoLeaks();
  });

  void test('callSoon(notAFunction) is a TypeError', () => {
    for (const bad of [undefined, null, 42, 'fn', {}]) {
      assert.throws(() => loop.callSoon(bad as never), TypeError, `callSoon(${String(bad)})`);
    }
  });
});

void describe('loop.callLater / loop.callAt', () => {
  void test('callLater runs at or after its time, with its arguments; when() is the deadline', async () => {
    const t0 = loop.time();
    let firedAt = -1;
    let args: unknown[] = [];
    const h = loop.callLater(
      20,
      (...a: unknown[]) => {
        firedAt = loop.time();
        args = a;
      },
      'a',
      2,
    );
    const when = h.when();
    assert.ok(when >= t0 + 20 && when <= loop.time() + 20, `when=${when} t0=${t0}`);
    await until(() => firedAt >= 0);
    assert.ok(firedAt >= when, `fired at ${firedAt}, before its time ${when}`);
    assert.ok(firedAt - t0 < 5000);
    assert.deepEqual(args, ['a', 2]);
    await assertNoLeaks();
  });

  void test('callAt runs at or after its time; when() is what was given', async () => {
    const when = loop.time() + 15;
    let firedAt = -1;
    const h = loop.callAt(when, () => {
      firedAt = loop.time();
    });
    assert.equal(h.when(), when);
    await until(() => firedAt >= 0);
    assert.ok(firedAt >= when, `fired at ${firedAt}, before ${when}`);
    await assertNoLeaks();
  });

  void test('callbacks run in time order', async () => {
    const order: number[] = [];
    const base = loop.time(); // callAt: a descheduled process cannot shift one deadline past another
    loop.callAt(base + 30, () => order.push(30));
    loop.callAt(base + 10, () => order.push(10));
    loop.callAt(base + 20, () => order.push(20));
    loop.callAt(base, () => order.push(0));
    await until(() => order.length === 4);
    assert.deepEqual(order, [0, 10, 20, 30]);
    await assertNoLeaks();
  });

  void test('callbacks scheduled for the same time run in the order scheduled', async () => {
    const when = loop.time() + 10.3;
    const order: number[] = [];
    for (let i = 0; i < 50; i++) loop.callAt(when, () => order.push(i));
    await until(() => order.length === 50);
    assert.deepEqual(
      order,
      Array.from({ length: 50 }, (_, i) => i),
    );
    await assertNoLeaks();
  });

  void test('same delay from one synchronous run keeps the scheduling order', async () => {
    const order: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) loop.callLater(5, () => order.push(name));
    await until(() => order.length === 4);
    assert.deepEqual(order, ['a', 'b', 'c', 'd']);
    await assertNoLeaks();
  });

  void test('cancel prevents the call and leaves no timer', async () => {
    let ran = false;
    const h = loop.callLater(1000, () => {
      ran = true;
    });
    assert.equal(h.cancelled(), false);
    h.cancel();
    assert.equal(h.cancelled(), true);
    await assertNoLeaks(); // nothing armed for the cancelled timer
    assert.equal(ran, false);
  });

  void test('cancelling one of several timers runs only the others', async () => {
    const order: number[] = [];
    const when = loop.time() + 10;
    const hs = Array.from({ length: 5 }, (_, i) => loop.callAt(when, () => order.push(i)));
    hs[1]!.cancel();
    hs[3]!.cancel();
    await until(() => order.length === 3);
    await sleep(15);
    assert.deepEqual(order, [0, 2, 4]);
    await assertNoLeaks();
  });

  void test('cancelling many timers leaves nothing behind', async () => {
    const hs = Array.from({ length: 1000 }, (_, i) => loop.callLater(1000 + i, () => assert.fail('ran')));
    for (const h of hs) h.cancel();
    await assertNoLeaks();
  });

  void test('callAt in the past runs soon', async () => {
    let ran = false;
    loop.callAt(loop.time() - 1000, () => {
      ran = true;
    });
    await until(() => ran, 1000);
    await assertNoLeaks();
  });

  void test('a timer handle is also a Handle: cancel after it ran is harmless', async () => {
    let ran = false;
    const h = loop.callLater(1, () => {
      ran = true;
    });
    await until(() => ran);
    h.cancel();
    await assertNoLeaks();
  });

  void test('a timer cancelling a later one due at the same time stops it', async () => {
    const order: string[] = [];
    const when = loop.time() + 5;
    loop.callAt(when, () => {
      order.push('a');
      hb.cancel();
    });
    const hb = loop.callAt(when, () => order.push('b'));
    loop.callAt(when, () => order.push('c'));
    await until(() => order.length >= 2);
    await sleep(10);
    assert.deepEqual(order, ['a', 'c']);
    await assertNoLeaks();
  });

  void test('a negative delay runs soon (a deadline in the past)', async () => {
    let ran = false;
    loop.callLater(-50, () => {
      ran = true;
    });
    await until(() => ran, 1000);
    await assertNoLeaks();
  });

  void test('a timer that keeps scheduling itself in the past lets the rest of the loop run', async () => {
    // Each turn runs the timers due when it began; one scheduled by them waits for the next
    // turn, whatever its deadline (else a callback rescheduling itself in the past never yields).
    let n = 0;
    let seenAt = -1;
    const again = (): void => {
      n++;
      if (n === 1) setImmediate(() => (seenAt = n));
      if (n < 50) loop.callAt(loop.time() - 60_000, again);
    };
    loop.callAt(loop.time() - 60_000, again);
    await until(() => n === 50);
    assert.ok(seenAt >= 1 && seenAt <= 3, `the immediate ran after ${seenAt} of 50 timer callbacks`);
    await assertNoLeaks();
  });

  void test('bad input: callLater(NaN, fn) is a RangeError, a non-function a TypeError', () => {
    assert.throws(() => loop.callLater(NaN, () => {}), RangeError);
    assert.throws(() => loop.callAt(NaN, () => {}), RangeError);
    assert.throws(() => loop.callLater(10, 'fn' as never), TypeError);
    assert.throws(() => loop.callAt(loop.time() + 10, null as never), TypeError);
    assert.throws(() => loop.callLater('10' as never, () => {}), TypeError);
  });

  void test('bad input: the messages name the method and the value', () => {
    const cases: [() => unknown, string, string][] = [
      [
        () => loop.callAt('1' as never, () => {}),
        'TypeError',
        'callAt: the time must be a loop.time() value in ms, received "1"',
      ],
      [
        () => loop.callAt(null as never, () => {}),
        'TypeError',
        'callAt: the time must be a loop.time() value in ms, received null',
      ],
      [
        () => loop.callAt(NaN, () => {}),
        'RangeError',
        'callAt: the time must be a loop.time() value in ms, received NaN',
      ],
      [
        () => loop.callAt(-Infinity, () => {}),
        'RangeError',
        'callAt: the time must be a loop.time() value in ms, received -Infinity',
      ],
      [
        () => loop.callLater(NaN, () => {}),
        'RangeError',
        'callLater: the delay must be a number of milliseconds, received NaN',
      ],
      [
        () => loop.callLater(5, 42 as never),
        'TypeError',
        'callLater: the callback must be a function, received 42',
      ],
    ];
    for (const [fn, name, message] of cases) assert.throws(fn, { name, message });
  });

  void test('callAt(Infinity) and callLater(Infinity) never run; cancel leaves nothing', async () => {
    const hs = [
      loop.callAt(Infinity, () => assert.fail('ran')),
      loop.callLater(Infinity, () => assert.fail('ran')),
    ];
    for (const h of hs) assert.equal(h.when(), Infinity);
    await assertNoLeaks();
    for (const h of hs) h.cancel();
  });
});

void describe('loop.createFuture / loop.createTask', () => {
  void test('createFuture gives a pending Future', async () => {
    const f = loop.createFuture<number>();
    assert.ok(f instanceof Future);
    assert.equal(f.done(), false);
    loop.callSoon(() => f.setResult(5));
    assert.equal(await f, 5);
    assert.equal(f.result(), 5);
    await assertNoLeaks();
  });

  void test('createTask runs a body as a Task with its signal', async () => {
    let gotSignal = false;
    const t = loop.createTask(async (signal: AbortSignal) => {
      gotSignal = signal instanceof AbortSignal;
      await sleep(1, undefined, { signal });
      return 'task value';
    });
    assert.ok(t instanceof Task);
    assert.ok(t instanceof Future);
    assert.equal(await t, 'task value');
    assert.ok(gotSignal);
    await assertNoLeaks();
  });

  void test('a task created by the loop can be cancelled', async () => {
    const t = loop.createTask(async (signal: AbortSignal) => sleep(10_000, undefined, { signal }));
    await sleep(1);
    t.cancel();
    await assert.rejects(async () => t, { name: 'CancelledError' });
    assert.ok(t.cancelled());
    await assertNoLeaks();
  });
});

void describe('debug settings', () => {
  void test('setDebug / getDebug', () => {
    const before = loop.getDebug();
    assert.equal(typeof before, 'boolean');
    try {
      loop.setDebug(true);
      assert.equal(loop.getDebug(), true);
      loop.setDebug(false);
      assert.equal(loop.getDebug(), false);
    } finally {
      loop.setDebug(before);
    }
  });

  void test('slowCallbackDuration defaults to 100 (ms) and can be set', () => {
    assert.equal(loop.slowCallbackDuration, 100);
    try {
      loop.slowCallbackDuration = 250;
      assert.equal(loop.slowCallbackDuration, 250);
    } finally {
      loop.slowCallbackDuration = 100;
    }
  });
});

void describe('loop.setExceptionHandler', () => {
  void test('receives an error thrown by a callSoon callback, with exception and message', async () => {
    const boom = new Error('boom from callSoon');
    const seen: unknown[][] = [];
    loop.setExceptionHandler((...args: unknown[]) => {
      seen.push(args);
    });
    try {
      let after = false;
      loop.callSoon(() => {
        throw boom;
      });
      loop.callSoon(() => {
        after = true;
      });
      await until(() => after && seen.length > 0);
      assert.equal(seen.length, 1);
      const ctx = contextOf(seen[0]!);
      assert.ok(ctx, `handler arguments: ${String(seen[0])}`);
      assert.equal(ctx.exception, boom);
      assert.equal(typeof ctx.message, 'string');
      assert.ok((ctx.message as string).length > 0);
      assert.ok(after, 'the callbacks queued after the throwing one still ran');
    } finally {
      loop.setExceptionHandler(null);
    }
    await assertNoLeaks();
  });

  void test('receives an error thrown by a callLater callback', async () => {
    const boom = new Error('boom from callLater');
    const seen: unknown[][] = [];
    loop.setExceptionHandler((...args: unknown[]) => {
      seen.push(args);
    });
    try {
      let after = false;
      const when = loop.time() + 5;
      loop.callAt(when, () => {
        throw boom;
      });
      loop.callAt(when, () => {
        after = true;
      });
      await until(() => after && seen.length > 0);
      assert.equal(contextOf(seen[0]!)?.exception, boom);
      assert.ok(after, 'the timers due with the throwing one still ran');
    } finally {
      loop.setExceptionHandler(null);
    }
    await assertNoLeaks();
  });

  void test('receives an error thrown by a future done-callback', async () => {
    const boom = new Error('boom from a done-callback');
    const seen: unknown[][] = [];
    loop.setExceptionHandler((...args: unknown[]) => {
      seen.push(args);
    });
    try {
      const f = new Future<number>();
      let second = false;
      f.addDoneCallback(() => {
        throw boom;
      });
      f.addDoneCallback(() => {
        second = true;
      });
      f.setResult(1);
      await until(() => second && seen.length > 0);
      assert.equal(contextOf(seen[0]!)?.exception, boom);
    } finally {
      loop.setExceptionHandler(null);
    }
    await assertNoLeaks();
  });

  void test('a handler that is not a function is a TypeError', () => {
    assert.throws(() => loop.setExceptionHandler(42 as never), TypeError);
    assert.throws(() => loop.setExceptionHandler('h' as never), TypeError);
  });

  void test('the default handler does not crash the process, and reports the error', () => {
    const fixture = fileURLToPath(new URL('./fixtures/default-exception-handler.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', fixture], {
      encoding: 'utf8',
      timeout: 30_000,
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    assert.equal(
      r.status,
      0,
      `exit ${r.status} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
    );
    assert.match(r.stdout, /ALIVE after the throwing callback/);
    assert.match(r.stdout, /later callback ran/);
    assert.match(r.stderr, /boom-from-the-callback/, `stderr: ${r.stderr}`);
  });
});
