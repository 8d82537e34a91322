/**
 * Calling async code from sync code: `createSyncFn` and `runSync`, the
 * seed's "Calling Async from Sync Code" (`asyncio.run(coro())` inside a plain
 * function). The async work runs on a worker thread's own event loop; the
 * caller's thread blocks in `Atomics.wait` until the worker posts the outcome
 * and wakes it. Errors come back as errors (rebuilt with their name, message,
 * stack and `code`), and a `timeout` ends the wait with the core `TimeoutError`:
 * the job's signal is aborted in the worker, and a job that has not stopped
 * after the grace period has its worker ended (the next call starts a fresh
 * one), so nothing is left running.
 *
 * @module
 */

import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CancelledError, InvalidStateError, TimeoutError } from '../exceptions.js';
import { isThenable } from '../futures.js';
import { checkTimeout, debugState, describe, warnBlockingCall } from '../_lowlevel.js';
import { toSpec, type Job, closureHint, jobLabel } from './_job.js';
import { programUrl, startThread } from './_spawn.js';
import { unwireError, type JobSpec, type SyncOutcome as Outcome } from './_wire.js';

/** The id of the worker's first message: it has started. */
const READY = 0;
/** The id of the worker's last message: it is exiting. */
const DIED = -1;
/** The longest a sync function's worker may take to start, ms. */
const STARTUP_MS = 60_000;

/**
 * Why blocking this thread until `job` settles would deadlock, or `null` if
 * it would not. Blocking is refused (`runSync`, a sync function) when the
 * work could only finish on the thread that the wait blocks: a promise,
 * `Future` or `Task` belongs to this thread's event loop, which cannot run
 * while the thread waits — as `asyncio.run()` refuses to run inside a running
 * loop. A job that runs on the worker (a module export or a self-contained
 * function) is fine. Exported so that a caller can check first.
 *
 * @example
 * ```ts
 * import { syncCallProblem } from 'tsaio/executor';
 * console.log(syncCallProblem(Promise.resolve(1)) !== null); // true: it would never settle
 * console.log(syncCallProblem(() => 1)); // null
 * ```
 */
export function syncCallProblem(job: unknown): string | null {
  if (isThenable(job)) {
    return (
      'a promise, Future or Task settles on the event loop of the thread that made it, and the blocking wait ' +
      'stops that loop, so it could never settle (a deadlock); pass the job itself (a self-contained function ' +
      'or { module, name }) so that it runs on the worker'
    );
  }
  return null;
}

/** Options of `createSyncFn`. */
export interface SyncFnOptions {
  /**
   * How long a call waits for its job, in ms (default: no limit). Then the
   * job's signal is aborted and the call waits up to `cancelGracePeriod`
   * more for the job to stop: `TimeoutError` if it stopped with the abort
   * (or never stopped), its value if it returned one.
   */
  timeout?: number | null;
  /**
   * How long a timed-out job may take to stop before its worker is ended
   * (and a fresh one started by the next call), in ms (default 1,000, as
   * the pools). A call blocks at most `timeout + cancelGracePeriod`.
   */
  cancelGracePeriod?: number;
}

/** A function that blocks until its async job has run on the worker, made by `createSyncFn`. */
export interface SyncFn<A extends unknown[], R> {
  (...args: A): R;
  /** Ends the worker thread; later calls throw `InvalidStateError`. */
  close(): void;
  [Symbol.dispose](): void;
}

/** One worker thread that runs jobs for callers blocked on a shared flag. */
class SyncWorker {
  private readonly _flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly _port: MessagePort;
  private readonly _terminate: () => Promise<void>;
  private _nextId = 1;
  private _dead: string | null = null;
  private _ready = false;
  /** Closed by its owner, or ended because it died or kept running a job past its grace period. */
  closed = false;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this._port = port1;
    const channel = startThread(
      programUrl('_syncworker'),
      { message: () => {}, exit: (how) => (this._dead = how) },
      { workerData: { port: port2, flag: this._flag }, transferList: [port2] },
    );
    channel.unref();
    port1.unref();
    this._terminate = () => channel.terminate();
  }

  /**
   * Runs `spec(...args)` on the worker and blocks until it settles or
   * `timeout` ms pass. The worker's start (the first call) is not counted in
   * the timeout; it is bounded by `STARTUP_MS`.
   */
  call(spec: JobSpec, args: unknown[], limits: Limits, where: string): unknown {
    if (!debugState.enabled) return this._call(spec, args, limits, where);
    // Debug mode: the thread was blocked for the whole call; say for how long, and in which task.
    const started = performance.now();
    try {
      return this._call(spec, args, limits, where);
    } finally {
      warnBlockingCall(`${where}(${jobLabel(spec)})`, performance.now() - started);
    }
  }

  private _call(spec: JobSpec, args: unknown[], { timeout, grace }: Limits, where: string): unknown {
    const id = this._nextId++;
    try {
      this._port.postMessage({ t: 'run', id, job: spec, args });
    } catch (cause) {
      throw new TypeError(
        `${where}: the arguments cannot be sent to the worker (structured clone): ${(cause as Error).message}`,
        { cause },
      );
    }
    if (!this._ready) {
      if (this._wait(READY, performance.now() + STARTUP_MS) === null) {
        this.close();
        throw new InvalidStateError(`${where}: the worker thread did not start within ${STARTUP_MS} ms`);
      }
      this._ready = true;
    }
    const outcome =
      this._wait(id, timeout === null ? null : performance.now() + timeout) ??
      this._overdue(id, grace, () => `${where}: ${jobLabel(spec)} did not settle within ${timeout} ms`);
    if (outcome.ok) return outcome.value;
    throw closureHint(spec, unwireError(outcome.error));
  }

  /**
   * Job `id` timed out: its signal is aborted in the worker, and it has
   * `grace` ms to stop. Stopped with its value, that is the answer; stopped
   * with an error, a `TimeoutError` (with the error as `cause`, unless it was
   * the abort); not stopped, the worker is ended (a spinning job never even
   * reads the cancellation) and the call throws the `TimeoutError`.
   */
  private _overdue(id: number, grace: number, message: () => string): Outcome {
    this._port.postMessage({ t: 'cancel', id, reason: 'the sync call timed out' });
    const outcome = this._wait(id, performance.now() + grace);
    if (outcome?.ok === true) return outcome;
    let cause: unknown;
    if (outcome === null) this.close();
    else cause = unwireError(outcome.error);
    const options = cause === undefined || isAbort(cause) ? undefined : { cause };
    throw new TimeoutError(message(), options);
  }

  /** Blocks until the answer `id` arrives, or `deadline` passes (then `null`). */
  private _wait(id: number, deadline: number | null): Outcome | null {
    for (;;) {
      const got = receiveMessageOnPort(this._port) as { message: Outcome } | undefined;
      if (got !== undefined) {
        if (got.message.id === id) return got.message;
        if (got.message.id === DIED && !got.message.ok)
          this._dead = (unwireError(got.message.error) as Error).message;
        else continue; // a late answer to a call that timed out
      }
      if (this._dead !== null) {
        this.close();
        throw new InvalidStateError(`the sync function's worker thread died (${this._dead})`);
      }
      // Wake now and then to notice a worker that died without answering.
      const left = deadline === null ? 1000 : Math.min(1000, deadline - performance.now());
      if (left <= 0) return null;
      Atomics.wait(this._flag, 0, 0, left);
      Atomics.store(this._flag, 0, 0);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this._port.close();
    void this._terminate();
  }
}

/** The time limits of one call: `timeout` for the job, then `grace` for it to stop. */
interface Limits {
  timeout: number | null;
  grace: number;
}

function isAbort(error: unknown): boolean {
  return error instanceof CancelledError || (error as { name?: unknown } | null)?.name === 'AbortError';
}

function refuseDeadlock(job: unknown, where: string): void {
  const problem = syncCallProblem(job);
  if (problem !== null) throw new InvalidStateError(`${where} refused: ${problem}`);
}

/**
 * Makes a synchronous function out of an async job: each call runs
 * `job(...args)` on the function's own worker thread and blocks until it
 * settles, then returns its value or throws its error. The job is a module
 * (path or URL: its default export, or `{ module, name }`) or a
 * self-contained async function. Same idea as synckit's `createSyncFn`;
 * what `asyncio.run()` is for in the seed's sync code. The worker does not
 * keep the process alive; `close()` ends it. A call that times out aborts
 * the job's signal (a job that declares one more parameter than it is given
 * receives it) and waits up to `cancelGracePeriod` for the job to stop; a
 * job that does not stop has its worker ended, and the next call starts a
 * fresh one, as does a call after the worker died. A call throws the core
 * `TimeoutError` when its job did not settle in time, and
 * `InvalidStateError` after `close()` or when its worker died.
 *
 * @param job what to run on the worker.
 * @param opts `timeout`: how long one call waits for its job, in ms; `cancelGracePeriod`: how long a timed-out job may take to stop (default 1,000).
 * @returns the sync function, with `close()`.
 * @throws {InvalidStateError} for a promise, `Future` or `Task` (see `syncCallProblem`); {TypeError} for a job that cannot be sent; {RangeError} for a bad timeout or grace period.
 *
 * @example A sync function that does async work
 * ```ts
 * import { createSyncFn } from 'tsaio/executor';
 * using fetchLength = createSyncFn(async (text: string) => {
 *   await new Promise((r) => setTimeout(r, 10)); // async work, on the worker
 *   return text.length;
 * }, { timeout: 5000 });
 * console.log(fetchLength('hello')); // 5, returned synchronously
 * ```
 */
export function createSyncFn<A extends unknown[], R>(
  job: (...args: [...A, AbortSignal]) => R,
  opts?: SyncFnOptions,
): SyncFn<A, Awaited<R>>;
export function createSyncFn<A extends unknown[], R>(
  job: ((...args: A) => R) | Job,
  opts?: SyncFnOptions,
): SyncFn<A, Awaited<R>>;
export function createSyncFn<A extends unknown[], R>(
  job: ((...args: A) => R) | Job,
  opts?: SyncFnOptions,
): SyncFn<A, Awaited<R>> {
  refuseDeadlock(job, 'createSyncFn');
  const spec = toSpec(job, 'createSyncFn');
  const limits = {
    timeout: checkTimeout(opts?.timeout, 'createSyncFn', false),
    grace: checkGrace(opts?.cancelGracePeriod),
  };
  let worker = new SyncWorker();
  let closed = false;
  const fn = ((...args: A) => {
    if (closed) throw new InvalidStateError('sync function: the sync function was closed');
    if (worker.closed) worker = new SyncWorker(); // the last one died, or was ended with a job that would not stop
    return worker.call(spec, args, limits, 'sync function');
  }) as SyncFn<A, Awaited<R>>;
  fn.close = () => {
    closed = true;
    worker.close();
  };
  fn[Symbol.dispose] = fn.close;
  return fn;
}

function checkGrace(ms: unknown): number {
  if (ms === undefined) return 1000;
  if (typeof ms !== 'number' || !(ms >= 0) || ms === Infinity) {
    throw new RangeError(
      `createSyncFn: cancelGracePeriod must be a non-negative number of ms, received ${describe(ms)}`,
    );
  }
  return ms;
}

let shared: SyncWorker | null = null;
const NO_LIMIT: Limits = { timeout: null, grace: 0 };

/**
 * Runs the async `job(...args)` on a worker thread shared by every `runSync`
 * call of this thread, and blocks until it settles: its value is returned,
 * its error thrown. Same as `asyncio.run(async_function())` called from sync
 * code. Refused with `InvalidStateError` where the wait would deadlock (see
 * `syncCallProblem`).
 *
 * @example
 * ```ts
 * import { runSync } from 'tsaio/executor';
 * function syncFunction(): number {
 *   return runSync(async (x: number) => {
 *     await new Promise((r) => setTimeout(r, 10));
 *     return x * 2;
 *   }, 21);
 * }
 * console.log(syncFunction()); // 42
 * ```
 */
export function runSync<A extends unknown[], R>(job: ((...args: A) => R) | Job, ...args: A): Awaited<R> {
  refuseDeadlock(job, 'runSync');
  const spec = toSpec(job, 'runSync');
  if (shared === null || shared.closed) shared = new SyncWorker(); // none yet, closed, or died
  return shared.call(spec, args, NO_LIMIT, 'runSync') as Awaited<R>;
}

/**
 * Ends `runSync`'s shared worker thread, if it was started; a later
 * `runSync` starts a new one. The thread never keeps the process alive, so
 * this is for tests and for programs that want it gone now.
 *
 * @example
 * ```ts
 * import { runSync, closeRunSync } from 'tsaio/executor';
 * console.log(runSync(async () => 'done')); // done
 * closeRunSync();
 * ```
 */
export function closeRunSync(): void {
  shared?.close();
  shared = null;
}
