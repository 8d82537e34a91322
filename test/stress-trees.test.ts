// The core under stress (issue 14): cancellation spread through very deep and
// very wide trees completes, leaves nothing behind, and survives a hook that
// throws on the way.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { CancelledError, allTasks, createTask, sleep, type Task } from '../src/index.ts';
import { _hookCount, linkSignal } from '../src/_cancel.ts';
import { assertNoLeaks, reported } from './_helpers.ts';

const N = 100_000;
/** The variants of the chain: deep enough to overflow a recursive propagation (5,000 did). */
const M = 20_000;
const LONG = 600_000;

/** A body that waits on its signal for a long time. */
const parked = (signal: AbortSignal): Promise<void> => sleep(LONG, undefined, { signal });

/** `n` tasks, each made with the previous one's signal as its parent (the first with `root`). */
function chain(n: number, root?: AbortSignal): Task<void>[] {
  const tasks: Task<void>[] = [];
  let parent = root;
  for (let i = 0; i < n; i++) {
    const task = createTask(parked, parent === undefined ? undefined : { signal: parent });
    tasks.push(task);
    parent = task.signal;
  }
  return tasks;
}

/** Asserts every task is cancelled and nothing is left: no task, hook, listener or timer. */
async function assertAllCancelled(tasks: Task<void>[], extra: AbortSignal[] = []): Promise<void> {
  await Promise.allSettled(tasks);
  const notCancelled = tasks.filter((t) => !t.cancelled()).length;
  assert.equal(notCancelled, 0, `${notCancelled} of ${tasks.length} tasks not cancelled`);
  assert.equal(allTasks().size, 0, 'pending tasks');
  for (const signal of [...tasks.map((t) => t.signal), ...extra]) {
    assert.equal(_hookCount(signal) <= 0, true, 'a hook left on a signal');
    assert.equal(getEventListeners(signal, 'abort').length, 0, 'a listener left on a signal');
  }
  await assertNoLeaks();
}

void describe('cancellation trees', () => {
  void test(`a chain of ${N.toLocaleString('en')} tasks, each made with its parent's signal, cancels completely`, async () => {
    const tasks = chain(N);
    await sleep(1); // every body has started and waits on its signal
    assert.equal(tasks[0]!.cancel('root'), true);
    await assertAllCancelled(tasks);
    // The deepest task carries the message of the cancellation at the root.
    assert.throws(
      () => tasks[N - 1]!.result(),
      (e) => e instanceof CancelledError && e.message === 'root',
    );
  });

  void test(`a chain of ${M.toLocaleString('en')} tasks under a foreign AbortSignal cancels completely; its listener is removed`, async () => {
    const ac = new AbortController();
    const tasks = chain(M, ac.signal);
    await sleep(1);
    assert.equal(getEventListeners(ac.signal, 'abort').length, 1, 'one listener for the whole tree');
    ac.abort(new Error('shutdown'));
    await assertAllCancelled(tasks, [ac.signal]);
  });

  void test(`a chain of ${M.toLocaleString('en')} tasks cancelled before any body started: no body runs`, async () => {
    let ran = 0;
    const tasks: Task<void>[] = [];
    let parent: AbortSignal | undefined;
    for (let i = 0; i < M; i++) {
      const task = createTask(async () => void ran++, parent === undefined ? undefined : { signal: parent });
      tasks.push(task);
      parent = task.signal;
    }
    tasks[0]!.cancel();
    await assertAllCancelled(tasks);
    assert.equal(ran, 0);
  });

  void test(`a fan-out of ${N.toLocaleString('en')} children of one task cancels completely`, async () => {
    const root = createTask(parked);
    const children = Array.from({ length: N }, () => createTask(parked, { signal: root.signal }));
    await sleep(1);
    assert.equal(_hookCount(root.signal), N + 1, 'a hook per child, and the root body’s own wait');
    root.cancel();
    await assertAllCancelled([root, ...children]);
  });

  void test('a hook that throws half-way down a deep chain is reported once; the rest of the chain still cancels', async () => {
    const boom = new Error('hook failed');
    let tasks: Task<void>[] = [];
    const contexts = await reported(async () => {
      tasks = chain(M);
      linkSignal(tasks[M / 2]!.signal, () => {
        throw boom;
      });
      await sleep(1);
      tasks[0]!.cancel();
      await Promise.allSettled(tasks);
    });
    assert.equal(contexts.length, 1);
    assert.equal(contexts[0]!.exception, boom);
    await assertAllCancelled(tasks);
  });
});
