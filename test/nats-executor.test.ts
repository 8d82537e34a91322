// RemoteExecutor with real `tsaio worker` processes (the built CLI) on the
// machine's NATS server, each test on an executor of its own name.
import assert from 'node:assert/strict';
import { Future, TimeoutError, sleep, waitFor } from '../src/index.ts';
import {
  RemoteError,
  RemoteExecutor,
  connect,
  currentJob,
  serve,
  type Connection,
} from '../src/nats/index.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';
import { freePort } from './_nginx.ts';
import { NATS_URL, natsTest, spawnFixture, uniqueName, type Fixture } from './_nats.ts';

const CLI = 'dist/cli/main.js';

function startWorker(executor: string, ...flags: string[]): Fixture {
  return spawnFixture(CLI, ['worker', 'test/fixtures/nats-jobs.ts', '--executor', executor, ...flags]);
}

/** Runs `body` with a connection, an executor of a fresh name and one worker process; cleans everything up. */
async function withWorker(
  flags: string[],
  body: (pool: RemoteExecutor, worker: Fixture, conn: Connection) => Promise<void>,
): Promise<void> {
  const executor = uniqueName('exec');
  const conn = await connect(NATS_URL);
  const worker = startWorker(executor, ...flags);
  try {
    await worker.line(/ ready: /);
    const pool = await RemoteExecutor.open(conn, { name: executor });
    await body(pool, worker, conn);
    await pool.shutdown();
    worker.child.kill('SIGINT');
    assert.equal(await worker.exit(), 130, worker.stderr());
    assert.match(worker.lines.at(-1)!, /^tsaio worker stopped: \d+ done/);
  } finally {
    worker.child.kill('SIGKILL');
    await worker.exit();
    for (const s of ['', '_DLQ', '_CTL', '_HB'])
      await conn.jsm.streams.delete(`TSAIO_Q_exec-${executor}${s}`).catch(() => {});
    await conn.close();
  }
  await assertNoLeaks();
}

natsTest(
  'submit runs the function in a `tsaio worker` process and resolves a core Future with its result',
  async () => {
    await withWorker([], async (pool, worker) => {
      assert.match(
        worker.lines[0]!,
        /ready: add, fail, slow from test\/fixtures\/nats-jobs\.ts \(executor 't-exec-.*', concurrency 1/,
      );
      const f = pool.submit<number>('add', 2, 3);
      assert.ok(f instanceof Future);
      assert.equal(await f, 5);
      assert.deepEqual(await Promise.all([1, 2, 3].map((i) => pool.submit('add', i, i))), [2, 4, 6]);
    });
  },
);

natsTest('a job function that throws: its name, message and stack reach the caller', async () => {
  await withWorker([], async (pool) => {
    const e = await rejection(pool.submit('fail', 'n must be positive'));
    assert.ok(e instanceof RemoteError, String(e));
    assert.equal(e.job, 'fail');
    assert.match(e.message, /^job 'fail' failed on .+: RangeError: n must be positive$/);
    const remote = e.cause as Error;
    assert.equal(remote.name, 'RangeError');
    assert.equal(remote.message, 'n must be positive');
    assert.match(remote.stack!, /RangeError: n must be positive\n\s+at fail \(.*nats-jobs\.ts/);
    const unknown = await rejection(pool.submit('nope'));
    assert.ok(unknown instanceof RemoteError);
    assert.equal((unknown.cause as Error).name, 'LookupError');
    assert.match(unknown.message, /serves no function 'nope' \(it serves: add, fail, slow\)/);
  });
});

natsTest(
  'cancelling the future tells the worker, which aborts the job; the worker goes on serving',
  async () => {
    await withWorker([], async (pool, worker) => {
      const f = pool.submit('slow', 60_000);
      const id = (await worker.line(/^started /)).slice('started '.length);
      assert.equal(f.cancel(), true);
      await worker.line(new RegExp(`^cancelled ${id}$`));
      assert.equal(await pool.submit('add', 1, 1), 2, 'the slot was freed');
      // waitFor's timeout cancels the future the same way.
      const g = pool.submit('slow', 60_000);
      assert.ok((await rejection(waitFor(g, 300))) instanceof TimeoutError);
      assert.equal(g.cancelled(), true);
      const cancelled = () => worker.lines.filter((l) => l.startsWith('cancelled')).length;
      for (let i = 0; i < 200 && cancelled() < 2; i++) await sleep(50);
      assert.equal(cancelled(), 2);
    });
  },
);

natsTest(
  'a job that runs longer than ackWait keeps its claim (the heartbeat); stopping the worker aborts its job and hands it back',
  async () => {
    const executor = uniqueName('beat');
    const conn = await connect(NATS_URL);
    const runs: number[] = [];
    const functions = {
      async long(ms: number): Promise<number> {
        const { attempt, signal } = currentJob();
        runs.push(attempt);
        await sleep(ms, undefined, { signal });
        return attempt;
      },
    };
    try {
      const pool = await RemoteExecutor.open(conn, { name: executor, ackWait: 1500 });
      const stop = new AbortController();
      const worker = serve(conn, functions, { executor, concurrency: 2, signal: stop.signal });
      // The heartbeat comes every second; without it the server would deliver the job again after 1.5 s.
      assert.equal(await pool.submit('long', 4000), 1);
      assert.deepEqual(runs, [1], 'delivered once: its claim was kept');
      const handedBack = pool.submit('long', 60_000);
      for (let i = 0; i < 200 && runs.length < 2; i++) await sleep(25);
      stop.abort();
      const stats = await worker;
      assert.deepEqual(stats, { done: 1, failed: 0, cancelled: 0, handedBack: 1, malformed: 0 });
      assert.equal(handedBack.done(), false, 'the job waits in the queue for another worker');
      handedBack.cancel();
      await pool.shutdown();
    } finally {
      for (const s of ['', '_DLQ', '_CTL', '_HB'])
        await conn.jsm.streams.delete(`TSAIO_Q_exec-${executor}${s}`).catch(() => {});
      await conn.close();
    }
    await assertNoLeaks();
  },
);

natsTest(
  'tsaio worker logs one line per job on stderr (done, failed, cancelled); --quiet: none',
  async () => {
    await withWorker([], async (pool, worker) => {
      assert.equal(await pool.submit('add', 2, 3), 5);
      await rejection(pool.submit('fail', 'no'));
      const f = pool.submit('slow', 60_000);
      await worker.line(/^started /);
      f.cancel();
      for (let i = 0; i < 200 && !/cancelled/.test(worker.stderr()); i++) await sleep(25);
      const lines = worker
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('job '));
      assert.equal(lines.length, 3, worker.stderr());
      assert.match(lines[0]!, /^job \S+ add: done in [\d.]+ ms$/);
      assert.match(lines[1]!, /^job \S+ fail: failed in [\d.]+ ms: RangeError: no$/);
      assert.match(lines[2]!, /^job \S+ slow: cancelled after [\d.]+ ms$/);
    });
    await withWorker(['--quiet'], async (pool, worker) => {
      assert.equal(await pool.submit('add', 1, 1), 2);
      assert.doesNotMatch(worker.stderr(), /^job /m);
    });
  },
);

natsTest('a worker runs at most --concurrency jobs at once', async () => {
  await withWorker(['--concurrency', '2'], async (pool) => {
    const peaks = await Promise.all(Array.from({ length: 6 }, () => pool.submit<number>('slow', 300)));
    assert.equal(Math.max(...peaks), 2, `peaks seen by the jobs: ${peaks}`);
  });
});

natsTest(
  'tsaio worker: a module without functions is a usage error; no server is a clear failure',
  async () => {
    const none = spawnFixture(CLI, ['worker', 'test/fixtures/nats-nothing.ts']);
    assert.equal(await none.exit(), 2);
    assert.match(none.stderr(), /exports no function/);
    const port = await freePort();
    const away = spawnFixture(CLI, [
      'worker',
      'test/fixtures/nats-jobs.ts',
      '--servers',
      `127.0.0.1:${port}`,
    ]);
    assert.equal(await away.exit(), 1);
    assert.match(
      away.stderr(),
      new RegExp(`NoServerError: no NATS server answered at 127\\.0\\.0\\.1:${port}`),
    );
  },
);
