// The cancellation tree: lazy signals, no listener pile-up, one hook per link.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { runInThisContext } from 'node:vm';
import {
  CancelledError,
  allTasks,
  createTask,
  gather,
  sleep,
  taskGroup,
  timeout,
  wait,
  waitFor,
  FIRST_COMPLETED,
  TimeoutError,
} from '../src/index.ts';
import { _hookCount, linkSignal } from '../src/_cancel.ts';
import { readsArgument } from '../src/_signature.ts';
import { assertNoLeaks, rejection, reported } from './_helpers.ts';

void describe('cancellation tree', () => {
  void test('a body without a parameter never makes an AbortSignal', async () => {
    const t = createTask(async () => sleep(1));
    await t;
    assert.equal(t._node, null, 'a task never cancelled and without a signal has no cancellation node');
  });

  void test('a body with a parameter gets a real AbortSignal, aborted on cancel with a CancelledError reason', async () => {
    let seen: AbortSignal | undefined;
    const t = createTask(async (signal) => {
      seen = signal;
      await sleep(10_000, undefined, { signal });
    });
    await sleep(1);
    assert.ok(seen instanceof AbortSignal);
    assert.equal(seen.aborted, false);
    t.cancel('stop');
    await assert.rejects(t, CancelledError);
    assert.equal(seen.aborted, true);
    assert.ok(seen.reason instanceof CancelledError);
    assert.equal((seen.reason as Error).message, 'stop');
    await assertNoLeaks();
  });

  void test('10,000 waits on one foreign signal leave no listener behind and raise no MaxListeners warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const ac = new AbortController();
      for (let i = 0; i < 10_000; i++) await sleep(0, undefined, { signal: ac.signal });
      await Promise.all(Array.from({ length: 1000 }, () => sleep(1, undefined, { signal: ac.signal })));
      await waitFor(() => sleep(1), 1000, { signal: ac.signal });
      await wait([sleep(1)], { signal: ac.signal, returnWhen: FIRST_COMPLETED });
      await gather([sleep(1)], { signal: ac.signal });
      await timeout(1000, () => sleep(1), { signal: ac.signal });
      await taskGroup(async (tg) => void tg.createTask(() => sleep(1)), { signal: ac.signal });
      assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(
        warnings.filter((w) => w.name === 'MaxListenersExceededWarning'),
        [],
      );
    } finally {
      process.off('warning', onWarning);
    }
    await assertNoLeaks();
  });

  void test('waits on a task signal use hooks, not listeners, and remove them when they settle', async () => {
    await createTask(async (signal) => {
      await Promise.all(Array.from({ length: 100 }, () => sleep(1, undefined, { signal })));
      assert.equal(_hookCount(signal), 0);
      assert.equal(getEventListeners(signal, 'abort').length, 0);
      const pending = sleep(50, undefined, { signal });
      assert.equal(_hookCount(signal), 1);
      await pending;
      assert.equal(_hookCount(signal), 0);
    });
    await assertNoLeaks();
  });

  void test('a child task linked to a parent signal unlinks when it ends', async () => {
    await createTask(async (signal) => {
      const children = Array.from({ length: 50 }, () => createTask(() => sleep(1), { signal }));
      assert.equal(_hookCount(signal), 50);
      await gather(children);
      assert.equal(_hookCount(signal), 0);
    });
  });

  void test('aborting a parent signal cancels a whole tree of tasks and scopes', async () => {
    const ac = new AbortController();
    const ended: string[] = [];
    const root = createTask(
      async (signal) => {
        try {
          await timeout(
            10_000,
            async (scope) => {
              await taskGroup(
                async (tg) => {
                  for (const name of ['a', 'b']) {
                    tg.createTask(async (s) => {
                      try {
                        await sleep(10_000, undefined, { signal: s });
                      } finally {
                        ended.push(name);
                      }
                    });
                  }
                },
                { signal: scope },
              );
            },
            { signal },
          );
        } finally {
          ended.push('root');
        }
      },
      { signal: ac.signal },
    );
    await sleep(5);
    ac.abort(new Error('shutdown'));
    await assert.rejects(root, CancelledError);
    assert.ok(root.cancelled());
    assert.deepEqual(ended.sort(), ['a', 'b', 'root']);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 0);
    await assertNoLeaks();
  });
});

void describe('cancellation propagation: iterative and exception-safe', () => {
  void test('a chain of 20,000 tasks, each linked to the previous one by its signal, cancels completely', async () => {
    const N = 20_000;
    const root = createTask((signal) => sleep(60_000, undefined, { signal }));
    const chain = [root];
    for (let i = 1; i < N; i++) {
      chain.push(
        createTask((signal) => sleep(60_000, undefined, { signal }), { signal: chain[i - 1]!.signal }),
      );
    }
    await sleep(1);
    assert.equal(root.cancel('stop'), true); // used to throw RangeError: Maximum call stack size exceeded
    await Promise.allSettled(chain);
    assert.ok(
      chain.every((t) => t.cancelled()),
      'every task of the chain is cancelled',
    );
    assert.equal(allTasks().size, 0);
    assert.ok(chain.every((t) => _hookCount(t.signal) === 0));
    await assertNoLeaks();
  });

  void test('a hook that throws is reported through the exception handler, and the other hooks still run', async () => {
    const boom = new Error('hook failed');
    const ran: string[] = [];
    let t: ReturnType<typeof createTask<void>> | undefined;
    const contexts = await reported(async () => {
      t = createTask((signal) => sleep(60_000, undefined, { signal }));
      const signal = t.signal;
      linkSignal(signal, () => ran.push('first'));
      linkSignal(signal, () => {
        throw boom;
      });
      linkSignal(signal, { handleEvent: () => void ran.push('third') });
      const child = createTask((s) => sleep(60_000, undefined, { signal: s }), { signal });
      await sleep(1);
      assert.equal(t.cancel(), true); // the throw does not escape cancel()
      await assert.rejects(t, CancelledError);
      await assert.rejects(child, CancelledError);
    });
    assert.deepEqual(ran, ['first', 'third']);
    assert.equal(contexts.length, 1, contexts.map((c) => c.message).join('\n'));
    assert.equal(contexts[0]!.exception, boom);
    assert.match(contexts[0]!.message, /cancel/i);
    await assertNoLeaks();
  });

  void test('hooks of one node run in the order they were added, nodes breadth-first', async () => {
    const order: string[] = [];
    const root = createTask((signal) => sleep(60_000, undefined, { signal }), { name: 'root' });
    const a = createTask((signal) => sleep(60_000, undefined, { signal }), { signal: root.signal });
    linkSignal(root.signal, () => order.push('root-1'));
    const b = createTask((signal) => sleep(60_000, undefined, { signal }), { signal: root.signal });
    linkSignal(root.signal, () => order.push('root-2'));
    linkSignal(a.signal, () => order.push('a-1'));
    linkSignal(b.signal, () => order.push('b-1'));
    const aa = createTask((signal) => sleep(60_000, undefined, { signal }), { signal: a.signal });
    linkSignal(aa.signal, () => order.push('aa-1'));
    await sleep(1);
    root.cancel();
    assert.deepEqual(order, ['root-1', 'root-2', 'a-1', 'b-1', 'aa-1']);
    await Promise.allSettled([root, a, b, aa]);
    assert.ok([root, a, b, aa].every((t) => t.cancelled()));
    await assertNoLeaks();
  });
});

/** Wraps `fn` as a generic forwarding wrapper would (a rest parameter: its length is 0). */
function forward<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args) => fn(...args);
}

void describe('every body that can read a signal gets one, whatever its parameter list', () => {
  /** Bodies of every shape that can read their first argument; each returns what it got. */
  const shapes: Array<[string, (...args: any[]) => Promise<unknown>]> = [
    ['(signal) =>', async (signal: AbortSignal) => signal],
    ['(...args) =>', async (...args: unknown[]) => args[0]],
    ['(signal = undefined) =>', async (signal: AbortSignal | undefined = undefined) => signal],
    [
      'function () { arguments[0] }',
      async function () {
        // eslint-disable-next-line prefer-rest-params
        return arguments[0] as unknown;
      },
    ],
    ['a forwarding wrapper', forward(async (signal: AbortSignal) => signal)],
    [
      'a bound function',
      async function (this: unknown) {
        // eslint-disable-next-line prefer-rest-params
        return arguments[0] as unknown;
      }.bind(null),
    ],
  ];

  for (const [shape, body] of shapes) {
    void test(`a task body ${shape} receives the task's signal`, async () => {
      const t = createTask(body);
      const got = await t;
      assert.ok(got instanceof AbortSignal, `${shape} got ${String(got)}`);
      assert.equal(got, t.signal);
    });
  }

  void test('a task with a rest-parameter body is cancelled by cancel() (it used to run to its end)', async () => {
    const t = createTask(async (...args: unknown[]) => {
      await sleep(300, undefined, { signal: args[0] as AbortSignal });
      return 'ran to the end';
    });
    await sleep(1);
    t.cancel();
    assert.ok((await rejection(t)) instanceof CancelledError);
    assert.equal(t.cancelled(), true);
    await assertNoLeaks();
  });

  void test('a body that declares no parameter at all is called without one and makes no signal', async () => {
    const seen: number[] = [];
    const arrow = createTask(async () => void seen.push(0));
    const fn = createTask(async function named() {
      seen.push(1);
    });
    await Promise.all([arrow, fn]);
    assert.deepEqual(seen, [0, 1]);
    assert.equal(arrow._node, null, 'an arrow without parameters: no cancellation node, no AbortSignal');
    assert.equal(fn._node, null, 'a function that never reads arguments: no cancellation node');
  });

  void test('a task body of any shape cancelled before it starts never runs', async () => {
    let ran = 0;
    const bodies = [
      async () => void ran++,
      async (...args: unknown[]) => void (ran += args.length),
      async (_signal: AbortSignal | undefined = undefined) => void ran++,
    ];
    const tasks = bodies.map((body) => createTask(body));
    for (const t of tasks) t.cancel();
    for (const t of tasks) await rejection(t);
    assert.equal(ran, 0);
    assert.ok(tasks.every((t) => t.cancelled()));
  });

  void test('a timeout body with a rest parameter gets the scope signal: TimeoutError in time (it used to return late)', async () => {
    const start = performance.now();
    const err = await rejection(
      timeout(20, async (...args: unknown[]) => {
        await sleep(2000, undefined, { signal: args[0] as AbortSignal });
        return 'late';
      }),
    );
    assert.ok(err instanceof TimeoutError, `got ${String(err)}`);
    assert.ok(performance.now() - start < 1500, 'the body was stopped at the deadline');
    const viaDefault = await timeout(1000, async (signal: AbortSignal | undefined = undefined) => signal);
    assert.ok(viaDefault instanceof AbortSignal);
    await assertNoLeaks();
  });

  void test('a taskGroup body with a rest or default second parameter gets the group signal', async () => {
    const rest = await taskGroup(async (_tg, ...args: unknown[]) => args[0]);
    assert.ok(rest instanceof AbortSignal, `got ${String(rest)}`);
    const byDefault = await taskGroup(async (_tg, signal: AbortSignal | undefined = undefined) => signal);
    assert.ok(byDefault instanceof AbortSignal);
    const wrapped = await taskGroup(forward(async (_tg: unknown, signal: AbortSignal) => signal));
    assert.ok(wrapped instanceof AbortSignal);
    await assertNoLeaks();
  });
});

void describe('readsArgument: what a body can read, from its length and its source', () => {
  const obj = {
    method() {
      return 1;
    },
    async asyncMethod(this: unknown) {
      return arguments.length;
    },
    *gen() {
      yield 1;
    },
  };
  const cases: Array<[string, (...args: any[]) => unknown, number, boolean]> = [
    ['() =>', () => 1, 0, false],
    ['async () =>', async () => 1, 0, false],
    ['async( ) =>', async () => 1, 0, false],
    ['(a) =>', (a: unknown) => a, 0, true],
    ['(a) => at 1', (a: unknown) => a, 1, false],
    ['a => at 1', ((a: unknown) => a) as (...args: any[]) => unknown, 1, false],
    ['(a, b) => at 2', (a: unknown, b: unknown) => [a, b], 2, false],
    ['(...args) =>', (...args: unknown[]) => args, 0, true],
    ['(a, ...rest) => at 1', (a: unknown, ...rest: unknown[]) => [a, rest], 1, true],
    ['(a = 1) =>', (a = 1) => a, 0, true],
    ['({ x } = {}) =>', ({ x }: { x?: number } = {}) => x, 0, true],
    ['function () {}', function () {}, 0, false],
    ['async function named() {}', async function named() {}, 0, false],
    ['function* () {}', function* () {}, 0, false],
    [
      'function () { arguments }',
      function () {
        return arguments.length;
      },
      0,
      true,
    ],
    ['a method', obj.method, 0, false],
    ['an async method reading arguments', obj.asyncMethod, 0, true],
    ['a generator method', obj.gen, 0, false],
    ['a bound function', function () {}.bind(null), 0, true],
    ['a native function', console.log, 0, true],
    // Built from source: the transpiler would escape the names (and a backslash is read as unusual).
    ['non-ASCII names', runInThisContext('(ä, ö) => [ä, ö]') as () => unknown, 2, false],
  ];

  for (const [shape, fn, index, expected] of cases) {
    void test(`${shape} (index ${index}): ${expected ? 'can' : 'cannot'} read it`, () => {
      assert.equal(readsArgument(fn, index), expected);
      assert.equal(readsArgument(fn, index), expected, 'the same answer the second time (cached or not)');
    });
  }

  void test('a comment or anything unusual in the head is taken to read the argument', () => {
    // Built from source: a formatter would move the comment.
    const fn = runInThisContext('async (/* nothing */) => 1') as () => unknown;
    assert.equal(readsArgument(fn, 0), true);
  });
});
