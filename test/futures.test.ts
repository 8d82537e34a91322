// Behaviour tests for Future (SPEC "Futures and tasks"; design.md "Tasks":
// done-callbacks run in a microtask after the future settles, in the order
// added). Ported where they apply from CPython 3.13
// Lib/test/test_asyncio/test_futures.py.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Future, CancelledError, InvalidStateError, getRunningLoop } from '../src/index.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';

/** One full turn of the Node event loop (all microtasks, then a check phase). */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Runs `fn` and returns what it threw, or fails. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

void describe('Future: state', () => {
  void test('initial state: not done, not cancelled', () => {
    const f = new Future<number>();
    assert.equal(f.done(), false);
    assert.equal(f.cancelled(), false);
  });

  void test('loop.createFuture() makes a Future', () => {
    const f = getRunningLoop().createFuture();
    assert.ok(f instanceof Future);
    assert.equal(f.done(), false);
  });

  void test('result() and exception() before done throw InvalidStateError', () => {
    const f = new Future<number>();
    const e1 = thrown(() => f.result());
    assert.ok(e1 instanceof InvalidStateError, `got ${String(e1)}`);
    assert.equal((e1 as Error).name, 'InvalidStateError');
    const e2 = thrown(() => f.exception());
    assert.ok(e2 instanceof InvalidStateError, `got ${String(e2)}`);
  });

  void test('setResult: done, result(), exception() is empty, cannot settle again (test_result)', () => {
    const f = new Future<number>();
    f.setResult(42);
    assert.equal(f.cancelled(), false);
    assert.equal(f.done(), true);
    assert.equal(f.result(), 42);
    assert.ok(f.exception() == null, `exception() = ${String(f.exception())}`);
    assert.ok(thrown(() => f.setResult(1)) instanceof InvalidStateError);
    assert.ok(thrown(() => f.setException(new Error('x'))) instanceof InvalidStateError);
    assert.equal(f.cancel(), false);
    assert.equal(f.cancelled(), false);
    assert.equal(f.result(), 42);
  });

  void test('setResult(undefined) is a result like any other', () => {
    const f = new Future<undefined>();
    f.setResult(undefined);
    assert.equal(f.done(), true);
    assert.equal(f.result(), undefined);
  });

  void test('setException: done, result() throws it, exception() returns it (test_exception)', () => {
    const exc = new RangeError('boom');
    const f = new Future<number>();
    f.setException(exc);
    assert.equal(f.cancelled(), false);
    assert.equal(f.done(), true);
    assert.equal(
      thrown(() => f.result()),
      exc,
    );
    assert.equal(f.exception(), exc);
    assert.ok(thrown(() => f.setResult(1)) instanceof InvalidStateError);
    assert.ok(thrown(() => f.setException(new Error('x'))) instanceof InvalidStateError);
    assert.equal(f.cancel(), false);
    assert.equal(f.exception(), exc);
  });

  void test('cancel(): cancelled and done; result()/exception() throw CancelledError; no settling after (test_cancel)', async () => {
    const f = new Future<number>();
    assert.equal(f.cancel(), true);
    assert.equal(f.cancelled(), true);
    assert.equal(f.done(), true);
    assert.ok(thrown(() => f.result()) instanceof CancelledError);
    assert.ok(thrown(() => f.exception()) instanceof CancelledError);
    assert.ok(thrown(() => f.setResult(1)) instanceof InvalidStateError);
    assert.ok(thrown(() => f.setException(new Error('x'))) instanceof InvalidStateError);
    assert.equal(f.cancel(), false);
    await assertNoLeaks();
  });

  void test('cancel(msg): the CancelledError carries msg (test_future_cancel_message_getter)', async () => {
    const f = new Future<number>();
    assert.equal(f.cancel('my message'), true);
    const e1 = thrown(() => f.result());
    assert.ok(e1 instanceof CancelledError);
    assert.equal((e1 as Error).message, 'my message');
    assert.equal((e1 as Error).name, 'CancelledError');
    const e2 = thrown(() => f.exception());
    assert.ok(e2 instanceof CancelledError);
    assert.equal((e2 as Error).message, 'my message');
    const e3 = await rejection(f);
    assert.ok(e3 instanceof CancelledError);
    assert.equal((e3 as Error).message, 'my message');
    await assertNoLeaks();
  });

  void test('a second cancel(msg) does not change the first message', async () => {
    const f = new Future<number>();
    f.cancel('first');
    assert.equal(f.cancel('second'), false);
    assert.equal((thrown(() => f.result()) as Error).message, 'first');
    await assertNoLeaks();
  });
});

void describe('Future: awaiting', () => {
  void test('await resolves with the result set later', async () => {
    const f = new Future<number>();
    setImmediate(() => f.setResult(5));
    assert.equal(await f, 5);
  });

  void test('await rejects with the exception set later (same object)', async () => {
    const f = new Future<number>();
    const exc = new Error('bad');
    setImmediate(() => f.setException(exc));
    assert.equal(await rejection(f), exc);
  });

  void test('await of a cancelled future rejects with CancelledError', async () => {
    const f = new Future<number>();
    setImmediate(() => f.cancel());
    const e = await rejection(f);
    assert.ok(e instanceof CancelledError, `got ${String(e)}`);
    await assertNoLeaks();
  });

  void test('awaiting twice gives the same result (test_yield_from_twice)', async () => {
    const f = new Future<number>();
    setImmediate(() => f.setResult(42));
    const x = await f;
    const y = await f;
    assert.equal(x, 42);
    assert.equal(y, 42);
  });

  void test('many concurrent awaiters all get the result', async () => {
    const f = new Future<string>();
    const waiters = Array.from({ length: 10 }, async () => await f);
    setImmediate(() => f.setResult('ok'));
    assert.deepEqual(await Promise.all(waiters), Array(10).fill('ok'));
  });

  void test('await of an already done future', async () => {
    const f = new Future<number>();
    f.setResult(7);
    assert.equal(await f, 7);
  });

  void test('then() works as a PromiseLike (Promise.resolve adopts it)', async () => {
    const f = new Future<number>();
    const p = Promise.resolve(f);
    f.setResult(3);
    assert.equal(await p, 3);
  });

  void test('a failed future that is never awaited does not cause an unhandled rejection', async () => {
    const seen: unknown[] = [];
    const onUnhandled = (e: unknown) => seen.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const f = new Future<number>();
      f.setException(new Error('nobody reads me'));
      await turn();
      await turn();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.deepEqual(seen, []);
  });
});

void describe('Future: done callbacks', () => {
  function appender(bag: unknown[], thing: unknown): (f: Future<unknown>) => void {
    return () => {
      bag.push(thing);
    };
  }

  void test('callbacks run on setResult, asynchronously, in order (test_callbacks_invoked_on_set_result)', async () => {
    const bag: number[] = [];
    const f = new Future<string>();
    f.addDoneCallback(appender(bag, 42));
    f.addDoneCallback(appender(bag, 17));
    assert.deepEqual(bag, []);
    f.setResult('foo');
    assert.deepEqual(bag, [], 'done callbacks must not run synchronously inside setResult');
    await turn();
    assert.deepEqual(bag, [42, 17]);
    assert.equal(f.result(), 'foo');
  });

  void test('callbacks run on setException (test_callbacks_invoked_on_set_exception)', async () => {
    const bag: number[] = [];
    const f = new Future<string>();
    f.addDoneCallback(appender(bag, 100));
    const exc = new Error('x');
    f.setException(exc);
    assert.deepEqual(bag, []);
    await turn();
    assert.deepEqual(bag, [100]);
    assert.equal(f.exception(), exc);
  });

  void test('callbacks run on cancel and see the future cancelled', async () => {
    const seen: boolean[] = [];
    const f = new Future<string>();
    f.addDoneCallback((fut) => seen.push(fut.cancelled()));
    f.cancel();
    assert.deepEqual(seen, []);
    await turn();
    assert.deepEqual(seen, [true]);
    await assertNoLeaks();
  });

  void test('the callback receives the future itself', async () => {
    const f = new Future<number>();
    let arg: unknown = null;
    f.addDoneCallback((x) => {
      arg = x;
    });
    f.setResult(1);
    await turn();
    assert.equal(arg, f);
  });

  void test('a callback added after done still runs, asynchronously', async () => {
    const bag: string[] = [];
    const f = new Future<number>();
    f.setResult(1);
    await turn();
    f.addDoneCallback(() => bag.push('late1'));
    f.addDoneCallback(() => bag.push('late2'));
    assert.deepEqual(bag, [], 'a late callback must not run synchronously inside addDoneCallback');
    await turn();
    assert.deepEqual(bag, ['late1', 'late2']);
  });

  void test('callbacks added before and right after done run in registration order', async () => {
    const bag: string[] = [];
    const f = new Future<number>();
    f.addDoneCallback(() => bag.push('a'));
    f.addDoneCallback(() => bag.push('b'));
    f.setResult(1);
    f.addDoneCallback(() => bag.push('c'));
    await turn();
    assert.deepEqual(bag, ['a', 'b', 'c']);
  });

  void test('the same callback added twice runs twice', async () => {
    const bag: number[] = [];
    const f = new Future<number>();
    const cb = appender(bag, 1);
    f.addDoneCallback(cb);
    f.addDoneCallback(cb);
    f.setResult(0);
    await turn();
    assert.deepEqual(bag, [1, 1]);
  });

  void test('remove the first callback (test_callbacks_remove_first_callback)', async () => {
    const bag: number[] = [];
    const f = new Future<string>();
    const cb1 = appender(bag, 42);
    const cb2 = appender(bag, 17);
    const cb3 = appender(bag, 100);
    f.addDoneCallback(cb1);
    f.addDoneCallback(cb2);
    f.addDoneCallback(cb3);
    assert.equal(f.removeDoneCallback(cb1), 1);
    assert.equal(f.removeDoneCallback(cb1), 0);
    f.setResult('foo');
    await turn();
    assert.deepEqual(bag, [17, 100]);
    assert.equal(f.result(), 'foo');
  });

  void test('remove the first and second callbacks (test_callbacks_remove_first_and_second_callback)', async () => {
    const bag: number[] = [];
    const f = new Future<string>();
    const cb1 = appender(bag, 42);
    const cb2 = appender(bag, 17);
    const cb3 = appender(bag, 100);
    f.addDoneCallback(cb1);
    f.addDoneCallback(cb2);
    f.addDoneCallback(cb3);
    f.removeDoneCallback(cb1);
    f.removeDoneCallback(cb2);
    f.removeDoneCallback(cb1);
    f.setResult('foo');
    await turn();
    assert.deepEqual(bag, [100]);
  });

  void test('remove the third callback (test_callbacks_remove_third_callback)', async () => {
    const bag: number[] = [];
    const f = new Future<string>();
    const cb1 = appender(bag, 42);
    const cb2 = appender(bag, 17);
    const cb3 = appender(bag, 100);
    f.addDoneCallback(cb1);
    f.addDoneCallback(cb2);
    f.addDoneCallback(cb3);
    f.removeDoneCallback(cb3);
    f.removeDoneCallback(cb3);
    f.setResult('foo');
    await turn();
    assert.deepEqual(bag, [42, 17]);
  });

  void test('removeDoneCallback returns the number removed (test_remove_done_callback)', async () => {
    const bag: number[] = [];
    const f = new Future<string>();
    const cb1 = appender(bag, 1);
    const cb2 = appender(bag, 2);
    const cb3 = appender(bag, 3);
    f.addDoneCallback(cb1);
    f.addDoneCallback(cb2);
    assert.equal(f.removeDoneCallback(cb2), 1);
    assert.equal(f.removeDoneCallback(cb3), 0);
    f.addDoneCallback(cb2);
    for (let i = 0; i < 5; i++) f.addDoneCallback(cb1);
    assert.equal(f.removeDoneCallback(cb1), 6);
    assert.deepEqual(bag, []);
    f.setResult('foo');
    await turn();
    assert.deepEqual(bag, [2]);
    assert.equal(f.result(), 'foo');
  });

  void test('removing a callback after the future is done but before callbacks ran does not throw', async () => {
    const f = new Future<number>();
    const bag: string[] = [];
    const other = () => bag.push('other');
    f.addDoneCallback(() => {
      f.removeDoneCallback(other);
      bag.push('mut');
    });
    f.addDoneCallback(other);
    f.setResult(1);
    await turn();
    assert.equal(bag[0], 'mut');
  });

  void test('a callback added from inside a callback still runs', async () => {
    const bag: string[] = [];
    const f = new Future<number>();
    f.addDoneCallback(() => {
      bag.push('outer');
      f.addDoneCallback(() => bag.push('inner'));
    });
    f.setResult(1);
    await turn();
    await turn();
    assert.deepEqual(bag, ['outer', 'inner']);
  });
});

void describe('Future: callback errors and chaining', () => {
  void test('a throwing callback goes to the loop exception handler and the next callbacks still run', async () => {
    const loop = getRunningLoop();
    const contexts: Array<{ message: string; exception?: unknown }> = [];
    const previous = loop.getExceptionHandler();
    loop.setExceptionHandler((_loop, context) => {
      contexts.push(context);
    });
    try {
      const bag: string[] = [];
      const boom = new Error('callback failed');
      const f = new Future<number>();
      f.addDoneCallback(() => {
        throw boom;
      });
      f.addDoneCallback(() => bag.push('second'));
      f.setResult(1);
      await turn();
      await turn();
      assert.deepEqual(bag, ['second']);
      assert.equal(contexts.length, 1);
      assert.equal(contexts[0]!.exception, boom);
    } finally {
      loop.setExceptionHandler(previous);
    }
  });

  void test('an internal observer that throws is reported; the observers and callbacks after it still run', async () => {
    const loop = getRunningLoop();
    const contexts: Array<{ message: string; exception?: unknown }> = [];
    const previous = loop.getExceptionHandler();
    loop.setExceptionHandler((_loop, context) => void contexts.push(context));
    try {
      const seen: string[] = [];
      const boom = new Error('observer failed');
      const f = new Future<number>();
      f._addCallback({
        _futureDone() {
          seen.push('first');
          throw boom;
        },
      });
      f._addCallback({ _futureDone: () => void seen.push('second') });
      f.addDoneCallback(() => seen.push('callback'));
      f._addCallback({
        _futureDone() {
          throw boom;
        },
      });
      f.setResult(1); // used to throw: the observer's error escaped setResult
      assert.deepEqual(seen, ['first', 'second']);
      await turn();
      assert.deepEqual(seen, ['first', 'second', 'callback']);
      assert.equal(contexts.length, 2);
      assert.ok(contexts.every((c) => c.exception === boom));
      // A single observer (no array) is guarded too.
      const g = new Future<number>();
      g._addCallback({
        _futureDone() {
          throw boom;
        },
      });
      g.cancel();
      assert.equal(g.cancelled(), true);
      assert.equal(contexts.length, 3);
    } finally {
      loop.setExceptionHandler(previous);
    }
  });

  void test('then() chains like a promise', async () => {
    const f = new Future<number>();
    const p = f.then((x) => x + 1);
    const q = f.then(undefined, () => 'never');
    f.setResult(1);
    assert.equal(await p, 2);
    assert.equal(await q, 1);
    const g = new Future<number>();
    const r = g.then(
      () => 'no',
      (e: Error) => e.message,
    );
    g.setException(new Error('handled'));
    assert.equal(await r, 'handled');
  });
});

void describe('Future: toString', () => {
  void test("pending: '<Future pending>' (test_future_repr)", () => {
    const f = new Future<number>();
    assert.equal(f.toString(), '<Future pending>');
    assert.equal(String(f), '<Future pending>');
  });

  void test('cancelled and finished futures say so', async () => {
    const c = new Future<number>();
    c.cancel();
    assert.match(String(c), /^<Future cancelled/);
    const r = new Future<number>();
    r.setResult(4);
    assert.match(String(r), /^<Future finished/);
    assert.match(String(r), /4/);
    const e = new Future<number>();
    e.setException(new RangeError('bad'));
    assert.match(String(e), /^<Future finished/);
    assert.match(String(e), /RangeError/);
    await assertNoLeaks();
  });
});
