/**
 * `tsaio/testing`: `runVirtual`, `run()` on a virtual clock, for tests of code
 * that sleeps, times out, retries or rate-limits. After CPython's test loop
 * and Trio's `MockClock(autojump_threshold=0)`.
 *
 * @module
 */

import { InvalidStateError } from './exceptions.js';
import { abandonRun, run, runActive, type RunOptions } from './runners.js';
import type { TaskBody } from './tasks.js';
import { now } from './_timers.js';
import { brand } from './_brand.js';
import { checkFunction, describe } from './_validate.js';
import { VirtualTime } from './_virtual.js';

/** Options of `runVirtual`: those of `run`, and the clock's. */
export interface VirtualRunOptions extends RunOptions {
  /**
   * Real milliseconds during which nothing may happen in tsaio (no callback
   * made ready, no timer set or cancelled) before the clock jumps to the next
   * deadline. 0 (the default): jump as soon as no task can run, whatever real
   * I/O is in flight. Above 0: real I/O that completes within that quiet time
   * completes before virtual time moves past it.
   */
  autojumpThreshold?: number;
  /**
   * Real milliseconds to wait, when no task can run and no timer is pending,
   * for something outside tsaio (a socket, a real `setTimeout`) before the
   * run fails with `StallError` instead of hanging. Default 1000; `Infinity`
   * waits for ever.
   */
  stallTimeout?: number;
}

/**
 * A virtual run could not go on: no task can run, no tsaio timer is pending,
 * and for `stallTimeout` real ms nothing happened. The program awaits
 * something the virtual clock cannot move: usually a real `setTimeout` (use
 * tsaio's `sleep`) or a promise nobody settles. `resources` is what Node
 * still had pending (`process.getActiveResourcesInfo()`; empty in a runtime
 * that cannot tell).
 *
 * @example
 * ```ts
 * import { runVirtual, StallError } from 'tsaio/testing';
 * let timer: ReturnType<typeof setTimeout> | undefined;
 * try {
 *   // A real timer: the virtual clock cannot move it.
 *   await runVirtual(() => new Promise((r) => (timer = setTimeout(r, 60_000))), { stallTimeout: 50 });
 * } catch (err) {
 *   console.log(err instanceof StallError); // true, after 50 real ms
 * } finally {
 *   clearTimeout(timer);
 * }
 * ```
 */
export class StallError extends Error {
  constructor(
    message: string,
    readonly resources: string[],
  ) {
    super(message);
  }
}
brand(StallError, 'TSAIO_STALLED');

/**
 * Runs `main(signal)` as `run()` does, on a virtual clock: time stands still
 * while any task can run, and when none can, the clock jumps to the next
 * deadline. An hour of `sleep`s takes milliseconds; `loop.time()` reads the
 * virtual clock; every tsaio timer follows it (`sleep`, `timeout`, `waitFor`,
 * `callLater`/`callAt`, timed waits, `RateLimiter`, the iterables' time
 * windows, the I/O parts' timeouts); the same program prints the same events
 * in the same order on every run. The clock starts at the real clock's
 * reading, rounded up to a whole ms.
 *
 * Real I/O does not stop the clock: with `autojumpThreshold: 0` a timeout
 * around a socket read expires at once. Give a threshold (say 50 real ms) to
 * let real I/O complete first. Timers pending from outside the run (a pool
 * made before it) are set aside and neither fire nor move until it ends.
 *
 * @throws {InvalidStateError} (as a rejection) inside `run()` or another `runVirtual()`.
 * @throws {StallError} (as a rejection) when the run waits on something outside tsaio for `stallTimeout` ms.
 *
 * @example An hour of sleeps in a few milliseconds
 * ```ts
 * import { getRunningLoop, sleep } from 'tsaio';
 * import { runVirtual } from 'tsaio/testing';
 * const slept = await runVirtual(async () => {
 *   const loop = getRunningLoop();
 *   const start = loop.time();
 *   for (let i = 0; i < 60; i++) await sleep(60_000);
 *   return loop.time() - start;
 * });
 * console.log(slept); // 3600000
 * ```
 */
export async function runVirtual<T>(main: TaskBody<T>, opts?: VirtualRunOptions): Promise<Awaited<T>> {
  checkFunction(main, 'runVirtual', 'main');
  const autojumpThreshold = realMs(opts?.autojumpThreshold, 0, 'autojumpThreshold');
  const stallTimeout = realMs(opts?.stallTimeout, 1000, 'stallTimeout');
  if (runActive()) {
    throw new InvalidStateError(
      'runVirtual() cannot be called inside run() or another runVirtual(): the clock belongs to the whole ' +
        'run; call it from a test, outside any run',
    );
  }
  const { promise: stalled, reject } = withReject();
  const clock = new VirtualTime(Math.ceil(now()), {
    autojumpThreshold,
    stallTimeout,
    onStall: (resources) => reject(stallError(stallTimeout, resources)),
  });
  const runOpts: RunOptions = {};
  if (opts?.debug !== undefined) runOpts.debug = opts.debug;
  if (opts?.trace !== undefined) runOpts.trace = opts.trace;
  const done = run(main, runOpts);
  try {
    return await Promise.race([done, stalled]);
  } catch (err) {
    if (err instanceof StallError) {
      abandonRun('runVirtual stalled');
      done.catch(() => undefined); // the abandoned run's own outcome has no reader
    }
    throw err;
  } finally {
    clock.stop();
  }
}

function withReject(): { promise: Promise<never>; reject: (err: Error) => void } {
  let reject!: (err: Error) => void;
  const promise = new Promise<never>((_resolve, rej) => (reject = rej));
  promise.catch(() => undefined); // read by the race; never a stray rejection
  return { promise, reject };
}

function stallError(ms: number, resources: string[]): StallError {
  const pending = resources.length === 0 ? 'nothing' : resources.join(', ');
  return new StallError(
    `runVirtual: no task can run and no tsaio timer is pending, and nothing happened for ${ms} real ms: ` +
      `the program awaits something the virtual clock cannot move (Node has pending: ${pending}). ` +
      `A real setTimeout does not follow the virtual clock: use sleep() from tsaio; for slow real I/O, ` +
      `raise stallTimeout`,
    resources,
  );
}

/** A real duration option: a non-negative number of ms (Infinity allowed), `fallback` when absent. */
function realMs(value: unknown, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') {
    throw new TypeError(
      `runVirtual: ${name} must be a non-negative number of ms, received ${describe(value)}`,
    );
  }
  if (Number.isNaN(value) || value < 0) {
    throw new RangeError(`runVirtual: ${name} must be a non-negative number of ms, received ${value}`);
  }
  return value;
}
