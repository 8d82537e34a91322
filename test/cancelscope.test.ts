// The cancel scope under every wait and every I/O part's call (src/_cancelscope.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CancelledError, TimeoutError, createTask, sleep } from '../src/index.ts';
import { CancelScope, deadlineAfter } from '../src/_cancelscope.ts';
import { _hookCount } from '../src/_cancel.ts';
import { now } from '../src/_timers.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';

class Recording extends CancelScope {
  actions: unknown[] = [];
  override _onCancel(reason: unknown): void {
    this.actions.push(reason);
  }
}

void describe('CancelScope', () => {
  void it('the outer signal cancels it with a CancelledError whose cause is the reason; the action runs once', async () => {
    const ctl = new AbortController();
    const scope = new Recording().open(ctl.signal, null);
    assert.equal(_hookCount(ctl.signal), 1);
    ctl.abort('stop');
    assert.equal(scope.aborted, true);
    assert.ok(scope.reason instanceof CancelledError);
    assert.equal((scope.reason as Error).cause, 'stop');
    assert.equal(scope.actions.length, 1);
    assert.equal(scope.cancel(new Error('again')), false);
    assert.equal(scope.actions.length, 1);
    assert.throws(() => scope.check(), CancelledError);
    scope.end();
    assert.equal(_hookCount(ctl.signal), 0);
    await assertNoLeaks();
  });

  void it('the deadline cancels it with a TimeoutError; end() before it removes the timer', async () => {
    const scope = new Recording().open(undefined, now() + 20);
    assert.equal(scope.aborted, false);
    await sleep(40);
    assert.ok(scope.reason instanceof TimeoutError);
    assert.equal(scope.actions.length, 1);
    scope.end();
    const quiet = new Recording().open(undefined, now() + 10_000);
    quiet.end();
    assert.equal(quiet.aborted, false);
    await assertNoLeaks();
  });

  void it('an aborted signal or a past deadline acts before open() returns', async () => {
    const scope = new Recording().open(AbortSignal.abort('x'), now() + 10_000);
    assert.equal(scope.aborted, true);
    assert.ok(scope.reason instanceof CancelledError);
    const late = new Recording().open(undefined, now() - 1);
    assert.ok(late.reason instanceof TimeoutError);
    scope.end();
    late.end();
    await assertNoLeaks();
  });

  void it('its signal is made lazily and wakes the waits linked to it', async () => {
    const scope = new CancelScope().open(undefined, null);
    const waiting = sleep(10_000, undefined, { signal: scope.signal });
    scope.cancel(new CancelledError('closed'));
    const error = await rejection(waiting);
    assert.ok(error instanceof CancelledError);
    assert.equal(scope.signal.aborted, true);
    scope.end();
    await assertNoLeaks();
  });

  void it('reschedule moves the deadline; nothing cancels it after end()', async () => {
    const scope = new Recording().open(undefined, now() + 10);
    scope.reschedule(now() + 10_000);
    await sleep(30);
    assert.equal(scope.aborted, false);
    scope.reschedule(null);
    assert.equal(scope.when(), null);
    scope.end();
    scope.reschedule(now() - 1);
    assert.equal(scope.aborted, false);
    assert.equal(scope.cancel('x'), false);
    await assertNoLeaks();
  });

  void it('an entry left in an earlier timer bucket by reschedule does not fire the scope early', async () => {
    const when = now() + 20;
    const moved = new Recording().open(undefined, when);
    const neighbour = new Recording().open(undefined, when); // keeps the first bucket alive
    moved.reschedule(now() + 10_000);
    await sleep(40);
    assert.equal(neighbour.actions.length, 1);
    assert.equal(moved.aborted, false);
    moved.reschedule(now() + 5); // earlier than the entry just left behind
    await sleep(30);
    assert.equal(moved.actions.length, 1);
    moved.end();
    neighbour.end();
    await assertNoLeaks();
  });

  void it('a cancelled scope keeps its deadline and link until end(); the deadline then does nothing', async () => {
    const ctl = new AbortController();
    const scope = new Recording().open(ctl.signal, now() + 10);
    scope.cancel(new CancelledError('first'));
    assert.equal(_hookCount(ctl.signal), 1);
    await sleep(30);
    assert.equal(scope.actions.length, 1);
    assert.equal((scope.reason as Error).message, 'first');
    scope.end();
    assert.equal(_hookCount(ctl.signal), 0);
    await assertNoLeaks();
  });

  void it("a task's cancellation reaches the scope's action through the task's signal", async () => {
    const scope = new Recording();
    const task = createTask(async (signal) => {
      scope.open(signal, null);
      try {
        await sleep(10_000, undefined, { signal: scope.signal });
      } finally {
        scope.end();
      }
    });
    await sleep(5);
    task.cancel('bye');
    await rejection(task);
    assert.equal(scope.actions.length, 1);
    assert.equal(((scope.actions[0] as Error).cause as Error).message, 'bye');
    await assertNoLeaks();
  });

  void it('deadlineAfter checks the timeout and gives null for none', () => {
    assert.equal(deadlineAfter(null, 'f'), null);
    assert.equal(deadlineAfter(Infinity, 'f'), null);
    assert.ok(deadlineAfter(100, 'f')! >= now() + 99);
    assert.throws(() => deadlineAfter(NaN, 'f'), RangeError);
    assert.throws(() => deadlineAfter('1', 'f'), TypeError);
  });
});
