// Every difference the asyncio oracle (oracle/asyncio/) found between tsaio
// and CPython 3.13, shrunk and written out by hand: each test runs the
// program on runVirtual and expects the trace CPython printed for the same
// program (hard-coded; no Python needed). Traces are in the oracle's
// canonical order: by virtual ms, then by who printed the line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CancelledError,
  Condition,
  Event,
  FIRST_COMPLETED,
  createTask,
  sleep,
  taskGroup,
  timeout,
  wait,
  waitFor,
} from '../src/index.ts';
import { assertNoLeaks } from './_helpers.ts';
import { ErrA, fe, fv, traceOf } from './_oracle.ts';

void test('a timeout that expires cancels its body with a CancelledError of no message, as CPython (seed 2)', async () => {
  // async with asyncio.timeout(5): await E0.wait()
  const trace = await traceOf(async (log, signal) => {
    const e0 = new Event();
    log('main', 'start');
    try {
      await timeout(
        5,
        async (s) => {
          try {
            log('main', `evWait E0 ${fv(await e0.wait({ signal: s }))}`);
          } catch (e) {
            log('main', `evWait E0 !${fe(e, s.aborted)}`);
            throw e;
          }
        },
        { signal },
      );
    } catch (e) {
      log('main', `timeout !${fe(e)}`);
    }
    log('main', 'end');
  });
  assert.deepEqual(trace, [
    '0 main start',
    '5 main evWait E0 !CancelledError()',
    '5 main timeout !TimeoutError',
    '5 main end',
    'END ok',
  ]);
});

void test("a task group's child that fails cancels the group's body with a CancelledError of no message, as CPython", async () => {
  // async with asyncio.TaskGroup() as tg: tg.create_task(c1()); await E0.wait()
  const trace = await traceOf(async (log, signal) => {
    const e0 = new Event();
    try {
      await taskGroup(
        async (tg, s) => {
          tg.createTask(
            async (cs) => {
              await sleep(3, undefined, { signal: cs });
              throw new ErrA('m1');
            },
            { name: 'c1' },
          );
          try {
            log('main', `evWait E0 ${fv(await e0.wait({ signal: s }))}`);
          } catch (e) {
            log('main', `evWait E0 !${fe(e, s.aborted)}`);
            throw e;
          }
        },
        { signal },
      );
    } catch (e) {
      log('main', `group !${fe(e)}`);
    }
  });
  assert.deepEqual(trace, [
    '3 main evWait E0 !CancelledError()',
    '3 main group !ExceptionGroup[ErrA(m1)]',
    'END ok',
  ]);
});

void test('wait() with a timeout of 0 lets the tasks ready now run their step before it times out, as CPython (seed 46)', async () => {
  // t = asyncio.create_task(i1()); await asyncio.wait([t], timeout=0, return_when=FIRST_COMPLETED)
  const trace = await traceOf(async (log, signal) => {
    const i1 = createTask(
      async () => {
        log('i1', 'end');
        return 'r:i1';
      },
      { name: 'i1' },
    );
    const { done, pending } = await wait([i1], { timeout: 0, returnWhen: FIRST_COMPLETED, signal });
    log('main', `wait done=${done.size} pending=${pending.size}`);
  });
  assert.deepEqual(trace, ['0 i1 end', '0 main wait done=1 pending=0', 'END ok']);
  await assertNoLeaks();
});

void test('run() ending lets a task woken by sleep(0) take its turn before it cancels the tasks left, as CPython (seeds 84, 2113)', async () => {
  // t1: sleep(1); sleep(0); log; sleep(5). main: create t1; sleep(1); return (at 1, while t1 is in sleep(0))
  const trace = await traceOf(async (log, signal) => {
    createTask(
      async (s) => {
        try {
          await sleep(1, undefined, { signal: s });
          await sleep(0, undefined, { signal: s });
          log('t1', 'slept 0');
          await sleep(5, undefined, { signal: s });
          log('t1', 'end');
        } catch (e) {
          if (e instanceof CancelledError) log('t1', `cancelled ${fe(e, s.aborted)}`);
          throw e;
        }
      },
      { name: 't1' },
    );
    await sleep(1, undefined, { signal });
    log('main', 'end');
  });
  assert.deepEqual(trace, ['1 main end', '1 t1 slept 0', '1 t1 cancelled CancelledError()', 'END ok']);
});

void test('waitFor cancelled while its timeout is still cancelling the work rejects with CancelledError, as CPython (seed 20265787)', async () => {
  // i3: async with C: await C.wait()   holder: sleep(5); async with C: sleep(25)
  // i2: await asyncio.wait_for(create_task(i3()), 10)   main: sleep(20); i2.cancel()
  // At 10 the timeout cancels i3, which must take C back from holder (until 30) before it
  // ends; i2 is cancelled at 20, meanwhile. CPython: the cancellation that came while the
  // timeout was expiring wins (timeouts.Timeout.__aexit__ sees a second cancel request).
  const trace = await traceOf(async (log, signal) => {
    const c = new Condition();
    const i3 = async (s: AbortSignal): Promise<void> => {
      await c.acquire({ signal: s });
      try {
        await c.wait({ signal: s });
      } finally {
        c.release();
      }
    };
    const i2 = createTask(
      async (s) => {
        try {
          await waitFor(createTask(i3, { name: 'i3' }), 10, { signal: s });
          log('i2', 'waitFor ok');
        } catch (e) {
          log('i2', `waitFor !${fe(e)}`);
          throw e;
        }
      },
      { name: 'i2' },
    );
    const holder = createTask(
      async (s) => {
        await sleep(5, undefined, { signal: s });
        await c.acquire({ signal: s });
        try {
          await sleep(25, undefined, { signal: s });
        } finally {
          c.release();
        }
        log('holder', 'released');
      },
      { name: 'holder' },
    );
    await sleep(20, undefined, { signal });
    log('main', `cancel i2 ${String(i2.cancel())}`);
    try {
      await i2;
    } catch (e) {
      log('main', `await i2 !${fe(e)}`);
    }
    await holder;
  });
  assert.deepEqual(trace, [
    '20 main cancel i2 true',
    '30 holder released',
    '30 i2 waitFor !CancelledError(~)',
    '30 main await i2 !CancelledError(~)',
    'END ok',
  ]);
  await assertNoLeaks();
});
