// The cancellation tree: lazy signals, no listener pile-up, one hook per link.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import {
  CancelledError,
  allTasks,
  createTask,
  getRunningLoop,
  gather,
  sleep,
  taskGroup,
  timeout,
  wait,
  waitFor,
  FIRST_COMPLETED,
} from '../src/index.ts';
import { _hookCount, linkSignal } from '../src/_cancel.ts';
import type { ErrorContext } from '../src/_report.ts';
import { assertNoLeaks } from './_helpers.ts';

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

/** Runs `fn` with the loop's exception handler collecting what it is given. */
async function reported(fn: () => Promise<void> | void): Promise<ErrorContext[]> {
  const loop = getRunningLoop();
  const previous = loop.getExceptionHandler();
  const contexts: ErrorContext[] = [];
  loop.setExceptionHandler((_loop, context) => void contexts.push(context));
  try {
    await fn();
  } finally {
    loop.setExceptionHandler(previous);
  }
  return contexts;
}

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
