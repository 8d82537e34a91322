// tsaio/testing: runVirtual, run() on a virtual clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket, connect } from 'node:net';
import {
  Condition,
  Event,
  Queue,
  RateLimiter,
  TimeoutError,
  batch,
  createTask,
  gather,
  getRunningLoop,
  run,
  sleep,
  timeout,
  timeoutEach,
  waitFor,
  InvalidStateError,
} from '../src/index.ts';
import { runVirtual, StallError } from '../src/testing.ts';
import { _timerStats } from '../src/_timers.ts';
import { assertNoLeaks, rejection, since } from './_helpers.ts';

/** The virtual ms since `start`, from the loop's clock. */
const elapsed = (start: number): number => getRunningLoop().time() - start;

void test('an hour of sleeps takes well under a second of real time; loop.time() moves by exactly an hour', async () => {
  const t0 = performance.now();
  const virtual = await runVirtual(async () => {
    const start = getRunningLoop().time();
    for (let i = 0; i < 3600; i++) await sleep(1000);
    return elapsed(start);
  });
  assert.equal(virtual, 3_600_000);
  assert.ok(since(t0) < 1000, `took ${since(t0)} ms of real time`);
  await assertNoLeaks();
});

void test('1,000 calls through a RateLimiter of 10 per second: 100 virtual seconds, well under a second of real time', async () => {
  const t0 = performance.now();
  const { span, last } = await runVirtual(async () => {
    const loop = getRunningLoop();
    const limiter = new RateLimiter({ rate: 10, interval: 1000 });
    const start = loop.time();
    const times: number[] = [];
    await gather(
      Array.from({ length: 1000 }, () => async () => {
        await limiter.acquire();
        times.push(loop.time() - start);
      }),
    );
    return { span: Math.max(...times), last: times.slice(-3) };
  });
  // A burst of 10 at once, then one every 100 ms: the 1,000th at 99 s.
  assert.equal(span, 99_000);
  assert.deepEqual(last, [98_800, 98_900, 99_000]);
  assert.ok(since(t0) < 1000, `took ${since(t0)} ms of real time`);
  await assertNoLeaks();
});

void test('a retry loop with exponential backoff: the delays are exact virtual times', async () => {
  const attempts = await runVirtual(async () => {
    const loop = getRunningLoop();
    const start = loop.time();
    const at: number[] = [];
    let delay = 100;
    for (let i = 0; i < 12; i++) {
      at.push(loop.time() - start);
      await sleep(delay);
      delay = Math.min(delay * 2, 60_000);
    }
    return at;
  });
  assert.deepEqual(attempts, [0, 100, 300, 700, 1500, 3100, 6300, 12700, 25500, 51100, 102300, 162300]);
});

/** A program that uses every kind of timer; it returns its trace. */
async function everyTimer(): Promise<string[]> {
  const loop = getRunningLoop();
  const start = loop.time();
  const trace: string[] = [];
  const log = (line: string): number => trace.push(`${elapsed(start)} ${line}`);
  loop.callLater(150, () => log('callLater 150'));
  loop.callAt(start + 120, () => log('callAt 120'));
  const event = new Event();
  const condition = new Condition();
  const queue = new Queue<number>(1);
  const tasks = [
    createTask(async (signal) => {
      try {
        await timeout(50, (inner) => sleep(1000, undefined, { signal: inner }));
      } catch (err) {
        log(`timeout: ${(err as Error).name}`);
      }
      await sleep(10, undefined, { signal });
    }),
    createTask(async () => {
      try {
        await waitFor((signal) => event.wait({ signal }), 70);
      } catch (err) {
        log(`waitFor(event.wait): ${(err as Error).name}`);
      }
    }),
    createTask(async () => {
      await condition.acquire();
      try {
        await waitFor((signal) => condition.wait({ signal }), 30);
      } catch (err) {
        log(`waitFor(condition.wait): ${(err as Error).name}, lock held: ${condition.locked()}`);
      } finally {
        condition.release();
      }
    }),
    createTask(async () => {
      await queue.put(1);
      try {
        await waitFor((signal) => queue.put(2, { signal }), 90);
      } catch (err) {
        log(`waitFor(queue.put): ${(err as Error).name}`);
      }
    }),
    createTask(async () => {
      async function* ticks(): AsyncGenerator<number> {
        for (let i = 0; i < 5; i++) {
          await sleep(40);
          yield i;
        }
      }
      for await (const group of batch(ticks(), 10, { timeout: 100 })) log(`batch ${group.join(',')}`);
    }),
    createTask(async () => {
      async function* slow(): AsyncGenerator<number> {
        yield 1;
        await sleep(500);
        yield 2;
      }
      try {
        for await (const item of timeoutEach(slow(), 200)) log(`timeoutEach item ${item}`);
      } catch (err) {
        log(`timeoutEach: ${(err as Error).name}`);
      }
    }),
  ];
  await gather(tasks);
  await sleep(400); // the source timeoutEach gave up on is still in its sleep(500)
  log('end');
  return trace;
}

void test('every tsaio timer follows the virtual clock, at exact times, the same on every run', async () => {
  const first = await runVirtual(everyTimer);
  assert.deepEqual(first, [
    '0 timeoutEach item 1',
    '30 waitFor(condition.wait): TimeoutError, lock held: true',
    '50 timeout: TimeoutError',
    '70 waitFor(event.wait): TimeoutError',
    '90 waitFor(queue.put): TimeoutError',
    '120 callAt 120',
    '140 batch 0,1,2',
    '150 callLater 150',
    '200 timeoutEach: TimeoutError',
    '200 batch 3,4',
    '600 end',
  ]);
  for (let i = 0; i < 5; i++) assert.deepEqual(await runVirtual(everyTimer), first);
  await assertNoLeaks();
});

void test('the order of events is the same on every run: 200 tasks with colliding deadlines', async () => {
  const program = async (): Promise<string> => {
    const order: number[] = [];
    await gather(
      Array.from({ length: 200 }, (_, i) => async () => {
        for (let k = 0; k < 3; k++) {
          await sleep(((i * 7919) % 13) * 5);
          order.push(i);
        }
      }),
    );
    return order.join(',');
  };
  const first = await runVirtual(program);
  for (let i = 0; i < 3; i++) assert.equal(await runVirtual(program), first);
});

/** A TCP server that answers every line after `delayMs` real ms. */
async function slowEcho(delayMs: number): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (data) => {
      setTimeout(() => socket.end(data), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

/** Sends `text` and reads the reply, on a real socket; the signal destroys the socket. */
function ask(port: number, text: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let reply = '';
    const onAbort = (): void => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', (data) => (reply += data.toString()));
    socket.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(reply);
    });
    socket.on('error', reject);
  });
}

void test('real I/O with a threshold: a socket read of ~30 real ms completes inside a 10 s virtual timeout', async () => {
  const { server, port } = await slowEcho(30);
  try {
    const reply = await runVirtual(
      (signal) => timeout(10_000, (inner) => ask(port, 'ping', inner), { signal }),
      {
        autojumpThreshold: 300,
      },
    );
    assert.equal(reply, 'ping');
  } finally {
    server.close();
  }
  await assertNoLeaks();
});

void test('real I/O without a threshold: the clock jumps at once, so the same read times out', async () => {
  const { server, port, sockets } = await slowEcho(30);
  try {
    const err = await rejection(runVirtual(() => timeout(10_000, (inner) => ask(port, 'ping', inner))));
    assert.ok(err instanceof TimeoutError, String(err));
  } finally {
    for (const socket of sockets) socket.destroy();
    server.close();
  }
});

void test('a threshold lets a sleep interleave with real I/O: the read lands before virtual time passes 10 s', async () => {
  const { server, port } = await slowEcho(20);
  try {
    const order = await runVirtual(
      async (signal) => {
        const loop = getRunningLoop();
        const start = loop.time();
        const seen: string[] = [];
        const reading = createTask(async () => seen.push(`read ${await ask(port, 'x', signal)}`));
        await sleep(10_000);
        seen.push(`slept ${loop.time() - start}`);
        await reading;
        return seen;
      },
      { autojumpThreshold: 200 },
    );
    assert.deepEqual(order, ['read x', 'slept 10000']);
  } finally {
    server.close();
  }
});

void test('a real setTimeout awaited while no tsaio timer is pending: StallError naming it, not a hang', async () => {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const err = await rejection(
    runVirtual(() => new Promise((resolve) => (timer = setTimeout(resolve, 60_000))), { stallTimeout: 100 }),
  );
  clearTimeout(timer);
  assert.ok(err instanceof StallError, String(err));
  assert.match((err as Error).message, /use sleep\(\) from tsaio/);
  assert.equal((err as StallError).resources.filter((kind) => kind === 'Timeout').length, 1);
  assert.ok(since(t0) < 2000);
  // The stalled run was given up: a new run starts.
  assert.equal(await run(() => 'next'), 'next');
  await assertNoLeaks();
});

void test('a promise nobody settles: StallError after the default second, with nothing pending', async () => {
  const err = await rejection(runVirtual(() => new Promise(() => undefined)));
  assert.ok(err instanceof StallError, String(err));
  assert.ok(!(err as StallError).resources.includes('Timeout'), String((err as StallError).resources));
  await assertNoLeaks();
});

void test('runVirtual inside run() (or inside itself) is refused with a clear error; run() inside runVirtual too', async () => {
  const inside = await run(() => rejection(runVirtual(() => 1)));
  assert.ok(inside instanceof InvalidStateError);
  assert.match((inside as Error).message, /runVirtual\(\) cannot be called inside run\(\)/);
  const nested = await runVirtual(() => rejection(runVirtual(() => 1)));
  assert.ok(nested instanceof InvalidStateError);
  const runInside = await runVirtual(() => rejection(run(() => 1)));
  assert.ok(runInside instanceof InvalidStateError);
  await assertNoLeaks();
});

void test('bad options: a typed error, before anything runs', async () => {
  let ran = false;
  const body = (): void => void (ran = true);
  assert.ok((await rejection(runVirtual(body, { autojumpThreshold: -1 }))) instanceof RangeError);
  assert.ok((await rejection(runVirtual(body, { autojumpThreshold: NaN }))) instanceof RangeError);
  assert.ok((await rejection(runVirtual(body, { stallTimeout: '5' as never }))) instanceof TypeError);
  assert.ok((await rejection(runVirtual('main' as never))) instanceof TypeError);
  assert.equal(ran, false);
  assert.equal(_timerStats().nodeTimerArmed, false);
});

void test('timers pending from outside are set aside: they neither fire early nor move', async () => {
  const t0 = performance.now();
  let firedAt = -1;
  const outside = sleep(80).then(() => (firedAt = since(t0)));
  await runVirtual(() => sleep(3_600_000));
  assert.equal(firedAt, -1, 'the outside sleep fired during the virtual hour');
  await outside;
  assert.ok(firedAt >= 79, `the outside sleep fired after ${firedAt} real ms`);
  await assertNoLeaks();
});

void test('after runVirtual the real clock is back: a sleep of 30 ms takes 30 real ms', async () => {
  await runVirtual(() => sleep(10_000));
  const t0 = performance.now();
  await sleep(30);
  assert.ok(since(t0) >= 29);
});

void test('a virtual run that fails rejects with its error and leaves nothing behind', async () => {
  const err = await rejection(
    runVirtual(async () => {
      createTask(() => sleep(5_000));
      await sleep(1000);
      throw new Error('boom');
    }),
  );
  assert.equal((err as Error).message, 'boom');
  await assertNoLeaks();
});

void test('cancellation at a virtual wait: the abandoned sleeps leave no timer', async () => {
  await runVirtual(async () => {
    const task = createTask((signal) => sleep(60_000, undefined, { signal }));
    await sleep(1);
    task.cancel();
    await rejection(task);
  });
  await assertNoLeaks();
});

void test("the I/O parts' timers follow it: tsaio/http's 60 s total timeout against a silent server, in virtual time", async () => {
  const { ClientSession } = await import('../src/http/index.ts');
  const sockets = new Set<Socket>();
  const server = createServer((socket) => void sockets.add(socket)); // accepts, never answers
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  const t0 = performance.now();
  try {
    const { err, waited } = await runVirtual(
      async () => {
        const loop = getRunningLoop();
        await using session = new ClientSession({ timeout: { total: 60_000 } });
        const start = loop.time();
        const err = await rejection(session.get(url));
        return { err, waited: loop.time() - start };
      },
      { autojumpThreshold: 20 },
    );
    assert.ok(err instanceof TimeoutError, String(err));
    assert.equal(waited, 60_000);
    assert.ok(since(t0) < 5000, `took ${since(t0)} real ms`);
  } finally {
    for (const socket of sockets) socket.destroy();
    server.close();
  }
  await assertNoLeaks();
});

// ---------------------------------------------------------------------------
// What docs/testing.md tells test writers to rely on.
// ---------------------------------------------------------------------------

void test('await sleep(0) inside a virtual run lets the ready tasks run and leaves the clock where it is', async () => {
  const seen = await runVirtual(async () => {
    const start = getRunningLoop().time();
    const seen: string[] = [];
    createTask(async () => {
      seen.push(`task started at ${elapsed(start)}`);
      await sleep(400);
      seen.push(`task woke at ${elapsed(start)}`);
    });
    await sleep(0);
    seen.push(`main went on at ${elapsed(start)}`);
    await sleep(400);
    return seen;
  });
  assert.deepEqual(seen, ['task started at 0', 'main went on at 0', 'task woke at 400']);
  await assertNoLeaks();
});

// ---------------------------------------------------------------------------
// Found while moving the project's own timing tests to virtual time.
// ---------------------------------------------------------------------------

void test("Executor.map's timeout is on the loop's clock: time the caller sleeps after map() counts against it", async () => {
  const { ThreadPoolExecutor } = await import('../src/executor/index.ts');
  const { err, at } = await runVirtual(
    async () => {
      const loop = getRunningLoop();
      await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
      await pool.submit((x: number) => x, 0); // the worker is up: the job below starts at once
      // A job that runs until it is cancelled.
      const job = (x: number, signal: AbortSignal): Promise<number> =>
        new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      const start = loop.time();
      const results = pool.map(job, [1], { timeout: 1000 });
      await sleep(900); // 900 of the 1000 ms go by before the caller reads the results
      const err = await rejection(
        (async () => {
          for await (const value of results) void value;
        })(),
      );
      return { err, at: loop.time() - start };
    },
    { autojumpThreshold: 100 }, // the worker's answers are real I/O: let them in before each jump
  );
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(at, 1000, `map's 1000 ms timeout fired ${at} ms after map() was called`);
  await assertNoLeaks();
});
