// Hostile jobs against `tsaio/executor`: jobs that throw or return values
// that cannot be sent back (a Proxy whose every trap throws, an object whose
// toString throws, an Error with throwing getters, a Symbol, a function,
// null, undefined), garbage and `null` messages posted to the worker
// programs themselves, jobs that crash their worker in every way a job can,
// and jobs that ignore their cancellation. Every executor is tried: the
// thread and process pools, toThread, runSync and createSyncFn.
//
// What must hold: the caller always gets an error that describes what the
// job did; a value that cannot be sent back never kills the worker (the
// next job runs on the same one); a crash fails only its own job; a job that
// ignores its signal is ended after the grace period; nothing is lost and
// nothing is left running. The tally is printed at the end (the figures of
// docs/reliability.md) and its failure counts must be 0.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { CancelledError, TimeoutError, gather, sleep } from '../src/index.ts';
import {
  BrokenExecutorError,
  ProcessPoolExecutor,
  ThreadPoolExecutor,
  closeRunSync,
  createSyncFn,
  defaultExecutor,
  runSync,
  shutdownDefaultExecutor,
  toThread,
  type Executor,
} from '../src/executor/index.ts';
import { _liveWorkers } from '../src/executor/_live.ts';
import { programUrl, startProcess, startThread, type Channel } from '../src/executor/_spawn.ts';
import type { FromWorker } from '../src/executor/_wire.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';

/** The figures: faults injected, and what went wrong (each must end at 0). */
const tally = { faults: 0, workersCrashed: 0, jobsLost: 0, wrongErrors: 0 };

/**
 * One job for every hostile case, sent as source (self-contained): `kind`
 * names what it does. `'id'` answers which worker it runs on.
 */
async function hostile(kind: string): Promise<unknown> {
  const trap = () => {
    throw new Error('trapped');
  };
  const traps = { get: trap, getPrototypeOf: trap, ownKeys: trap, getOwnPropertyDescriptor: trap, has: trap };
  const proxy = () => new Proxy({}, traps);
  switch (kind) {
    case 'id': {
      await new Promise((r) => setTimeout(r, 30)); // so that concurrent calls spread over the workers
      const wt = await import('node:worker_threads');
      return wt.isMainThread ? `process ${process.pid}` : `thread ${wt.threadId}`;
    }
    case 'throw a Proxy':
      throw proxy();
    case 'throw a Proxy of an Error':
      throw new Proxy(new Error('inner'), traps);
    case 'throw an object whose toString throws':
      throw { toString: trap };
    case 'throw an Error with a throwing getter': {
      const e = new RangeError('boom');
      Object.defineProperty(e, 'detail', { enumerable: true, get: trap });
      throw e;
    }
    case 'throw an Error whose name, message and stack throw': {
      const e = new Error('hidden');
      for (const key of ['stack', 'name', 'message'])
        // stack first: V8 reads the name to format it
        Object.defineProperty(e, key, { get: trap });
      throw e;
    }
    case 'throw an Error whose getter throws a Proxy': {
      const e = new TypeError('outer');
      Object.defineProperty(e, 'code', {
        enumerable: true,
        get() {
          throw proxy();
        },
      });
      throw e;
    }
    case 'throw an Error caused by a Proxy':
      throw new Error('caused', { cause: proxy() });
    case 'throw a Symbol':
      throw Symbol('hostile');
    case 'throw a function':
      throw function secret() {};
    case 'throw null':
      throw null;
    case 'throw undefined':
      throw undefined;
    case 'reject later with a Proxy':
      await new Promise((r) => setTimeout(r, 5));
      throw proxy();
    case 'return a function':
      return () => 1;
    case 'return an object holding a Proxy': // (a Proxy returned as it is traps on `then`: the job throws)
      return { inside: proxy() };
    case 'return an object whose getter throws a Proxy':
      return {
        get x() {
          throw proxy();
        },
      };
    case 'return a Symbol':
      return Symbol('result');
    default:
      return kind;
  }
}

/** Each hostile case, and what the caller must get. */
const CASES: [kind: string, check: (e: unknown) => boolean][] = [
  ['throw a Proxy', (e) => e instanceof TypeError && /threw .*Proxy.*cannot be sent back/s.test(e.message)],
  ['throw a Proxy of an Error', (e) => e instanceof TypeError && /Proxy/.test(e.message)],
  ['throw an object whose toString throws', (e) => e instanceof TypeError && /toString/.test(e.message)],
  [
    'throw an Error with a throwing getter',
    (e) => e instanceof RangeError && e.message === 'boom' && !('detail' in e),
  ],
  [
    'throw an Error whose name, message and stack throw',
    (e) => e instanceof Error && /could not be read/.test(e.message),
  ],
  [
    'throw an Error whose getter throws a Proxy',
    (e) => e instanceof TypeError && e.message === 'outer' && !('code' in e),
  ],
  ['throw an Error caused by a Proxy', (e) => e instanceof Error && e.message === 'caused'],
  ['throw a Symbol', (e) => e instanceof TypeError && /Symbol\(hostile\)/.test(e.message)],
  ['throw a function', (e) => e instanceof TypeError && /function secret|Function: secret/.test(e.message)],
  ['throw null', (e) => e instanceof Error && /threw null/.test(e.message)],
  ['throw undefined', (e) => e instanceof Error && /threw undefined/.test(e.message)],
  ['reject later with a Proxy', (e) => e instanceof TypeError && /Proxy/.test(e.message)],
  ['return a function', (e) => e instanceof TypeError && /result cannot be sent back/.test(e.message)],
  [
    'return an object holding a Proxy',
    (e) => e instanceof TypeError && /result cannot be sent back/.test(e.message),
  ],
  [
    'return an object whose getter throws a Proxy',
    (e) => e instanceof TypeError && /result cannot be sent back/.test(e.message),
  ],
  ['return a Symbol', (e) => e instanceof TypeError && /result cannot be sent back/.test(e.message)],
];

/** An executor as these tests drive it: run `hostile(kind)`, and how many calls at once reach every worker. */
interface Runner {
  run(kind: string): Promise<unknown>;
  width: number;
}

function poolRunner(pool: () => Executor): Runner {
  return {
    run: (kind) => Promise.resolve(pool().submit(hostile, kind)),
    get width() {
      return pool().maxWorkers;
    },
  };
}

/** The workers a runner runs on now (every one of them, `width` calls at once). */
async function workersOf(runner: Runner): Promise<Set<unknown>> {
  return new Set(await gather(Array.from({ length: runner.width }, () => runner.run('id'))));
}

/** Runs `kind` and checks what came back and that every worker lived through it. */
async function tryCase(runner: Runner, kind: string, check: (e: unknown) => boolean): Promise<void> {
  const before = await workersOf(runner);
  tally.faults++;
  let outcome: unknown;
  try {
    outcome = await runner.run(kind);
  } catch (e) {
    outcome = e;
  }
  if (outcome instanceof BrokenExecutorError) tally.workersCrashed++;
  else if (!check(outcome)) tally.wrongErrors++;
  assert.ok(check(outcome), `${kind}: the caller got ${String(outcome)}`);
  const now = await workersOf(runner);
  const same = [...now].every((w) => before.has(w));
  if (!same) tally.workersCrashed++;
  assert.ok(same, `${kind}: the worker died (before ${[...before]}, now ${[...now]})`);
  assert.equal(await runner.run('after'), 'after', `${kind}: the next job runs`);
}

let threads: ThreadPoolExecutor;
let processes: ProcessPoolExecutor;
let baseline = 0;

async function workersBackTo(n: number): Promise<void> {
  for (let i = 0; i < 400 && _liveWorkers() > n; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(_liveWorkers(), n, 'workers left running');
}

before(async () => {
  threads = new ThreadPoolExecutor({ maxWorkers: 1, cancelGracePeriod: 200 });
  processes = new ProcessPoolExecutor({ maxWorkers: 1, cancelGracePeriod: 200 });
  await gather([threads.submit(hostile, 'start'), processes.submit(hostile, 'start')]);
  await workersOf(poolRunner(defaultExecutor));
  baseline = _liveWorkers();
});

afterEach(async () => {
  closeRunSync();
  for (const pool of [threads, processes, defaultExecutor()])
    assert.match(String(pool), /running=0 queued=0/);
  await workersBackTo(baseline);
  await assertNoLeaks();
});

after(async () => {
  await threads.shutdown();
  await processes.shutdown();
  await shutdownDefaultExecutor();
  closeRunSync();
  await workersBackTo(0);
  await assertNoLeaks();
  assert.ok(!process.getActiveResourcesInfo().includes('ProcessWrap'), 'a child process was left');
  console.log(`# hostile jobs: ${JSON.stringify({ ...tally, workersLeft: _liveWorkers() })}`);
  assert.deepEqual(
    { crashed: tally.workersCrashed, lost: tally.jobsLost, wrong: tally.wrongErrors },
    { crashed: 0, lost: 0, wrong: 0 },
  );
});

void describe('a job that throws or returns what cannot be sent back: the caller learns what it was, the worker lives', () => {
  const runners: [string, Runner][] = [
    ['ThreadPoolExecutor', poolRunner(() => threads)],
    ['ProcessPoolExecutor', poolRunner(() => processes)],
    [
      'toThread',
      { run: (kind) => Promise.resolve(toThread(hostile, kind)), width: defaultExecutor().maxWorkers },
    ],
    ['runSync', { run: async (kind) => runSync(hostile, kind), width: 1 }],
  ];
  for (const [name, runner] of runners) {
    void test(name, async () => {
      for (const [kind, check] of CASES) await tryCase(runner, kind, check);
    });
  }

  void test('createSyncFn', async () => {
    using fn = createSyncFn(hostile, { timeout: 5_000 });
    const runner: Runner = { run: async (kind) => fn(kind), width: 1 };
    for (const [kind, check] of CASES) await tryCase(runner, kind, check);
  });
});

/** A worker program started bare, to post it messages no pool would send. */
interface Bare {
  post(msg: unknown): void;
  /** The next answer with this id. */
  answer(id: number): Promise<unknown>;
  exited(): boolean;
  end(): Promise<void>;
}

function bareWorker(kind: 'thread' | 'process'): Bare {
  const answers: FromWorker[] = [];
  let exit: string | null = null;
  const events = {
    message: (msg: FromWorker) => void answers.push(msg),
    exit: (how: string) => void (exit = how),
  };
  const channel: Channel =
    kind === 'thread' ? startThread(programUrl('_worker'), events) : startProcess(events);
  channel.ref();
  return bareOf(
    (msg) => channel.send(msg as never),
    answers,
    () => exit,
    () => channel.terminate(),
  );
}

function bareSyncWorker(): Bare {
  const answers: { id: number }[] = [];
  let exit: string | null = null;
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const channel = startThread(
    programUrl('_syncworker'),
    { message: () => {}, exit: (how) => void (exit = how) },
    { workerData: { port: port2, flag }, transferList: [port2 as MessagePort] },
  );
  port1.on('message', (msg: { id: number }) => void answers.push(msg));
  return bareOf(
    (msg) => port1.postMessage(msg),
    answers,
    () => exit,
    async () => {
      port1.close();
      await channel.terminate();
    },
  );
}

function bareOf(
  post: (msg: unknown) => void,
  answers: { id: number }[],
  exit: () => string | null,
  end: () => Promise<void>,
): Bare {
  return {
    post,
    async answer(id) {
      for (let i = 0; i < 800; i++) {
        const found = answers.find((a) => a.id === id);
        if (found !== undefined) return found;
        if (exit() !== null) assert.fail(`the worker exited (${exit()}) before answering ${id}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      assert.fail(`no answer to ${id}`);
    },
    exited: () => exit() !== null,
    end,
  };
}

/** Messages no pool sends. */
const GARBAGE: unknown[] = [
  null,
  42,
  'run',
  [],
  {},
  { t: 'run' },
  { t: 'run', id: 'x' },
  { t: 'run', id: 901, job: null, args: null },
  { t: 'run', id: 902, job: { kind: 'source', source: 42 }, args: [] },
  { t: 'run', id: 903, job: { kind: 'module', url: 'not a url', name: 'f' }, args: [] },
  { t: 'run', id: 904, job: { kind: 'source', source: '(x) => x', name: 'f' }, args: 'not a list' },
  { t: 'cancel' },
  { t: 'cancel', id: {} },
  { t: 'cancel', id: 905, reason: { not: 'a string' } },
  { t: 'shutdown', id: 1 },
];

const INC = { kind: 'source', source: '(x) => x + 1', name: 'inc' };

void describe('garbage and null messages posted to a worker program: ignored or answered, never a crash', () => {
  for (const kind of ['thread', 'process'] as const) {
    void test(`the ${kind} pool's worker`, async () => {
      const w = bareWorker(kind);
      try {
        for (const msg of GARBAGE) {
          tally.faults++;
          w.post(msg);
        }
        w.post({ t: 'run', id: 1, job: INC, args: [1], chunk: false });
        assert.deepEqual(await w.answer(1), { t: 'done', id: 1, ok: true, value: 2 });
        const failed = (await w.answer(901)) as { ok: boolean };
        assert.equal(failed.ok, false, 'a run with no job is answered with an error');
        if (w.exited()) tally.workersCrashed++;
        assert.equal(w.exited(), false);
      } finally {
        await w.end();
      }
    });
  }

  void test('the sync worker', async () => {
    const w = bareSyncWorker();
    try {
      await w.answer(0); // started
      for (const msg of GARBAGE) {
        tally.faults++;
        w.post(msg);
      }
      w.post({ t: 'run', id: 1, job: INC, args: [1] });
      assert.deepEqual(await w.answer(1), { id: 1, ok: true, value: 2 });
      if (w.exited()) tally.workersCrashed++;
      assert.equal(w.exited(), false);
    } finally {
      await w.end();
    }
  });
});

/** Jobs that end their worker, each in its own way. */
const CRASHES: [string, () => unknown][] = [
  ['process.exit', () => process.exit(7)],
  [
    'a throw from a timer after it returned',
    () => {
      setTimeout(() => {
        throw new Error('stray');
      }, 1);
      return new Promise((r) => setTimeout(r, 200));
    },
  ],
  [
    'an unhandled rejection',
    () => {
      void Promise.reject(new Error('unhandled'));
      return new Promise((r) => setTimeout(r, 200));
    },
  ],
];

void describe('crashing jobs: each fails only itself, with BrokenExecutorError; the next job runs on a fresh worker', () => {
  for (const [name, pool] of [
    ['ThreadPoolExecutor', () => threads],
    ['ProcessPoolExecutor', () => processes],
  ] as const) {
    void test(name, async () => {
      for (const [what, crash] of CRASHES) {
        tally.faults++;
        const beside = pool().maxWorkers > 1 ? null : pool().submit(hostile, 'queued behind');
        const e = await rejection(pool().submit(crash));
        assert.ok(e instanceof BrokenExecutorError, `${what}: ${String(e)}`);
        if (beside !== null && (await beside) !== 'queued behind') tally.jobsLost++;
        const next = await pool().submit(hostile, 'next');
        if (next !== 'next') tally.jobsLost++;
        assert.equal(next, 'next');
      }
      await workersBackTo(baseline);
    });
  }

  void test('createSyncFn and runSync', async () => {
    using fn = createSyncFn((how: string) => (how === 'crash' ? process.exit(3) : how));
    for (let i = 0; i < 3; i++) {
      tally.faults += 2;
      assert.throws(() => fn('crash'), /died/);
      assert.equal(fn('next'), 'next');
      assert.throws(() => runSync(() => process.exit(4)), /died/);
      assert.equal(
        runSync((x: string) => x, 'next'),
        'next',
      );
    }
  });
});

void describe('jobs that ignore their cancellation: ended after the grace period, nothing left running', () => {
  const spin = (ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end);
    return 'spun';
  };

  for (const [name, Pool] of [
    ['ThreadPoolExecutor', ThreadPoolExecutor],
    ['ProcessPoolExecutor', ProcessPoolExecutor],
  ] as const) {
    void test(`${name}: 2 workers, 6 jobs spinning for 60 s, all cancelled`, async () => {
      await using pool = new Pool({ maxWorkers: 2, cancelGracePeriod: 100 });
      const jobs = Array.from({ length: 6 }, () => pool.submit(spin, 60_000));
      await sleep(300);
      const start = performance.now();
      for (const f of jobs) {
        tally.faults++;
        f.cancel();
      }
      for (const f of jobs) {
        const e = await rejection(f);
        if (!(e instanceof CancelledError)) tally.jobsLost++;
      }
      assert.ok(performance.now() - start < 10_000, 'the spinning workers were ended');
      assert.equal(await pool.submit(spin, 0), 'spun', 'the pool goes on');
    });
  }

  void test('createSyncFn: 3 timed-out calls of a spinning job, then calls in time', () => {
    using fn = createSyncFn(spin, { timeout: 100, cancelGracePeriod: 50 });
    assert.equal(fn(0), 'spun');
    for (let i = 0; i < 3; i++) {
      tally.faults++;
      assert.throws(() => fn(60_000), TimeoutError);
      const next = fn(0);
      if (next !== 'spun') tally.jobsLost++;
    }
  });

  void test('afterwards the process is idle: no worker spins', async () => {
    await workersBackTo(baseline);
    const cpu = process.cpuUsage();
    const wall = performance.now();
    await sleep(500);
    const used = process.cpuUsage(cpu);
    const share = (used.user + used.system) / 1000 / (performance.now() - wall);
    assert.ok(share < 0.4, `the process used ${(share * 100).toFixed(0)}% of a core while idle`);
  });
});
