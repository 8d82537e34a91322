// CPython 3.13's loop tests, ported to tsaio's loop facade: the timer and
// handle cases of Lib/test/test_asyncio/test_base_events.py
// (BaseEventLoopTests) and test_events.py (EventLoopTestsMixin, HandleTests,
// TimerTests). Each title names the CPython test. Cases about selectors,
// threads, executors, task factories, closing the loop, source tracebacks and
// TimerHandle comparison operators have no counterpart in tsaio.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { getRunningLoop, Handle, TimerHandle } from '../src/index.ts';
import { _timerStats } from '../src/_timers.ts';
import type { ErrorContext } from '../src/_report.ts';
import { assertNoLeaks, since } from './_helpers.ts';

const loop = getRunningLoop();

/** Resolves once `pred()` holds, polling every ms; fails after `ms`. */
async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const t0 = performance.now();
  while (!pred()) {
    if (since(t0) > ms) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Resolves after `n` turns of the Node event loop. */
async function turns(n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Runs `fn` with `console.error` recorded instead of printed. */
async function withConsoleError(fn: (calls: unknown[][]) => Promise<void>): Promise<void> {
  const calls: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void calls.push(args);
  try {
    await fn(calls);
  } finally {
    console.error = original;
  }
}

function noop(..._args: unknown[]): void {}

function zeroError(): never {
  throw new RangeError('division by zero');
}

void describe('test_base_events.py BaseEventLoopTests', () => {
  void test('test_call_soon: returns a Handle (not a TimerHandle) that runs the callback', async () => {
    let ran = false;
    const h = loop.callSoon(() => {
      ran = true;
    });
    assert.ok(h instanceof Handle);
    assert.ok(!(h instanceof TimerHandle));
    await until(() => ran);
    await assertNoLeaks();
  });

  void test('test_call_soon_non_callable: a TypeError whose message names the value', () => {
    assert.throws(() => loop.callSoon(1 as never), {
      name: 'TypeError',
      message: 'callSoon: the callback must be a function, received 1',
    });
  });

  void test('test_call_later: returns a TimerHandle, not run on the next turn; a null delay is a TypeError', async () => {
    let ran = false;
    const h = loop.callLater(10_000, () => {
      ran = true;
    });
    assert.ok(h instanceof TimerHandle);
    assert.ok(h instanceof Handle);
    await turns(3);
    assert.equal(ran, false);
    h.cancel();
    assert.throws(() => loop.callLater(null as never, noop), {
      name: 'TypeError',
      message: 'callLater: the delay must be a number of milliseconds, received null',
    });
    await assertNoLeaks();
  });

  void test('test_call_later_negative_delays: past deadlines run in deadline order', async () => {
    const calls: string[] = [];
    const cb = (arg: string): void => void calls.push(arg);
    loop.callLater(-1000, cb, 'a');
    loop.callLater(-2000, cb, 'b');
    await until(() => calls.length === 2);
    assert.deepEqual(calls, ['b', 'a']);
    await assertNoLeaks();
  });

  void test('test_call_later_negative_delays: past, present and equal deadlines; ties in scheduling order', async () => {
    const calls: string[] = [];
    const cb = (arg: string): void => void calls.push(arg);
    const base = loop.time();
    loop.callLater(0, cb, 'now');
    loop.callAt(base - 1000, cb, 'x');
    loop.callAt(base - 2000, cb, 'y');
    loop.callAt(base - 1000, cb, 'z');
    loop.callLater(-5000, cb, 'w');
    await until(() => calls.length === 5);
    assert.deepEqual(calls, ['w', 'y', 'x', 'z', 'now']);
    await assertNoLeaks();
  });

  void test('test_call_later_negative_delays: when() keeps the negative delay', () => {
    const before = loop.time();
    const h = loop.callLater(-1000, noop);
    const after = loop.time();
    h.cancel();
    assert.ok(h.when() >= before - 1000 && h.when() <= after - 1000, `when=${h.when()} before=${before}`);
  });

  void test('test_time_and_call_at: runs no earlier than its time; a null time is a TypeError', async () => {
    const when = loop.time() + 100;
    let firedAt = -1;
    loop.callAt(when, () => {
      firedAt = loop.time();
    });
    await until(() => firedAt >= 0);
    assert.ok(firedAt >= when, `ran at ${firedAt}, before its time ${when}`);
    for (const bad of [null, undefined]) {
      assert.throws(() => loop.callAt(bad as never, noop), {
        name: 'TypeError',
        message: `callAt: the time must be a loop.time() value in ms, received ${String(bad)}`,
      });
    }
    await assertNoLeaks();
  });

  void test('test__run_once: a cancelled earlier timer no longer counts; the later one stays', async () => {
    const h1 = loop.callLater(5000, noop);
    const h2 = loop.callLater(10_000, noop);
    h1.cancel();
    assert.equal(_timerStats().timers, 1);
    assert.equal(_timerStats().nodeTimerArmed, true);
    h2.cancel();
    await assertNoLeaks();
  });

  void test('test__run_once_schedule_handle: a callSoon from a past timer runs in a later turn', async () => {
    const order: string[] = [];
    const when = loop.time() - 1000;
    loop.callAt(when, () => {
      order.push('timer');
      loop.callSoon(() => order.push('soon'));
    });
    loop.callAt(when, () => order.push('same batch'));
    await until(() => order.length === 3);
    assert.deepEqual(order, ['timer', 'same batch', 'soon']);
    await assertNoLeaks();
  });

  void test('test__run_once_cancelled_event_cleanup: cancelled timers are dropped at once', async () => {
    const live = loop.callLater(3_000_000, noop);
    for (let i = 0; i < 2; i++) loop.callLater(3_600_000, noop).cancel();
    for (let i = 0; i < 2; i++) loop.callLater(100_000, noop).cancel();
    assert.equal(_timerStats().timers, 1);
    const many = Array.from({ length: 200 }, () => loop.callLater(3_600_000, noop));
    for (const h of many) h.cancel();
    assert.equal(_timerStats().timers, 1);
    live.cancel();
    await assertNoLeaks();
  });

  void test('test_default_exc_handler_callback: the default handler logs "Exception in callback"', async () => {
    await withConsoleError(async (calls) => {
      let done = 0;
      const fail = (): void => {
        done++;
        zeroError();
      };
      loop.callSoon(fail);
      await until(() => done === 1 && calls.length === 1);
      assert.match(String(calls[0]![0]), /Exception in callback <Handle fail\(\)>/);
      assert.ok(calls[0]!.some((a) => a instanceof RangeError));
      loop.callLater(10, fail);
      await until(() => done === 2 && calls.length === 2);
      assert.match(String(calls[1]![0]), /Exception in callback <TimerHandle when=[\d.]+ fail\(\)>/);
      assert.ok(calls[1]!.some((a) => a instanceof RangeError));
    });
    await assertNoLeaks();
  });

  void test('test_set_exc_handler_invalid: a handler that is not a function is a TypeError', () => {
    assert.throws(() => loop.setExceptionHandler('spam' as never), {
      name: 'TypeError',
      message: 'setExceptionHandler: the handler must be a function, received "spam"',
    });
    assert.equal(loop.getExceptionHandler(), null);
  });

  void test('test_set_exc_handler_custom: the handler gets (loop, context); null restores the default', async () => {
    assert.equal(loop.getExceptionHandler(), null);
    const seen: [unknown, ErrorContext][] = [];
    const handler = (l: unknown, context: ErrorContext): void => void seen.push([l, context]);
    loop.setExceptionHandler(handler);
    try {
      assert.equal(loop.getExceptionHandler(), handler);
      const handle = loop.callSoon(zeroError);
      await until(() => seen.length === 1);
      const [l, context] = seen[0]!;
      assert.equal(l, loop);
      assert.match(context.message, /Exception in callback.*zeroError/);
      assert.ok(context.exception instanceof RangeError);
      assert.equal(context['handle'], handle);
    } finally {
      loop.setExceptionHandler(null);
    }
    await withConsoleError(async (calls) => {
      loop.callSoon(zeroError);
      await until(() => calls.length === 1);
      assert.match(String(calls[0]![0]), /Exception in callback.*zeroError/);
    });
    assert.equal(seen.length, 1);
    await assertNoLeaks();
  });

  void test('test_set_exc_handler_broken: a throwing handler falls back to the default', async () => {
    const broken = new TypeError('spam');
    loop.setExceptionHandler(() => {
      throw broken;
    });
    try {
      await withConsoleError(async (calls) => {
        loop.callSoon(zeroError);
        await until(() => calls.length >= 1);
        assert.match(String(calls[0]![0]), /Unhandled error in exception handler/);
        assert.ok(calls[0]!.includes(broken));
      });
    } finally {
      loop.setExceptionHandler(null);
    }
    await assertNoLeaks();
  });

  void test('test_default_exc_handler_broken: a throwing default handler is logged, never thrown', async () => {
    const contexts: ErrorContext[] = [];
    const own = Object.getOwnPropertyDescriptor(loop, 'defaultExceptionHandler');
    assert.equal(own, undefined);
    loop.defaultExceptionHandler = (context: ErrorContext) => {
      contexts.push(context);
      throw new RangeError('spam');
    };
    try {
      await withConsoleError(async (calls) => {
        assert.doesNotThrow(() => loop.callExceptionHandler({ message: 'm', exception: new Error('e') }));
        assert.equal(calls.length, 1);
        assert.equal(calls[0]![0], 'Exception in default exception handler');
        let after = false;
        loop.callSoon(zeroError);
        loop.callSoon(() => {
          after = true;
        });
        await until(() => after);
        assert.equal(calls.length, 2);

        loop.setExceptionHandler(() => {
          throw new RangeError('ham');
        });
        contexts.length = 0;
        calls.length = 0;
        assert.doesNotThrow(() => loop.callExceptionHandler({ message: 'm2', exception: new Error('e2') }));
        assert.ok(
          calls.some((c) =>
            /^Exception in default exception handler while handling an unexpected error in custom exception handler$/.test(
              String(c[0]),
            ),
          ),
          `logged: ${calls.map((c) => String(c[0])).join(' | ')}`,
        );
        assert.equal((contexts[0]!['context'] as ErrorContext).message, 'm2');
      });
    } finally {
      delete (loop as Partial<typeof loop>).defaultExceptionHandler;
      loop.setExceptionHandler(null);
    }
    await assertNoLeaks();
  });
});

void describe('test_events.py EventLoopTestsMixin', () => {
  void test('test_call_later: runs once with its argument', async () => {
    const results: string[] = [];
    loop.callLater(100, (arg: string) => results.push(arg), 'hello world');
    await until(() => results.length > 0);
    await turns(2);
    assert.deepEqual(results, ['hello world']);
    await assertNoLeaks();
  });

  void test('test_call_soon: runs once with its arguments', async () => {
    const results: [string, string][] = [];
    loop.callSoon((a: string, b: string) => results.push([a, b]), 'hello', 'world');
    await until(() => results.length > 0);
    await turns(2);
    assert.deepEqual(results, [['hello', 'world']]);
    await assertNoLeaks();
  });
});

void describe('test_events.py HandleTests', () => {
  void test('test_handle: cancelled() is false, then true after cancel()', async () => {
    const h = loop.callSoon(noop);
    assert.equal(h.cancelled(), false);
    h.cancel();
    assert.equal(h.cancelled(), true);
    await assertNoLeaks();
  });

  void test('test_callback_with_exception: the handler gets the message, the exception and the handle', async () => {
    const seen: ErrorContext[] = [];
    loop.setExceptionHandler((_l, context) => void seen.push(context));
    try {
      const boom = new RangeError('value');
      const h = loop.callSoon(() => {
        throw boom;
      });
      await until(() => seen.length === 1);
      assert.match(seen[0]!.message, /^Exception in callback /);
      assert.equal(seen[0]!.exception, boom);
      assert.equal(seen[0]!['handle'], h);
    } finally {
      loop.setExceptionHandler(null);
    }
    await assertNoLeaks();
  });

  void test('test_handle_repr: the callback with its arguments; "cancelled" once cancelled', async () => {
    const h = loop.callSoon(noop, 1, 2);
    assert.equal(String(h), '<Handle noop(1, 2)>');
    h.cancel();
    assert.equal(String(h), '<Handle cancelled noop(1, 2)>');
    const h2 = loop.callSoon(noop, 'x', null, undefined, 3n, [1, 2], { a: 1 }, noop, 'y'.repeat(50));
    assert.equal(
      String(h2),
      `<Handle noop("x", null, undefined, 3n, [object Array], [object Object], noop, "${'y'.repeat(16)}...)>`,
    );
    h2.cancel();
    const h3 = loop.callSoon(() => {});
    assert.equal(String(h3), '<Handle anonymous()>');
    h3.cancel();
    const hostile = {
      toString(): string {
        throw new Error('no');
      },
    };
    const h4 = loop.callSoon(noop, hostile);
    assert.equal(String(h4), '<Handle noop([object Object])>');
    h4.cancel();
    await assertNoLeaks();
  });
});

void describe('test_events.py TimerTests', () => {
  void test('test_when: when() is the time given', () => {
    const when = loop.time() + 60_000;
    const h = loop.callAt(when, noop);
    assert.equal(h.when(), when);
    h.cancel();
  });

  void test('test_timer: cancel; a null time is a TypeError', async () => {
    const h = loop.callAt(loop.time() + 60_000, noop, 1, 2, 3);
    assert.equal(h.cancelled(), false);
    h.cancel();
    assert.equal(h.cancelled(), true);
    assert.throws(() => loop.callAt(null as never, noop), TypeError);
    await assertNoLeaks();
  });

  void test('test_timer_repr: when= and the callback; "cancelled" once cancelled', async () => {
    const when = Math.ceil(loop.time()) + 60_000;
    const h = loop.callAt(when, noop);
    assert.equal(String(h), `<TimerHandle when=${when} noop()>`);
    h.cancel();
    assert.equal(String(h), `<TimerHandle cancelled when=${when} noop()>`);
    await assertNoLeaks();
  });
});
