// Runs every program in examples/ as a user would (`node --import tsx <file>`,
// importing from 'tsaio' through the package's "exports", so `npm run build`
// must have run) and checks that it prints what the seed says. Times are in
// units of TSAIO_EXAMPLE_UNIT_MS, set small here; the examples print elapsed
// time in units, so the checks hold at any unit. Lower bounds are exact
// (timers never fire early). Upper bounds sit between the right answer and the
// one a wrong implementation would give (gather: 1 unit, not 5 as sequential
// awaits would take), leaving slack for a busy machine: cold code in a child
// process on a loaded 2-CPU box was seen running 100+ ms late, hence also a
// 100 ms unit rather than less.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sharedDsn, sharedServer, skipBanner } from './_postgres.ts';
import { natsSkip } from './_nats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const UNIT_MS = 100;

interface Output {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runExample(file: string): Promise<Output> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TSAIO_EXAMPLE_UNIT_MS: String(UNIT_MS),
    DATABASE_URL: sharedDsn(),
  };
  delete env.NODE_TEST_CONTEXT; // the child is a plain program, not a test file
  delete env.NODE_OPTIONS;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', `examples/${file}`],
      { cwd: ROOT, env, timeout: 30_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; signal?: NodeJS.Signals }) | null;
        resolve({
          code: e ? (typeof e.code === 'number' ? e.code : null) : 0,
          signal: e?.signal ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** Reads the elapsed units from a line like `Elapsed: 2.0s` and checks `min <= x < max`. */
function elapsed(line: string | undefined, prefix: string, min: number, max: number): number {
  assert.ok(line !== undefined, `missing "${prefix}" line`);
  const m = new RegExp(`^${prefix.replace(/[[\]]/g, '\\$&')}(\\d+\\.\\d)s$`).exec(line);
  assert.ok(m, `expected "${prefix}<n.n>s", got ${JSON.stringify(line)}`);
  const units = Number(m[1]);
  assert.ok(units >= min, `${JSON.stringify(line)}: expected >= ${min} units`);
  assert.ok(units < max, `${JSON.stringify(line)}: expected < ${max} units`);
  return units;
}

/** A timestamped line of the section 12 example: `[2.0s] message`. */
function stamped(line: string | undefined, message: string, min: number, max: number): void {
  assert.ok(line !== undefined, `missing line "${message}"`);
  const m = /^\[(\d+\.\d)s\] (.*)$/.exec(line);
  assert.ok(m, `expected "[n.ns] ${message}", got ${JSON.stringify(line)}`);
  assert.equal(m[2], message);
  elapsed(`Elapsed: ${m[1]}s`, 'Elapsed: ', min, max);
}

const checks: Record<string, (lines: string[]) => void> = {
  // §2: holding a body runs nothing; run() runs it.
  '02-coroutines.ts': (lines) => {
    assert.deepEqual(lines, ['typeof coro: function', 'Nothing has run yet', 'Hello']);
  },
  // §2: the three kinds of awaitables.
  '02-awaitables.ts': (lines) => {
    assert.deepEqual(lines, [
      'coroutine: operation result',
      'task: operation result',
      'future: future result',
    ]);
  },
  // §3: run() entry point.
  '03-run.ts': (lines) => {
    assert.deepEqual(lines, ['Start', 'Done']);
  },
  // §3: sequential awaits take 1 + 2 = 3 units.
  '03-sleep.ts': (lines) => {
    assert.deepEqual(lines.slice(0, 4), ['A start', 'A done', 'B start', 'B done']);
    elapsed(lines[4], 'Elapsed: ', 3, 4.5); // concurrent: 2
    assert.equal(lines.length, 5);
  },
  // §4: three tasks run concurrently: total = the longest, 2 units.
  '04-create-task.ts': (lines) => {
    assert.deepEqual(lines.slice(0, 7), [
      'A start',
      'B start',
      'C start',
      'A done',
      'C done',
      'B done',
      "Results: A's result, B's result, C's result",
    ]);
    elapsed(lines[7], 'Elapsed: ', 2, 3.5); // sequential: 4
    assert.equal(lines.length, 8);
  },
  // §4: 5 concurrent fetches take about 1 unit, results in input order.
  '04-gather.ts': (lines) => {
    assert.deepEqual(
      lines.slice(0, 5),
      [1, 2, 3, 4, 5].map((i) => `Data from url${i}`),
    );
    elapsed(lines[5], 'Elapsed: ', 1, 2.5); // sequential: 5
    assert.equal(lines.length, 6);
  },
  // §4: gather raises the first error by default; with returnExceptions errors are results.
  '04-gather-exceptions.ts': (lines) => {
    assert.deepEqual(lines, [
      'gather raised: two failed',
      'Success: one',
      'Error: two failed',
      'Success: three',
    ]);
  },
  // §4: wait FIRST_COMPLETED returns after 1 unit; the cancelled rest raise CancelledError.
  '04-wait-first-completed.ts': (lines) => {
    assert.deepEqual(lines.slice(0, 3), ['Done: 1', 'Cancelled: task-3', 'Cancelled: task-2']);
    elapsed(lines[3], 'Elapsed: ', 1, 2.5); // with the rest left running: 3
    assert.equal(lines.length, 4);
  },
  // §4: timeout() and waitFor() both give up after 1 unit (not the task's 10).
  '04-timeout.ts': (lines) => {
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.equal(lines[0], 'Timed out!');
    elapsed(lines[1], 'timeout elapsed: ', 1, 3); // not cancelled: 10
    assert.equal(lines[2], 'Timed out!');
    elapsed(lines[3], 'waitFor elapsed: ', 1, 3);
  },
  // §5: `await using` on the handle acquire() returns; disposed even when the block throws.
  '05-context-manager.ts': (lines) => {
    assert.deepEqual(lines, [
      'Connecting to database',
      'Executed: SELECT 1',
      'Closing connection',
      'Connecting to database',
      'Executed: SELECT broken',
      'Closing connection',
      'Caught: query failed',
    ]);
  },
  // §5: an async iterator class, 5 steps of 0.1 unit.
  '05-async-iterator.ts': (lines) => {
    assert.deepEqual(lines.slice(0, 5), ['0', '1', '2', '3', '4']);
    elapsed(lines[5], 'Elapsed: ', 0.5, 2);
    assert.equal(lines.length, 6);
  },
  // §5: an async generator, iterated and collected.
  '05-async-generator.ts': (lines) => {
    assert.deepEqual(lines, ['0', '1', '2', '3', '4', 'results: [0, 1, 2, 3, 4]']);
  },
  // §6: the lock serializes the read/sleep/write: 1..5 in FIFO order, 5 x 0.1 units.
  '06-lock.ts': (lines) => {
    assert.deepEqual(lines.slice(0, 6), ['W0: 1', 'W1: 2', 'W2: 3', 'W3: 4', 'W4: 5', 'Final value: 5']);
    elapsed(lines[6], 'Elapsed: ', 0.5, 2.5); // without the lock: 0.1, and every worker prints 1
    assert.equal(lines.length, 7);
  },
  // §6: both waiters wait, the setter fires after 2 units, one set() wakes both in order.
  '06-event.ts': (lines) => {
    assert.deepEqual(lines.slice(0, 5), [
      'W1 waiting...',
      'W2 waiting...',
      'Triggering event!',
      'W1 received signal, continuing',
      'W2 received signal, continuing',
    ]);
    elapsed(lines[5], 'Elapsed: ', 2, 5); // the one sleep is 2 units; a lost wake-up would hang
    assert.equal(lines.length, 6);
  },
  // §6: Semaphore(10) over 100 fetches of 0.1 unit: never more than 10 at once, 1 unit in all.
  '06-semaphore.ts': (lines) => {
    assert.deepEqual(lines.slice(0, 2), ['Results: 100', 'Peak concurrency: 10']);
    elapsed(lines[2], 'Elapsed: ', 1, 5); // unlimited: 0.1; one at a time: 10
    assert.equal(lines.length, 3);
  },
  // §7: 10 items produced in order, each consumed exactly once, both consumers stop, join returns.
  '07-queue.ts': (lines) => {
    assert.equal(lines.length, 10 + 10 + 2 + 2, lines.join('\n'));
    const produced: number[] = [];
    const consumed = new Map<string, number[]>([
      ['Consumer A', []],
      ['Consumer B', []],
    ]);
    const stopped: string[] = [];
    for (const line of lines.slice(0, -2)) {
      let m = /^Produced: (\d+), queue size: (\d+)$/.exec(line);
      if (m) {
        produced.push(Number(m[1]));
        const size = Number(m[2]);
        assert.ok(size >= 0 && size <= 5, `queue size out of 0..5: ${line}`);
        continue;
      }
      m = /^\[(Consumer [AB])\] Consumed: (\d+)$/.exec(line);
      if (m) {
        assert.ok(!stopped.includes(m[1]!), `${m[1]} consumed after it stopped: ${line}`);
        assert.ok(produced.includes(Number(m[2])), `consumed before produced: ${line}`);
        consumed.get(m[1]!)!.push(Number(m[2]));
        continue;
      }
      m = /^\[(Consumer [AB])\] End signal, stopping$/.exec(line);
      assert.ok(m, `unexpected line ${JSON.stringify(line)}`);
      stopped.push(m[1]!);
    }
    const range = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    assert.deepEqual(produced, range);
    // Every item consumed exactly once, each consumer taking its items in FIFO order.
    const a = consumed.get('Consumer A')!;
    const b = consumed.get('Consumer B')!;
    assert.deepEqual(
      [...a, ...b].sort((x, y) => x - y),
      range,
    );
    assert.deepEqual(
      a,
      [...a].sort((x, y) => x - y),
    );
    assert.deepEqual(
      b,
      [...b].sort((x, y) => x - y),
    );
    assert.ok(a.length > 0 && b.length > 0, 'both consumers took items');
    // Both consumers got an end signal (the seed's single None stops only one).
    assert.deepEqual([...stopped].sort(), ['Consumer A', 'Consumer B']);
    assert.equal(lines.at(-2), 'Queue joined: all items processed');
    // The producer alone takes 10 x 0.5 = 5 units; the last item takes 1 more. The upper
    // bound is loose: 11 sleeps in a row, each late on a busy machine (9.7 units seen with
    // three test runs at once on 2 CPUs); a single consumer is caught by the checks above.
    elapsed(lines.at(-1), 'Elapsed: ', 6, 11);
  },
  // §8: GET JSON from the embedded test server.
  '08-get-json.ts': (lines) => {
    assert.deepEqual(lines, ['Sample Slide Show', 'by tsaio']);
  },
  // §8: three delayed GETs at once take the longest (2 units), the unreachable URL's error is collected.
  '08-concurrent-fetch.ts': (lines) => {
    assert.equal(lines.length, 5, lines.join('\n'));
    elapsed(lines[0], 'Elapsed: ', 2, 4); // sequential: 1 + 2 + 1 = 4
    assert.deepEqual(lines.slice(1, 4), ['/delay/1 200', '/delay/2 200', '/delay/1 200']);
    assert.match(lines[4]!, /^http:\/\/127\.0\.0\.1:1\/ ClientConnectionError: .*ECONNREFUSED/);
  },
  // §8: POST json, echoed by /post.
  '08-post-json.ts': (lines) => {
    assert.deepEqual(lines, [
      'method: POST',
      'path: /post',
      'content-type: application/json',
      'json: {"key":"value","name":"asyncio"}',
    ]);
  },
  // §12: callSoon at once, callLater at 2 units, main ends at 3 so callAt(+5) never runs.
  '12-call-soon-later-at.ts': (lines) => {
    assert.equal(lines.length, 3, lines.join('\n'));
    stamped(lines[0], 'Execute immediately', 0, 1);
    stamped(lines[1], 'Execute after 2 seconds', 2, 3);
    stamped(lines[2], 'main done; 5-second callback cancelled: true', 3, 4.5);
    assert.ok(!lines.some((l) => l.includes('Execute after 5 seconds')));
  },
  // §9: three files written, then read at once with gather; each printed to its first 100 characters.
  '09-read-files.ts': (lines) => {
    assert.deepEqual(
      lines,
      [1, 2, 3].map((i) => [...`File ${i}: ${'héllo wörld '.repeat(20)}`].slice(0, 100).join('')),
    );
  },
  // §11: a sync function gets an async result through runSync (1 unit of async sleep); errors are thrown.
  '11-run-sync.ts': (lines) => {
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.equal(lines[0], 'Hello, sync world');
    elapsed(lines[1], 'Elapsed: ', 1, 3);
    assert.equal(lines[2], 'Caught RangeError: bad input from async code');
  },
  // §11: a 2-unit blocking sleep in the default thread pool; the loop ticks meanwhile.
  '11-blocking-io.ts': (lines) => {
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.equal(lines[0], 'result: done');
    elapsed(lines[1], 'Elapsed: ', 2, 4); // on the loop's own thread the ticker could not tick
    assert.equal(lines[2], 'the loop ticked while the thread blocked: true');
  },
  // §11: the CPU-heavy sum in a process pool, exact as Python's.
  '11-process-pool.ts': (lines) => {
    assert.deepEqual(lines, [
      'sum(i * i for i in range(10**7)) = 333333283333335000000',
      'for 10, 100, 1000, 10**6: 285, 328350, 332833500, 333332833333500000',
    ]);
  },
  // §10 asyncpg: fetch the active users, insert one (execute gives the status string).
  '10-asyncpg.ts': (lines) => {
    assert.deepEqual(lines, [
      '1 Ada',
      '3 Cy',
      'INSERT 0 1',
      "{ name: 'John Doe', email: 'john@example.com' }",
    ]);
  },
  // §10 pool: 10 queries of 1 unit each at once take about 1 unit (one by one: 10), on 10 connections.
  '10-asyncpg-pool.ts': (lines) => {
    assert.equal(lines.length, 12, lines.join('\n'));
    assert.deepEqual(
      lines.slice(0, 10),
      Array.from({ length: 10 }, (_, i) => `${i + 1} user ${i + 1}`),
    );
    assert.equal(lines[10], 'Connections used: 10');
    elapsed(lines[11], 'Elapsed: ', 1, 5);
  },
  // §10 aiosqlite: create, insert, commit, then `for await` over the rows.
  '10-aiosqlite.ts': (lines) => {
    assert.deepEqual(lines, ["{ id: 1, name: 'John Doe' }"]);
  },
  // §7 across three OS processes (tsaio/nats): one producer, two consumer processes, on NATS.
  '07-distributed-queue.ts': (lines) => {
    const produced: number[] = [];
    const consumed = new Map<string, number[]>([
      ['Consumer A', []],
      ['Consumer B', []],
    ]);
    const stopped: string[] = [];
    for (const line of lines.slice(0, -1)) {
      let m = /^Produced: (\d+), queue size: \d+$/.exec(line);
      if (m) {
        produced.push(Number(m[1]));
        continue;
      }
      m = /^\[(Consumer [AB])\] Consumed: (\d+)$/.exec(line);
      if (m) {
        consumed.get(m[1]!)!.push(Number(m[2]));
        continue;
      }
      m = /^\[(Consumer [AB])\] Queue shut down and drained, stopping$/.exec(line);
      if (m) {
        stopped.push(m[1]!);
        continue;
      }
      assert.equal(line, 'Queue joined: all items processed', `unexpected line ${JSON.stringify(line)}`);
    }
    const range = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    assert.deepEqual(produced, range);
    const a = consumed.get('Consumer A')!;
    const b = consumed.get('Consumer B')!;
    assert.deepEqual(
      [...a, ...b].sort((x, y) => x - y),
      range,
      'every item consumed exactly once (no fault, no redelivery)',
    );
    assert.ok(a.length > 0 && b.length > 0, 'both consumer processes took items');
    assert.deepEqual([...stopped].sort(), ['Consumer A', 'Consumer B'], 'the shutdown ended both processes');
    assert.ok(lines.includes('Queue joined: all items processed'));
    // Production alone takes 10 x 0.5 units; each put, qsize and get is a round trip to the
    // server and between processes, so the upper bound is loose (12.9 units seen at load 10).
    elapsed(lines.at(-1), 'Elapsed: ', 5.5, 60);
  },
  // §11 process pool: the sum of squares over two `tsaio worker` processes (tsaio/nats).
  '11-remote-executor.ts': (lines) => {
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.equal(lines[0], 'Result: 333333283333335000000'); // sum(i * i for i in range(10**7))
    const m = /^Slices per worker: worker-1=(\d+), worker-2=(\d+)$/.exec(lines[1]!);
    assert.ok(m, `both workers took slices: ${lines[1]}`);
    assert.equal(Number(m[1]) + Number(m[2]), 8);
  },
};

/** Examples that need the PostgreSQL server: skipped, loudly, when it does not answer. */
const pgReason = await sharedServer();
const NEEDS_PG = new Set(['10-asyncpg.ts', '10-asyncpg-pool.ts']);
if (pgReason !== null) skipBanner('test/examples.test.ts', pgReason, [...NEEDS_PG]);

void test('every example in examples/ has a check here, and every check an example', () => {
  const files = readdirSync(new URL('../examples/', import.meta.url))
    .filter((f) => f.endsWith('.ts'))
    .sort();
  assert.deepEqual(files, Object.keys(checks).sort());
});

// The tsaio/nats examples need a NATS server; without one they are skipped, and listed as such.
const NATS_EXAMPLES = new Set(['07-distributed-queue.ts', '11-remote-executor.ts']);

for (const [file, check] of Object.entries(checks)) {
  const name = `examples/${file} prints what the seed says`;
  const skip = NEEDS_PG.has(file) ? (pgReason ?? false) : NATS_EXAMPLES.has(file) ? natsSkip(name) : false;
  void test(name, { skip }, async () => {
    const out = await runExample(file);
    assert.equal(out.signal, null, `killed by ${out.signal}\n${out.stderr}`);
    assert.equal(out.code, 0, `exit code ${out.code}\n${out.stderr}`);
    assert.equal(out.stderr, '', 'nothing on stderr');
    check(out.stdout.replace(/\n$/, '').split('\n'));
  });
}
