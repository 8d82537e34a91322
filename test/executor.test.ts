// Behaviour tests for `tsaio/executor`'s pools: `ThreadPoolExecutor` and
// `ProcessPoolExecutor` run the same cases (submit, module and function
// jobs, map, errors carried back, crash recovery, cancellation of queued and
// running jobs, the grace period, shutdown), then `toThread`,
// `loop.runInExecutor` and the default executor. Real worker threads and
// child processes; jobs in test/fixtures/jobs.ts.
//
// A worker takes a while to start here (TypeScript is compiled in each one),
// so most cases share one pool per kind; cases about a pool's own life make
// their own. After every case: no tsaio or Node timer left, no job queued or
// running on the shared pools, no child process handle, and every worker of
// a pool made by the case has exited.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CancelledError,
  Future,
  InvalidStateError,
  TimeoutError,
  gather,
  getRunningLoop,
  waitFor,
} from '../src/index.ts';
import {
  BrokenExecutorError,
  Executor,
  ExecutorFuture,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  defaultExecutor,
  shutdownDefaultExecutor,
  toThread,
} from '../src/executor/index.ts';
import { _liveWorkers } from '../src/executor/_live.ts';
import { _hookCount } from '../src/_cancel.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';

const JOBS = new URL('./fixtures/jobs.ts', import.meta.url);
const job = (name: string) => ({ module: JOBS, name });
const ROOT = fileURLToPath(new URL('..', import.meta.url));

let dir = '';
let marks = 0;
const marker = () => join(dir, `mark-${marks++}`);

const shared: Record<string, Executor> = {};
let baseline = 0;

/** Waits until the job given `m` has started in its worker (it wrote `<m>.started`). */
async function started(m: string): Promise<void> {
  for (let i = 0; i < 800 && !existsSync(`${m}.started`); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(existsSync(`${m}.started`), 'the job did not start');
}

/** Waits until the live workers are back to `n` (exits are reported asynchronously). */
async function workersBackTo(n: number): Promise<void> {
  for (let i = 0; i < 200 && _liveWorkers() > n; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(_liveWorkers(), n, 'workers left running');
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsaio-exec-'));
  shared['thread'] = new ThreadPoolExecutor({ maxWorkers: 2, cancelGracePeriod: 300 });
  shared['process'] = new ProcessPoolExecutor({ maxWorkers: 2, cancelGracePeriod: 300 });
  // Start both workers of each pool once, so cases time their jobs, not the starts.
  await gather(
    Object.values(shared).flatMap((p) => [p.submit(job('later'), 0, 50), p.submit(job('later'), 0, 50)]),
  );
  baseline = _liveWorkers();
});

after(async () => {
  for (const pool of Object.values(shared)) await pool.shutdown();
  await shutdownDefaultExecutor();
  await workersBackTo(0);
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const pool of Object.values(shared)) assert.match(String(pool), /running=0 queued=0/);
  await workersBackTo(baseline);
  await assertNoLeaks();
  assert.ok(!process.getActiveResourcesInfo().includes('ProcessWrap'), 'a child process handle was left');
});

for (const kind of ['thread', 'process'] as const) {
  const Pool = kind === 'thread' ? ThreadPoolExecutor : ProcessPoolExecutor;
  const pool = () => shared[kind]!;

  void describe(`${Pool.name}: jobs`, () => {
    void test('submit returns a core Future with the job result', async () => {
      const f = pool().submit((a: number, b: number) => a + b, 2, 3);
      assert.ok(f instanceof ExecutorFuture && f instanceof Future);
      assert.equal(await f, 5);
      assert.equal(f.result(), 5);
      assert.equal(f.running(), false);
    });

    void test('module jobs: { module, name }, a URL or an absolute path for the default export', async () => {
      assert.equal(await pool().submit(job('add'), 20, 22), 42);
      assert.equal(await pool().submit(JOBS, 21), 42);
      assert.equal(await pool().submit(fileURLToPath(JOBS), 4), 8);
      assert.equal(await pool().submit(job('later'), 'async', 5), 'async');
    });

    void test('errors come back with their class, message, code and other plain fields', async () => {
      const e = (await rejection(pool().submit(job('fail')))) as RangeError & {
        code: string;
        detail: number;
      };
      assert.ok(e instanceof RangeError);
      assert.equal(e.message, 'bad value 7');
      assert.equal(e.code, 'E_BAD');
      assert.equal(e.detail, 7);
      assert.match(e.stack ?? '', /fail/);
      const missing = await rejection(pool().submit(job('nothing')));
      assert.ok(missing instanceof TypeError);
      assert.match((missing as Error).message, /no exported function "nothing"/);
      assert.ok((await rejection(pool().submit(job('notAFunction')))) instanceof TypeError);
    });

    void test('a function job carries no closure: the ReferenceError says so', async () => {
      const outside = 41;
      const e = await rejection(pool().submit(() => outside + 1));
      assert.ok(e instanceof ReferenceError);
      assert.match((e as Error).message, /outside is not defined.*carries no closure/);
    });

    void test('map yields results in input order, with any chunksize', async () => {
      const got: number[] = [];
      for await (const y of pool().map((x: number) => x * 10, [1, 2, 3, 4, 5])) got.push(y);
      assert.deepEqual(got, [10, 20, 30, 40, 50]);
      const chunked: number[] = [];
      for await (const y of pool().map(job('default'), new Set([1, 2, 3, 4, 5, 6, 7]), { chunksize: 3 }))
        chunked.push(y as number);
      assert.deepEqual(chunked, [2, 4, 6, 8, 10, 12, 14]);
      const none: unknown[] = [];
      for await (const y of pool().map((x: number) => x, [])) none.push(y);
      assert.deepEqual(none, []);
    });

    void test('map raises the first failure in order and cancels the rest', async () => {
      const seen: number[] = [];
      const e = await rejection(
        (async () => {
          for await (const y of pool().map(
            (x: number) => {
              if (x === 3) throw new Error(`item ${x}`);
              return x;
            },
            [1, 2, 3, 4],
          ))
            seen.push(y);
        })(),
      );
      assert.match(String(e), /item 3/);
      assert.deepEqual(seen, [1, 2]);
    });

    void test('map: leaving early, the timeout and the signal cancel the jobs not done, and wait for them', async () => {
      const drain = async (it: AsyncIterable<unknown>, into: unknown[] = []) => {
        for await (const y of it) into.push(y);
      };
      const m1 = marker();
      for await (const y of pool().map(job('quickOrWait'), ['quick', m1])) {
        assert.equal(y, 'quick');
        break;
      }
      assert.match(String(pool()), /running=0 queued=0/, 'the second job had stopped when the loop ended');
      const m2 = marker();
      const got: unknown[] = [];
      const e = await rejection(drain(pool().map(job('quickOrWait'), ['quick', m2], { timeout: 300 }), got));
      assert.ok(e instanceof TimeoutError, String(e));
      assert.deepEqual(got, ['quick']);
      assert.match(String(pool()), /running=0 queued=0/);
      const m3 = marker();
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 200);
      assert.ok(
        (await rejection(drain(pool().map(job('quickOrWait'), [m3], { signal: ac.signal })))) instanceof
          CancelledError,
      );
      assert.ok(existsSync(m3));
      const never = marker();
      assert.ok(
        (await rejection(
          drain(pool().map(job('touch'), [never], { signal: AbortSignal.abort() })),
        )) instanceof CancelledError,
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(existsSync(never), false, 'an aborted signal submits nothing');
    });

    void test('a crashed worker fails its job with BrokenExecutorError naming it; a fresh worker takes the next', async () => {
      const e = await rejection(pool().submit(job('crash')));
      assert.ok(e instanceof BrokenExecutorError, String(e));
      assert.equal((e as BrokenExecutorError).job, `crash() from ${JOBS.href}`);
      assert.match((e as Error).message, /exit code 7/);
      const inline = await rejection(
        pool().submit(function dies() {
          process.exit(9);
        }),
      );
      assert.equal((inline as BrokenExecutorError).job, 'dies()');
      assert.deepEqual(
        await Promise.all([pool().submit(job('add'), 1, 1), pool().submit(job('add'), 2, 2)]),
        [2, 4],
      );
      // The replacement workers are counted in the baseline again once they are up.
    });

    void test('a result or arguments that cannot be cloned reject with a TypeError, and the pool goes on', async () => {
      const r = await rejection(pool().submit(job('unclonableResult')));
      assert.ok(r instanceof TypeError);
      assert.match((r as Error).message, /result cannot be sent back/);
      const a = await rejection(
        pool().submit(
          (f: unknown) => f,
          () => {},
        ),
      );
      assert.ok(a instanceof TypeError);
      assert.match((a as Error).message, /arguments cannot be sent/);
      assert.equal(await pool().submit(job('add'), 1, 2), 3);
    });
  });

  void describe(`${Pool.name}: cancellation`, () => {
    void test('a job cancelled while queued never runs', async () => {
      await using own = new Pool({ maxWorkers: 1 });
      const m = marker();
      const never = marker();
      const running = own.submit(job('untilCancelled'), m);
      const queued = own.submit(job('touch'), never);
      assert.equal(queued.cancel('not now'), true);
      assert.equal(queued.cancelled(), true);
      assert.equal(queued.cancel(), false, 'already done');
      const e = await rejection(queued);
      assert.ok(e instanceof CancelledError && (e as Error).message === 'not now');
      assert.equal(running.cancel(), true);
      await rejection(running);
      assert.equal(existsSync(never), false, 'the queued job never ran');
    });

    void test('a job cancelled after it was sent, but before the worker started it, never runs', async () => {
      await using own = new Pool({ maxWorkers: 1 });
      const never = marker();
      const f = own.submit(job('touch'), never); // sent at once to a worker that is still starting
      assert.equal(f.running(), true);
      f.cancel();
      const e = await rejection(f);
      assert.ok(e instanceof CancelledError, String(e));
      assert.equal(existsSync(never), false);
      assert.equal(await own.submit(job('add'), 1, 2), 3);
    });

    void test('cancelling a running job aborts its signal in the worker; the future settles when it stops', async () => {
      const m = marker();
      const f = pool().submit(job('untilCancelled'), m);
      await started(m);
      assert.equal(f.running(), true);
      assert.equal(f.cancel('stop it'), true);
      assert.equal(f.done(), false, 'a request, as Task.cancel');
      assert.equal(f.cancel(), true, 'a second request is no error');
      const e = await rejection(f);
      assert.ok(e instanceof CancelledError);
      assert.equal((e as Error).message, 'stop it');
      assert.equal(f.cancelled(), true);
      assert.equal(readFileSync(m, 'utf8'), 'saw the abort: CancelledError stop it');
    });

    void test('a job that finishes anyway after the abort gives its value', async () => {
      const m = marker();
      const f = pool().submit(job('finishAnyway'), m);
      await started(m);
      f.cancel();
      assert.equal(await f, 'finished anyway');
      assert.equal(f.cancelled(), false);
    });

    void test('a job that ignores the abort is ended after the grace period; the next job gets a fresh worker', async () => {
      await using own = new Pool({ maxWorkers: 1, cancelGracePeriod: 100 });
      const m = marker();
      const f = own.submit(job('spin'), 20_000, m);
      await started(m);
      const start = performance.now();
      f.cancel();
      await rejection(f);
      assert.equal(f.cancelled(), true);
      assert.ok(performance.now() - start >= 99, 'not before the grace period');
      assert.ok(performance.now() - start < 10_000, 'the worker was ended');
      assert.equal(await own.submit(job('add'), 1, 2), 3);
    });

    void test('submitWith: the signal cancels the job; an aborted signal sends nothing', async () => {
      const ac = new AbortController();
      const m = marker();
      const f = pool().submitWith(job('untilCancelled'), [m], { signal: ac.signal });
      await started(m);
      ac.abort();
      assert.ok((await rejection(f)) instanceof CancelledError);
      assert.ok(existsSync(m));
      const never = marker();
      const g = pool().submitWith(job('touch'), [never], { signal: AbortSignal.abort() });
      assert.equal(g.cancelled(), true);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(existsSync(never), false);
      assert.throws(() => pool().submitWith(job('add'), 'x' as never), TypeError);
      assert.throws(() => pool().submitWith(job('add'), [], { signal: 1 as never }), TypeError);
    });

    void test('waitFor cancels the job on timeout and waits for it to stop', async () => {
      const m = marker();
      const f = pool().submit(job('untilCancelled'), m);
      assert.ok((await rejection(waitFor(f, 200))) instanceof TimeoutError);
      assert.equal(f.cancelled(), true);
      assert.match(String(pool()), /running=0 queued=0/, 'the job had stopped before waitFor returned');
      if (existsSync(`${m}.started`)) assert.ok(existsSync(m), 'it saw its signal abort');
    });
  });

  void describe(`${Pool.name}: shutdown and bad input`, () => {
    void test('shutdown waits for the jobs; submitting afterwards is an InvalidStateError', async () => {
      const own = new Pool({ maxWorkers: 1 });
      const a = own.submit(job('later'), 'a', 100);
      const b = own.submit(job('later'), 'b', 10);
      await own.shutdown();
      assert.deepEqual([a.result(), b.result()], ['a', 'b'], 'queued jobs ran before the shutdown ended');
      assert.throws(() => own.submit(job('add'), 1, 2), InvalidStateError);
      await own.shutdown(); // a second call is harmless
    });

    void test('shutdown({ cancelFutures }) cancels the queued jobs; { wait: false } returns at once', async () => {
      const own = new Pool({ maxWorkers: 1 });
      const a = own.submit(job('later'), 'a', 200);
      const b = own.submit(job('later'), 'b', 10);
      await own.shutdown({ wait: false, cancelFutures: true });
      assert.equal(b.cancelled(), true);
      assert.equal(a.done(), false, 'the running job goes on');
      assert.equal(await a, 'a');
    });

    void test('await using shuts the pool down at the end of the block', async () => {
      let f: ExecutorFuture<unknown>;
      {
        await using own = new Pool({ maxWorkers: 1 });
        f = own.submit(job('later'), 'x', 50);
      }
      assert.equal(f.result(), 'x');
    });

    void test('bad options and jobs are RangeErrors and TypeErrors naming the value', () => {
      for (const maxWorkers of [0, -1, 1.5, NaN, '2']) {
        assert.throws(
          () => new Pool({ maxWorkers: maxWorkers as number }),
          (e: Error) =>
            e instanceof RangeError && /maxWorkers must be a positive integer, received/.test(e.message),
        );
      }
      assert.throws(() => new Pool({ cancelGracePeriod: -1 }), RangeError);
      const p = pool();
      for (const bad of [
        42,
        null,
        {},
        { module: 'relative/path.js' },
        'relative.js',
        Math.max,
        class A {},
        { f() {} }.f,
        { module: JOBS, name: '' },
      ]) {
        assert.throws(() => p.submit(bad as never), TypeError, String(bad));
      }
      assert.throws(() => p.map((x: number) => x, 5 as never), TypeError);
      assert.throws(() => p.map((x: number) => x, [1], { chunksize: 0 }), RangeError);
      assert.throws(() => p.map((x: number) => x, [1], { timeout: NaN }), RangeError);
    });
  });
}

void describe('ThreadPoolExecutor only', () => {
  void test('at most maxWorkers jobs run at once', async () => {
    await using own = new ThreadPoolExecutor({ maxWorkers: 2 });
    const counter = new Int32Array(new SharedArrayBuffer(8));
    await Promise.all(Array.from({ length: 6 }, () => own.submit(job('counted'), counter, 50)));
    assert.equal(counter[1], 2);
    assert.equal(own.maxWorkers, 2);
  });

  void test('1,000 queued jobs, every other one cancelled (by cancel() or by its signal): the rest run in submit order, the cancelled never', async () => {
    await using own = new ThreadPoolExecutor({ maxWorkers: 1 });
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const ran = new Int32Array(new SharedArrayBuffer(4 * 1001));
    const held = own.submit((g: Int32Array) => Atomics.wait(g, 0, 0, 20_000), gate);
    const stops = Array.from({ length: 1000 }, () => new AbortController());
    const jobs = stops.map((ac, i) =>
      own.submitWith(
        (log: Int32Array, n: number) => {
          log[1 + Atomics.add(log, 0, 1)] = n;
          return n;
        },
        [ran, i],
        { signal: ac.signal },
      ),
    );
    assert.match(String(own), /running=1 queued=1000/);
    for (let i = 1; i < 1000; i += 2) {
      if (i % 4 === 1) assert.equal(jobs[i]!.cancel('skip'), true);
      else stops[i]!.abort('skip');
      assert.equal(jobs[i]!.cancelled(), true, `job ${i} is cancelled at once`);
    }
    assert.match(String(own), /running=1 queued=500/, 'the cancelled jobs left the queue at once');
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await held; // 'ok', or 'not-equal' if the worker started after the gate opened
    const results = await Promise.allSettled(jobs);
    results.forEach((r, i) => {
      if (i % 2 === 0) assert.deepEqual(r, { status: 'fulfilled', value: i });
      else assert.ok(r.status === 'rejected' && r.reason instanceof CancelledError, `job ${i}`);
    });
    assert.equal(ran[0], 500, 'only the jobs not cancelled ran');
    assert.deepEqual(
      [...ran.subarray(1, 501)],
      Array.from({ length: 500 }, (_, k) => 2 * k),
      'in submit order',
    );
    assert.match(String(own), /running=0 queued=0/);
    for (const ac of stops) assert.equal(_hookCount(ac.signal), 0, 'no hook left on a signal');
  });

  void test('submitWith({ transfer }) moves an ArrayBuffer to the worker', async () => {
    const data = new Float64Array([1, 2, 3]);
    const sum = shared['thread']!.submitWith((a: Float64Array) => a.reduce((x, y) => x + y, 0), [data], {
      transfer: [data.buffer],
    });
    assert.equal(data.length, 0, 'detached here');
    assert.equal(await sum, 6);
  });
});

void describe('toThread, loop.runInExecutor and the default executor', () => {
  void test('toThread runs on the shared default thread pool', async () => {
    const f = toThread((s: string) => s.toUpperCase(), 'hi');
    assert.ok(f instanceof ExecutorFuture);
    assert.equal(await f, 'HI');
    assert.equal(await toThread(job('add'), 1, 2), 3);
    assert.ok(defaultExecutor() instanceof ThreadPoolExecutor);
    assert.equal(defaultExecutor(), defaultExecutor(), 'one shared pool');
    await shutdownDefaultExecutor();
    assert.equal(await toThread(() => 'again'), 'again', 'a new pool after shutdown');
    await shutdownDefaultExecutor();
  });

  void test('runInExecutor(null, ...) uses the default executor; runInExecutor(pool, ...) the pool', async () => {
    const loop = getRunningLoop();
    assert.equal(await loop.runInExecutor(null, (a: number, b: number) => a * b, 6, 7), 42);
    const f = loop.runInExecutor(shared['process']!, job('add'), 1, 2);
    assert.ok(f instanceof ExecutorFuture);
    assert.equal(await f, 3);
    await shutdownDefaultExecutor();
  });

  void test('runInExecutor takes any object with submit(); a promise it returns becomes a Future', async () => {
    const loop = getRunningLoop();
    const calls: unknown[][] = [];
    const mine = {
      submit: (fn: (...a: number[]) => number, ...args: number[]) => {
        calls.push(args);
        return Promise.resolve(fn(...args));
      },
    };
    const f = loop.runInExecutor(mine, (a: number) => a + 1, 1);
    assert.ok(f instanceof Future);
    assert.equal(await f, 2);
    assert.deepEqual(calls, [[1]]);
    assert.throws(
      () => loop.runInExecutor({} as never, () => 1),
      (e: Error) => e instanceof TypeError && /submit\(\)/.test(e.message),
    );
    assert.throws(() => loop.runInExecutor({ submit: () => 5 } as never, () => 1), TypeError);
  });

  void test('without tsaio/executor imported, runInExecutor(null) says what to import', () => {
    const code =
      "import { getRunningLoop } from './src/index.ts';" +
      "try { getRunningLoop().runInExecutor(null, () => 1); } catch (e) { console.log(e.name + ': ' + e.message); }";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.match(
      r.stdout,
      /^TypeError: runInExecutor: there is no default executor yet; import 'tsaio\/executor'/,
    );
  });

  void test('cancelling a runInExecutor future reaches the job', async () => {
    const m = marker();
    const f = getRunningLoop().runInExecutor(shared['thread']!, job('untilCancelled'), m);
    await started(m);
    f.cancel();
    assert.ok((await rejection(f)) instanceof CancelledError);
    assert.ok(existsSync(m));
  });
});
