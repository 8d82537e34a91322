/**
 * `Executor`: what `ThreadPoolExecutor` and `ProcessPoolExecutor` share,
 * after `concurrent.futures.Executor`: `submit`, `map`, `shutdown`.
 *
 * @module
 */

import type { TransferListItem } from 'node:worker_threads';
import { CancelledError } from '../exceptions.js';
import { checkSignal, debugState, describe, hooks, now } from '../_lowlevel.js';
import { waitFor } from '../waitfor.js';
import { jobLabel, toSpec, type Job } from './_job.js';
import type { Pool } from './_pool.js';
import { ExecutorFuture } from './future.js';

/** A job given as a module: its path or URL (default export), or `{ module, name }`. */
export type ModuleJob = string | URL | { module: string | URL; name?: string };

/** Options of `submitWith`. */
export interface SubmitOptions {
  /** Aborting it cancels the job, as `future.cancel()` does. */
  signal?: AbortSignal;
  /** `ArrayBuffer`s (and ports) among the arguments to move to the worker instead of copying (threads only). */
  transfer?: readonly TransferListItem[];
}

/** Options of `map`. */
export interface MapOptions {
  /** Items per job (default 1): fewer, larger messages for many small items. */
  chunksize?: number;
  /** Total time for all the results, in ms from the call (default: none); then `TimeoutError`. */
  timeout?: number | null;
  /** Aborting it stops the iteration with `CancelledError` and cancels the jobs not yet done. */
  signal?: AbortSignal;
}

/** Options of `shutdown`. */
export interface ShutdownOptions {
  /** Wait until every job has ended and every worker has exited (default true). */
  wait?: boolean;
  /** Cancel the jobs still queued (default false: they run first). */
  cancelFutures?: boolean;
}

/** Options both executors take. */
export interface ExecutorOptions {
  /** The most workers run at once (default: the machine's parallelism). */
  maxWorkers?: number;
  /** How long a running job may take to stop after it was cancelled before its worker is ended, ms (default 1,000). */
  cancelGracePeriod?: number;
}

/** Checks the options; returns `[maxWorkers, cancelGracePeriod]`. */
export function checkExecutorOptions(
  kind: string,
  opts: ExecutorOptions | undefined,
  fallback: number,
): [number, number] {
  const max = opts?.maxWorkers ?? fallback;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1) {
    throw new RangeError(`${kind}: maxWorkers must be a positive integer, received ${describe(max)}`);
  }
  const grace = opts?.cancelGracePeriod ?? 1000;
  if (typeof grace !== 'number' || !(grace >= 0) || grace === Infinity) {
    throw new RangeError(
      `${kind}: cancelGracePeriod must be a non-negative number of ms, received ${describe(grace)}`,
    );
  }
  return [max, grace];
}

/**
 * The base of the executors. Same as `concurrent.futures.Executor`. Use an
 * executor with `await using` (or call `shutdown()`).
 *
 * @example Submitting a job
 * ```ts
 * import { ThreadPoolExecutor } from 'tsaio/executor';
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * console.log(await pool.submit((a: number, b: number) => a * b, 6, 7)); // 42
 * ```
 */
export abstract class Executor implements AsyncDisposable {
  /** @internal */
  constructor(/** @internal */ readonly _pool: Pool) {}

  /** The most workers this executor runs at once. */
  get maxWorkers(): number {
    return this._pool.maxWorkers;
  }

  /**
   * Runs `job(...args)` on a worker; returns its `ExecutorFuture` at once.
   * Same as `Executor.submit`. A function job is sent as source and must be
   * self-contained (it sees no variable of the caller's); a module job
   * (`{ module, name }`) can be anything its module exports. Arguments and
   * the result are copied (structured clone). A job that declares one more
   * parameter than it is given receives an `AbortSignal` there.
   *
   * @throws {TypeError} for a job that cannot be sent; {InvalidStateError} after `shutdown`.
   */
  submit<A extends unknown[], R>(
    job: (...args: [...A, AbortSignal]) => R,
    ...args: A
  ): ExecutorFuture<Awaited<R>>;
  submit<A extends unknown[], R>(job: (...args: A) => R, ...args: A): ExecutorFuture<Awaited<R>>;
  submit<R = unknown>(job: ModuleJob, ...args: unknown[]): ExecutorFuture<R>;
  submit(job: Job, ...args: unknown[]): ExecutorFuture<unknown> {
    return this.submitWith(job as ModuleJob, args);
  }

  /**
   * `submit` with options: `signal` (aborting it cancels the job) and
   * `transfer` (ArrayBuffers moved rather than copied).
   *
   * @example Moving a buffer to a worker
   * ```ts
   * import { ThreadPoolExecutor } from 'tsaio/executor';
   * await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
   * const data = new Float64Array([1, 2, 3]);
   * const sum = pool.submitWith((a: Float64Array) => a.reduce((x, y) => x + y, 0), [data], { transfer: [data.buffer] });
   * console.log(await sum, data.length); // 6 0: the buffer moved
   * ```
   */
  submitWith<R = unknown>(
    job: Job<any[], R> | ModuleJob,
    args: readonly unknown[],
    opts?: SubmitOptions,
  ): ExecutorFuture<Awaited<R>> {
    const spec = toSpec(job, `${this.constructor.name}.submit`);
    if (!Array.isArray(args))
      throw new TypeError(`submitWith: args must be an array, received ${describe(args)}`);
    const signal = checkSignal(opts?.signal, 'submitWith');
    const future = new ExecutorFuture<Awaited<R>>();
    if (signal?.aborted) {
      future._cancelNow(undefined); // nothing is sent
      return future;
    }
    this._pool.submit(future, spec, [...args], opts?.transfer ?? [], false, signal);
    if (debugState.tracing) {
      // A span from submit to done (queued and running), on a promise of its own: the future's error stays unretrieved.
      const done = new Promise<void>((resolve) => future.addDoneCallback(() => resolve()));
      hooks.wait(done, `${this.constructor.name} job ${jobLabel(spec)}`, 'executor');
    }
    return future;
  }

  /**
   * Runs `job(item)` for every item, on the workers, and yields the results
   * in input order. Same as `Executor.map` (one iterable; pass arrays to
   * give several arguments). Every job is submitted at the call; leaving the
   * loop early, a failure, the timeout or the signal cancels the jobs not yet
   * done, and the iteration ends once they have stopped.
   *
   * @throws {RangeError} for a bad `chunksize` or `timeout`; {TypeError} for a non-iterable.
   *
   * @example
   * ```ts
   * import { ProcessPoolExecutor } from 'tsaio/executor';
   * await using pool = new ProcessPoolExecutor({ maxWorkers: 2 });
   * const squares = [];
   * for await (const y of pool.map((x: number) => x * x, [1, 2, 3, 4], { chunksize: 2 })) squares.push(y);
   * console.log(squares); // [ 1, 4, 9, 16 ]
   * ```
   */
  map<T, R>(
    job: ((item: T, signal: AbortSignal) => R) | ((item: T) => R) | ModuleJob,
    items: Iterable<T>,
    opts?: MapOptions,
  ): AsyncGenerator<Awaited<R>, void, undefined> {
    const where = `${this.constructor.name}.map`;
    const spec = toSpec(job, where);
    if (items === null || typeof (items as Partial<Iterable<T>>)?.[Symbol.iterator] !== 'function') {
      throw new TypeError(`${where}: items must be iterable, received ${describe(items)}`);
    }
    const size = opts?.chunksize ?? 1;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
      throw new RangeError(`${where}: chunksize must be a positive integer, received ${describe(size)}`);
    }
    const limit = opts?.timeout ?? null;
    if (limit !== null && (typeof limit !== 'number' || Number.isNaN(limit))) {
      throw new RangeError(`${where}: timeout must be a number of ms or null, received ${describe(limit)}`);
    }
    const signal = checkSignal(opts?.signal, where);
    const deadline = limit === null ? null : now() + limit;
    const futures: ExecutorFuture<unknown[]>[] = [];
    let chunk: T[] = [];
    const flush = () => {
      const future = new ExecutorFuture<unknown[]>();
      this._pool.submit(future, spec, chunk, [], true);
      futures.push(future);
      chunk = [];
    };
    if (!signal?.aborted) {
      for (const item of items) if (chunk.push(item) === size) flush();
      if (chunk.length > 0) flush();
    }
    return results(futures, deadline, signal) as AsyncGenerator<Awaited<R>, void, undefined>;
  }

  /**
   * Stops taking jobs and, by default, waits until the jobs already
   * submitted have ended and every worker has exited. Same as
   * `Executor.shutdown(wait, cancel_futures)`. A second call waits the same way.
   */
  shutdown(opts?: ShutdownOptions): Promise<void> {
    return this._pool.shutdown(opts?.wait ?? true, opts?.cancelFutures ?? false);
  }

  /** `await using pool = new ThreadPoolExecutor()`: `shutdown()` at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  toString(): string {
    const { workers, queued, running } = this._pool.stats();
    return `<${this.constructor.name} maxWorkers=${this.maxWorkers} workers=${workers} running=${running} queued=${queued}>`;
  }
}

/** Yields each chunk's results in order; on the way out, cancels what is left and waits for it to stop. */
async function* results(
  futures: ExecutorFuture<unknown[]>[],
  deadline: number | null,
  signal: AbortSignal | undefined,
): AsyncGenerator<unknown, void, undefined> {
  try {
    if (signal?.aborted) throw new CancelledError('', { cause: signal.reason });
    for (const future of futures) {
      const ms = deadline === null ? null : Math.max(0, deadline - now());
      yield* await waitFor(future, ms, { signal });
    }
  } finally {
    for (const future of futures) future.cancel();
    await Promise.allSettled(futures);
  }
}
