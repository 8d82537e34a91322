// Tracing: `run(main, { trace: file })` writes the Chrome trace-event format
// (JSON object form, which Perfetto and chrome://tracing load). The trace of a
// small program is checked against the program: a named track per task, the
// task's life as its outermost span, every wait as a span nested inside it,
// instants for cancel requests and failures, and the rules the format sets
// (times in µs, complete events properly nested on each track).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Event,
  Lock,
  Queue,
  Semaphore,
  createTask,
  gather,
  run,
  sleep,
  timeout,
  TimeoutError,
} from '../src/index.ts';
import { ThreadPoolExecutor } from '../src/executor/index.ts';
import { connect } from '../src/pg/index.ts';
import { assertNoLeaks, requireServer } from './_helpers.ts';
import { sharedDsn, sharedServer } from './_postgres.ts';

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  cat?: string;
  s?: string;
  args?: Record<string, unknown>;
}

const dir = mkdtempSync(join(tmpdir(), 'tsaio-trace-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Runs `main` with tracing into a fresh file and returns the parsed events. */
async function traced(main: (signal: AbortSignal) => Promise<unknown>): Promise<TraceEvent[]> {
  const file = join(dir, `trace-${Math.random().toString(36).slice(2)}.json`);
  await run(main, { trace: file });
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    traceEvents: TraceEvent[];
    displayTimeUnit: string;
  };
  assert.ok(Array.isArray(doc.traceEvents), 'the JSON object form: { traceEvents: [...] }');
  assert.equal(doc.displayTimeUnit, 'ms');
  return doc.traceEvents;
}

/** tid → track name, from the thread_name metadata. */
function trackNames(events: TraceEvent[]): Map<number, string> {
  return new Map(
    events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, String(e.args!.name)]),
  );
}

/** The tid of the track named `name`; fails, listing the tracks, if there is none. */
function tidOf(events: TraceEvent[], name: string): number {
  const names = trackNames(events);
  const found = [...names].find(([, n]) => n === name);
  assert.ok(found !== undefined, `a track named ${name}: ${[...names.values()].join(', ')}`);
  return found[0];
}

function spansOf(events: TraceEvent[], tid: number): TraceEvent[] {
  return events.filter((e) => e.ph === 'X' && e.tid === tid);
}

/** What the format requires of every event and of the complete events of one track. */
function assertWellFormed(events: TraceEvent[], pid = process.pid): void {
  for (const e of events) {
    assert.ok(['X', 'i', 'M'].includes(e.ph), `known phase: ${JSON.stringify(e)}`);
    assert.equal(e.pid, pid);
    assert.ok(Number.isInteger(e.tid) && e.tid >= 0, `integer tid: ${JSON.stringify(e)}`);
    assert.ok(Number.isFinite(e.ts) && e.ts >= 0, `ts in µs: ${JSON.stringify(e)}`);
    assert.equal(typeof e.name, 'string');
    if (e.ph === 'X') assert.ok(Number.isFinite(e.dur) && e.dur! >= 0, `dur: ${JSON.stringify(e)}`);
    if (e.ph === 'i') assert.equal(e.s, 't', 'an instant scoped to its track');
  }
  const tids = new Set(events.filter((e) => e.ph === 'X').map((e) => e.tid));
  for (const tid of tids) {
    const spans = spansOf(events, tid).sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
    const open: TraceEvent[] = [];
    for (const s of spans) {
      while (open.length > 0 && open[open.length - 1]!.ts + open[open.length - 1]!.dur! <= s.ts) open.pop();
      const outer = open[open.length - 1];
      if (outer !== undefined) {
        assert.ok(
          s.ts + s.dur! <= outer.ts + outer.dur!,
          `track ${tid}: "${s.name}" overlaps "${outer.name}" without nesting`,
        );
      }
      open.push(s);
    }
  }
}

void describe('run(main, { trace })', () => {
  void test('a track per task, its life as the outer span, its waits nested inside', async () => {
    const events = await traced(async () => {
      const lock = new Lock();
      const sem = new Semaphore(1);
      const queue = new Queue<number>(1);
      const ready = new Event();
      const holder = createTask(async () => lock.run(() => sleep(20)), { name: 'holder' });
      const waiter = createTask(async () => lock.run(() => sleep(1)), { name: 'waiter' });
      const consumer = createTask(
        async () => {
          await ready.wait();
          for (let i = 0; i < 3; i++) await sem.run(() => queue.get());
        },
        { name: 'consumer' },
      );
      const producer = createTask(
        async () => {
          await sleep(1);
          ready.set();
          for (let i = 0; i < 3; i++) await queue.put(i);
        },
        { name: 'producer' },
      );
      await gather([holder, waiter, producer, consumer]);
    });
    assertWellFormed(events);
    for (const name of ['main', 'holder', 'waiter', 'producer', 'consumer']) {
      const tid = tidOf(events, name);
      const spans = spansOf(events, tid);
      const life = spans.find((s) => s.cat === 'task');
      assert.ok(life, `${name} has its life as a span`);
      assert.equal(life.name, name);
      assert.deepEqual(life.args, { outcome: 'done' });
      for (const s of spans) {
        if (s === life) continue;
        assert.ok(
          s.ts >= life.ts && s.ts + s.dur! <= life.ts + life.dur!,
          `${name}: "${s.name}" inside the task's span`,
        );
      }
    }
    const waitNames = (name: string) => spansOf(events, tidOf(events, name)).map((s) => s.name);
    assert.ok(waitNames('holder').includes('sleep 20 ms'));
    assert.ok(waitNames('waiter').includes('Lock.acquire'), 'the waiter waited for the lock');
    assert.ok(waitNames('producer').includes('Queue.put'), 'the producer waited for room');
    assert.ok(waitNames('consumer').includes('Event.wait'));
    const lockWait = spansOf(events, tidOf(events, 'waiter')).find((s) => s.name === 'Lock.acquire')!;
    assert.ok(lockWait.dur! >= 15_000, `the lock wait lasts while the holder sleeps (${lockWait.dur} µs)`);
    await assertNoLeaks();
  });

  void test('waits on one shared promise (the sleep(0)s of a turn) are each a span of their own task', async () => {
    const N = 50;
    const events = await traced(async () => {
      await gather(
        Array.from({ length: N }, (_, i) => async () => {
          await sleep(0);
          if (i % 2 === 0) await sleep(0); // a second turn: a second shared promise
          await sleep(1, undefined, { signal: AbortSignal.timeout(60_000) }); // a wait not shared
        }),
      );
    });
    assertWellFormed(events);
    const names = trackNames(events);
    let tasks = 0;
    for (const [tid, name] of names) {
      if (!/^Task-\d+$/.test(name)) continue;
      tasks++;
      const spans = spansOf(events, tid);
      const life = spans.find((s) => s.cat === 'task')!;
      const waits = spans.filter((s) => s !== life);
      assert.deepEqual(
        waits.map((s) => s.name).sort(),
        waits.length === 3 ? ['sleep 0 ms', 'sleep 0 ms', 'sleep 1 ms'] : ['sleep 0 ms', 'sleep 1 ms'],
        `${name}: its own waits`,
      );
      for (const s of waits) assert.ok(s.ts >= life.ts && s.ts + s.dur! <= life.ts + life.dur!, name);
    }
    assert.equal(tasks, N);
    const threeWaits = [...names].filter(
      ([tid, name]) => /^Task-\d+$/.test(name) && spansOf(events, tid).length === 4,
    );
    assert.equal(threeWaits.length, N / 2, 'every other task slept two turns');
    await assertNoLeaks();
  });

  void test('instants for a cancel request and a failure; outcomes on the task spans', async () => {
    const events = await traced(async () => {
      const victim = createTask((signal) => sleep(60_000, undefined, { signal }), { name: 'victim' });
      const failing = createTask(
        async () => {
          await sleep(1);
          throw new Error('boom');
        },
        { name: 'failing' },
      );
      await sleep(5);
      victim.cancel();
      await Promise.allSettled([victim, failing]);
      await assert.rejects(
        timeout(1, (signal) => sleep(1000, undefined, { signal })),
        TimeoutError,
      );
    });
    assertWellFormed(events);
    const instants = (tid: number) => events.filter((e) => e.ph === 'i' && e.tid === tid);
    assert.deepEqual(
      instants(tidOf(events, 'victim')).map((e) => e.name),
      ['cancel requested'],
    );
    assert.deepEqual(
      instants(tidOf(events, 'failing')).map((e) => [e.name, e.args]),
      [['error', { error: 'Error: boom' }]],
    );
    const outcome = (name: string) =>
      spansOf(events, tidOf(events, name)).find((s) => s.cat === 'task')!.args!.outcome;
    assert.equal(outcome('victim'), 'cancelled');
    assert.equal(outcome('failing'), 'failed');
  });

  void test('two waits of one task that overlap without nesting go on a second track of that task', async () => {
    const events = await traced(async () => {
      const a = sleep(20);
      await sleep(5);
      const b = sleep(30); // starts inside a, ends after it
      await Promise.all([a, b]);
    });
    assertWellFormed(events);
    const names = trackNames(events);
    assert.ok([...names.values()].includes('main (2)'), `tracks: ${[...names.values()].join(', ')}`);
  });

  void test('tracing stops with the run; a bad trace path fails before anything runs', async () => {
    let ran = false;
    await assert.rejects(
      run(async () => (ran = true), { trace: '' }),
      (e) => e instanceof TypeError && /trace must be the path of a file/.test(e.message),
    );
    assert.equal(ran, false);
    await assert.rejects(
      run(async () => (ran = true), { trace: join(dir, 'no-such-dir', 'trace.json') }),
      (e) => (e as NodeJS.ErrnoException).code === 'ENOENT',
    );
    assert.equal(ran, false, 'a trace file that cannot be opened fails the run before main runs');
    const { debugState } = await import('../src/_debug.ts');
    await traced(() => sleep(1));
    assert.equal(debugState.tracing, false);
    assert.equal(debugState.watching, debugState.enabled);
  });
});

void describe('the trace file is complete however the run ends', () => {
  void test('a run whose main fails still closes its trace', async () => {
    const file = join(dir, 'failed-run.json');
    await assert.rejects(
      run(
        async () => {
          createTask((signal) => sleep(60_000, undefined, { signal }), { name: 'left' });
          await gather(Array.from({ length: 100 }, () => () => sleep(0)));
          throw new Error('main failed');
        },
        { trace: file },
      ),
      /main failed/,
    );
    const events = (JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
    assertWellFormed(events);
    const names = [...trackNames(events).values()];
    assert.ok(names.includes('main') && names.includes('left'), names.slice(0, 5).join(', '));
    assert.equal(names.length, 102, 'main, the task left and the hundred gathered');
  });

  void test('a process that exits in the middle of a run leaves a complete trace', () => {
    const file = join(dir, 'exited.json');
    const index = new URL('../src/index.ts', import.meta.url).href;
    const code = `
      import { createTask, gather, run, sleep } from ${JSON.stringify(index)};
      await run(async () => {
        createTask(() => sleep(60_000), { name: 'sleeper' });
        await gather(Array.from({ length: 20_000 }, () => () => sleep(0)));
        process.exit(3);
      }, { trace: ${JSON.stringify(file)} });`;
    assert.throws(
      () =>
        execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
          stdio: 'pipe',
          timeout: 60_000,
        }),
      (e) => (e as { status?: number }).status === 3,
    );
    const events = (JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
    assertWellFormed(events, events[0]!.pid);
    const names = [...trackNames(events).values()];
    assert.ok(names.includes('main') && names.includes('sleeper'), 'the tasks still pending are written');
    assert.equal(names.length, 20_002, 'main, the sleeper and every task that ended');
  });
});

void describe('tsaio bench --trace', () => {
  void test("writes a trace of the seed's experiment: a track per request task, the semaphore's waits on them", () => {
    const file = join(dir, 'bench-trace.json');
    const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
    const out = execFileSync(
      process.execPath,
      [cli, 'bench', '-n', '4', '-d', '0.05', '-l', '2', '--trace', file],
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.match(out, /Trace written to .*bench-trace\.json/);
    const events = (JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: TraceEvent[] }).traceEvents;
    assertWellFormed(events, events[0]!.pid);
    const names = [...trackNames(events).values()];
    for (const n of [1, 2, 3, 4]) {
      assert.ok(names.includes(`async #${n}`), `track async #${n}: ${names.join(', ')}`);
      assert.ok(names.includes(`limited #${n}`), `track limited #${n}`);
    }
    assert.ok(names.includes('main'));
    const tidOf = new Map([...trackNames(events)].map(([tid, name]) => [name, tid]));
    const waited = [3, 4].filter((n) =>
      spansOf(events, tidOf.get(`limited #${n}`)!).some((s) => s.name === 'Semaphore.acquire'),
    );
    assert.deepEqual(waited, [3, 4], 'with a limit of 2, requests 3 and 4 wait for a permit');
    for (const name of ['main', 'async #1', 'limited #4']) {
      const requests = spansOf(events, tidOf.get(name)!).filter((s) => s.cat === 'http');
      assert.ok(requests.length > 0, `${name} has its HTTP request spans`);
      assert.match(requests[0]!.name, /^GET http:\/\/127\.0\.0\.1:\d+\/delay\/0\.05$/);
    }
  });
});

const pgReason = await sharedServer();
requireServer(pgReason);

void describe('spans of the I/O parts', () => {
  void test('an executor job is a span of the task that submitted it, from submit to done', async () => {
    const events = await traced(async () => {
      await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
      const job = createTask(
        async () => {
          await pool.submit((ms: number) => {
            const end = Date.now() + ms;
            while (Date.now() < end);
            return 1;
          }, 30);
        },
        { name: 'submitter' },
      );
      await job;
    });
    assertWellFormed(events);
    const tid = tidOf(events, 'submitter');
    const jobs = spansOf(events, tid).filter((s) => s.cat === 'executor');
    assert.equal(jobs.length, 1, JSON.stringify(spansOf(events, tid)));
    assert.match(jobs[0]!.name, /^ThreadPoolExecutor job .*\(\)$/);
    assert.ok(jobs[0]!.dur! >= 25_000, `the span lasts the job (≥ 25 ms): ${jobs[0]!.dur} µs`);
    await assertNoLeaks();
  });

  void test(
    'a pg query is a span of its task, named by its SQL',
    { skip: pgReason === null ? false : pgReason },
    async () => {
      const events = await traced(async () => {
        await using conn = await connect(sharedDsn());
        const q = createTask(() => conn.fetchval('SELECT pg_sleep(0.03), 1'), { name: 'querier' });
        await q;
      });
      assertWellFormed(events);
      const tid = tidOf(events, 'querier');
      const queries = spansOf(events, tid).filter((s) => s.cat === 'pg');
      assert.equal(queries.length, 1, JSON.stringify(spansOf(events, tid)));
      assert.equal(queries[0]!.name, 'pg SELECT pg_sleep(0.03), 1');
      assert.ok(queries[0]!.dur! >= 25_000, `the span lasts the query: ${queries[0]!.dur} µs`);
    },
  );
});
