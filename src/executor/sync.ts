/**
 * Calling async code from sync code: `createSyncFn` and `runSync`, the
 * seed's "Calling Async from Sync Code" (`asyncio.run(coro())` inside a plain
 * function). The async work runs on a worker thread's own event loop; the
 * caller's thread blocks in `Atomics.wait` until the worker posts the outcome
 * and wakes it. Errors come back as errors (rebuilt with their name, message,
 * stack and `code`), and a `timeout` ends the wait with the core `TimeoutError`
 * (the job's signal is aborted in the worker).
 *
 * @module
 */

import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { InvalidStateError, TimeoutError } from '../exceptions.js';
import { isThenable } from '../futures.js';
import { debugState, describe, warnBlockingCall } from '../_lowlevel.js';
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
  /** The longest a call blocks, in ms (default: no limit); then `TimeoutError`. */
  timeout?: number | null;
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
  call(spec: JobSpec, args: unknown[], timeout: number | null, where: string): unknown {
    if (!debugState.enabled) return this._call(spec, args, timeout, where);
    // Debug mode: the thread was blocked for the whole call; say for how long, and in which task.
    const started = performance.now();
    try {
      return this._call(spec, args, timeout, where);
    } finally {
      warnBlockingCall(`${where}(${jobLabel(spec)})`, performance.now() - started);
    }
  }

  private _call(spec: JobSpec, args: unknown[], timeout: number | null, where: string): unknown {
    if (this.closed) throw new InvalidStateError(`${where}: the sync function was closed`);
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
      this._wait(
        READY,
        performance.now() + STARTUP_MS,
        () => new InvalidStateError(`${where}: the worker thread did not start within ${STARTUP_MS} ms`),
      );
      this._ready = true;
    }
    const deadline = timeout === null ? null : performance.now() + timeout;
    const outcome = this._wait(id, deadline, () => {
      this._port.postMessage({ t: 'cancel', id, reason: 'the sync call timed out' });
      return new TimeoutError(`${where}: ${jobLabel(spec)} did not settle within ${timeout} ms`);
    });
    if (outcome.ok) return outcome.value;
    throw closureHint(spec, unwireError(outcome.error));
  }

  /** Blocks until the answer `id` arrives; `late()` makes the error thrown at `deadline`. */
  private _wait(id: number, deadline: number | null, late: () => Error): Outcome {
    for (;;) {
      const got = receiveMessageOnPort(this._port) as { message: Outcome } | undefined;
      if (got !== undefined) {
        if (got.message.id === id) return got.message;
        if (got.message.id === DIED && !got.message.ok)
          this._dead = (unwireError(got.message.error) as Error).message;
        else continue; // a late answer to a call that timed out
      }
      if (this._dead !== null)
        throw new InvalidStateError(`the sync function's worker thread died (${this._dead})`);
      // Wake now and then to notice a worker that died without answering.
      const left = deadline === null ? 1000 : Math.min(1000, deadline - performance.now());
      if (left <= 0) throw late();
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

function checkTimeout(timeout: unknown, where: string): number | null {
  if (timeout === undefined || timeout === null || timeout === Infinity) return null;
  if (typeof timeout !== 'number' || Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(
      `${where}: timeout must be a non-negative number of ms or null, received ${describe(timeout)}`,
    );
  }
  return timeout;
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
 * keep the process alive; `close()` ends it.
 *
 * @param job what to run on the worker.
 * @param opts `timeout`: the longest one call may block, in ms.
 * @returns the sync function, with `close()`.
 * @throws {InvalidStateError} for a promise, `Future` or `Task` (see `syncCallProblem`); {TypeError} for a job that cannot be sent; {RangeError} for a bad timeout.
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
  job: ((...args: A) => R) | Job,
  opts?: SyncFnOptions,
): SyncFn<A, Awaited<R>> {
  refuseDeadlock(job, 'createSyncFn');
  const spec = toSpec(job, 'createSyncFn');
  const timeout = checkTimeout(opts?.timeout, 'createSyncFn');
  const worker = new SyncWorker();
  const fn = ((...args: A) => worker.call(spec, args, timeout, 'sync function')) as SyncFn<A, Awaited<R>>;
  fn.close = () => worker.close();
  fn[Symbol.dispose] = fn.close;
  return fn;
}

let shared: SyncWorker | null = null;

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
  if (shared === null || shared.closed) shared = new SyncWorker();
  return shared.call(spec, args, null, 'runSync') as Awaited<R>;
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
