// Behaviour tests for calling async code from sync code: `runSync`,
// `createSyncFn` and `syncCallProblem` of `tsaio/executor`. The caller's
// thread really blocks (Atomics.wait) while a worker thread runs the job on
// its own event loop. After every case: no tsaio or Node timer left and
// every sync worker that the case closed has exited.
import { afterEach, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Future, InvalidStateError, TimeoutError, createTask, sleep } from '../src/index.ts';
import {
  ThreadPoolExecutor,
  closeRunSync,
  createSyncFn,
  runSync,
  syncCallProblem,
} from '../src/executor/index.ts';
import { _liveWorkers } from '../src/executor/_live.ts';
import { assertNoLeaks } from './_helpers.ts';

const JOBS = new URL('./fixtures/jobs.ts', import.meta.url);
const job = (name: string) => ({ module: JOBS, name });
const dir = mkdtempSync(join(tmpdir(), 'tsaio-sync-'));

async function workersBackTo(n: number): Promise<void> {
  for (let i = 0; i < 200 && _liveWorkers() > n; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(_liveWorkers(), n, 'workers left running');
}

afterEach(async () => {
  closeRunSync();
  await workersBackTo(0);
  await assertNoLeaks();
});
after(() => rmSync(dir, { recursive: true, force: true }));

void describe('runSync', () => {
  void test('blocks the caller until the async job settles, and returns its value', () => {
    const start = performance.now();
    const value = runSync(async (x: number) => {
      await new Promise((r) => setTimeout(r, 100));
      return x * 2;
    }, 21);
    assert.equal(value, 42);
    assert.ok(performance.now() - start >= 99, 'it waited, synchronously');
    assert.equal(runSync(job('add'), 1, 2), 3, 'module jobs too, on the same shared worker');
  });

  void test('the job’s error is thrown, with its class and fields', () => {
    assert.throws(
      () => runSync(job('fail')),
      (e: RangeError & { code?: string }) =>
        e instanceof RangeError && e.message === 'bad value 7' && e.code === 'E_BAD',
    );
    const outside = 1;
    assert.throws(() => runSync(() => outside), /outside is not defined.*carries no closure/);
  });

  void test('nothing runs on the caller’s loop meanwhile: a timer due during the wait fires after it', async () => {
    let fired = false;
    setTimeout(() => (fired = true), 10);
    runSync(() => new Promise((r) => setTimeout(r, 150)));
    assert.equal(fired, false);
    await sleep(20);
    assert.equal(fired, true);
  });

  void test('a promise, Future or Task is refused: waiting for it would deadlock the loop it needs', async () => {
    const task = createTask(async () => 1);
    for (const thenable of [Promise.resolve(1), new Future<number>(), task]) {
      assert.throws(
        () => runSync(thenable as never),
        (e: Error) => e instanceof InvalidStateError && /runSync refused: .*deadlock/.test(e.message),
      );
      assert.throws(() => createSyncFn(thenable as never), InvalidStateError);
    }
    await task;
    assert.equal(_liveWorkers(), 0, 'no worker was started for a refused call');
  });

  void test('syncCallProblem is the check runSync makes', () => {
    assert.match(syncCallProblem(Promise.resolve()) ?? '', /deadlock/);
    assert.match(syncCallProblem({ then() {} }) ?? '', /deadlock/);
    assert.equal(
      syncCallProblem(() => 1),
      null,
    );
    assert.equal(syncCallProblem(job('add')), null);
  });

  void test('bad jobs and arguments that cannot be cloned are TypeErrors', () => {
    assert.throws(() => runSync(42 as never), TypeError);
    assert.throws(
      () =>
        runSync(
          (f: unknown) => f,
          () => {},
        ),
      /arguments cannot be sent/,
    );
    assert.throws(() => runSync(job('unclonableResult')), /result cannot be sent back/);
    assert.equal(
      runSync((x: number) => x, 5),
      5,
      'the worker goes on',
    );
  });

  void test('runSync works inside a thread-pool job (a worker of its own there)', async () => {
    await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
    const inner = new URL('../src/executor/index.ts', import.meta.url).href;
    const value = await pool.submit(async (url: string) => {
      const { runSync: rs, closeRunSync: close } = await import(url);
      const v = rs(async (x: number) => x + 1, 1);
      close();
      return v;
    }, inner);
    assert.equal(value, 2);
  });
});

void describe('createSyncFn', () => {
  void test('makes a sync function of an async job, with its own worker; close ends it', async () => {
    const fn = createSyncFn(async (a: number, b: number) => {
      await new Promise((r) => setTimeout(r, 10));
      return a + b;
    });
    assert.equal(fn(1, 2), 3);
    assert.equal(fn(3, 4), 7);
    assert.equal(_liveWorkers(), 1);
    fn.close();
    fn.close();
    assert.throws(
      () => fn(1, 2),
      (e: Error) => e instanceof InvalidStateError && /closed/.test(e.message),
    );
    await workersBackTo(0);
    {
      using g = createSyncFn(job('add'));
      assert.equal(g(2, 2), 4);
    }
    await workersBackTo(0);
  });

  void test('a timeout throws TimeoutError and aborts the job’s signal in the worker; the next call works', () => {
    const marker = join(dir, 'timeout-marker');
    using fn = createSyncFn(job('quickOrWait'), { timeout: 200 });
    assert.equal(fn('quick'), 'quick', 'the first call (the worker starts) is not cut by the timeout');
    const start = performance.now();
    assert.throws(
      () => fn(marker),
      (e: Error) => e instanceof TimeoutError && /within 200 ms/.test(e.message),
    );
    assert.ok(performance.now() - start >= 199);
    assert.equal(fn('quick'), 'quick', 'the late answer of the timed-out call is skipped');
    for (let i = 0; i < 100 && !existsSync(marker); i++)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    assert.match(readFileSync(marker, 'utf8'), /saw the abort: CancelledError the sync call timed out/);
  });

  void test('a job that ignores its signal is reclaimed: its worker is ended after the grace period, the next call gets a fresh one', async () => {
    // The job spins (its thread never even reads the cancel message) for 30 s unless told 0.
    const spin = (ms: number) => {
      const end = Date.now() + ms;
      while (Date.now() < end);
      return 'spun';
    };
    using fn = createSyncFn(spin, { timeout: 200, cancelGracePeriod: 100 });
    assert.equal(fn(0), 'spun', 'the worker started');
    const start = performance.now();
    assert.throws(
      () => fn(30_000),
      (e: Error) => e instanceof TimeoutError && /within 200 ms/.test(e.message),
    );
    const blocked = performance.now() - start;
    for (let i = 0; i < 5; i++) assert.equal(fn(0), 'spun', 'later calls run, on a fresh worker, in time');
    assert.ok(blocked >= 290, `the job had its grace period (blocked ${blocked} ms)`);
    assert.ok(blocked < 5_000, `the caller was not held by the job (blocked ${blocked} ms)`);
    await workersBackTo(1);
    // Nothing spins any more: the process uses a small part of a core while idle.
    const cpu = process.cpuUsage();
    const wall = performance.now();
    await sleep(500);
    const used = process.cpuUsage(cpu);
    const share = (used.user + used.system) / 1000 / (performance.now() - wall);
    assert.ok(share < 0.4, `the process used ${(share * 100).toFixed(0)}% of a core while idle`);
  });

  void test('a job that stops in its grace period gives its value; one that stops with the abort is the TimeoutError', () => {
    using fn = createSyncFn(
      (mode: string, signal: AbortSignal) =>
        new Promise((resolve, reject) => {
          if (mode === 'quick') return resolve('quick');
          signal.addEventListener('abort', () =>
            mode === 'value' ? resolve('stopped') : reject(signal.reason),
          );
        }),
      { timeout: 100, cancelGracePeriod: 5_000 },
    );
    assert.equal(fn('quick'), 'quick');
    const start = performance.now();
    assert.equal(fn('value'), 'stopped', 'a value after the abort is the call’s value');
    assert.throws(() => fn('abort'), TimeoutError);
    assert.ok(performance.now() - start < 2_000, 'neither waited for the grace period to end');
    assert.equal(_liveWorkers(), 1, 'the same worker throughout');
  });

  void test('a worker that dies is reported, not waited for forever; the next call gets a fresh worker', async () => {
    using fn = createSyncFn((how: string) => (how === 'crash' ? process.exit(7) : how));
    assert.throws(
      () => fn('crash'),
      (e: Error) => e instanceof InvalidStateError && /died/.test(e.message),
    );
    assert.equal(fn('fine'), 'fine');
    assert.throws(() => runSync(job('crash')), InvalidStateError);
    assert.equal(runSync(job('add'), 1, 2), 3, 'runSync starts a fresh shared worker too');
    await workersBackTo(2);
  });

  void test('bad options are RangeErrors (a timeout of the wrong type a TypeError)', () => {
    for (const timeout of [-1, NaN, -Infinity]) {
      assert.throws(() => createSyncFn(job('add'), { timeout: timeout as number }), RangeError);
    }
    assert.throws(() => createSyncFn(job('add'), { timeout: '5' as never }), TypeError);
    for (const grace of [-1, NaN, Infinity, '5']) {
      assert.throws(
        () => createSyncFn(job('add'), { cancelGracePeriod: grace as number }),
        /cancelGracePeriod must be a non-negative number of ms/,
      );
    }
    assert.equal(_liveWorkers(), 0);
  });
});
