/**
 * `toThread` and the default executor, after `asyncio.to_thread` and the
 * loop's default executor. Importing `tsaio/executor` registers the shared
 * thread pool with the core, so that `loop.runInExecutor(null, ...)` finds it.
 *
 * @module
 */

import { registerDefaultExecutor } from '../_lowlevel.js';
import type { Job } from './_job.js';
import type { ModuleJob } from './executor.js';
import type { ExecutorFuture } from './future.js';
import { ThreadPoolExecutor } from './thread.js';

let shared: ThreadPoolExecutor | null = null;

/**
 * The shared thread pool that `toThread` and `loop.runInExecutor(null, ...)`
 * use, made on first use with one thread per CPU.
 *
 * @example
 * ```ts
 * import { defaultExecutor } from 'tsaio/executor';
 * console.log(defaultExecutor().maxWorkers > 0); // true
 * ```
 */
export function defaultExecutor(): ThreadPoolExecutor {
  return (shared ??= new ThreadPoolExecutor());
}

registerDefaultExecutor(defaultExecutor);

/**
 * Shuts the default executor down (waiting for its jobs) and forgets it; the
 * next use makes a new one. Same as `loop.shutdown_default_executor()`. Its
 * idle threads never keep the process alive, so calling this is optional.
 *
 * @example
 * ```ts
 * import { toThread, shutdownDefaultExecutor } from 'tsaio/executor';
 * console.log(await toThread((s: string) => s.toUpperCase(), 'hi')); // HI
 * await shutdownDefaultExecutor();
 * ```
 */
export async function shutdownDefaultExecutor(): Promise<void> {
  const pool = shared;
  shared = null;
  await pool?.shutdown();
}

/**
 * Runs `job(...args)` on the default thread pool. Same as
 * `asyncio.to_thread(func, *args)`; the job is a module export or a
 * self-contained function (see `Executor.submit`).
 *
 * @returns the job's `ExecutorFuture`: await it, or cancel it.
 * @throws {TypeError} for a job that cannot be sent to a worker.
 *
 * @example Blocking I/O without blocking the loop
 * ```ts
 * import { toThread } from 'tsaio/executor';
 * const blockingIo = () => {
 *   Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // time.sleep
 *   return 'done';
 * };
 * console.log(await toThread(blockingIo)); // done
 * ```
 */
export function toThread<A extends unknown[], R>(
  job: (...args: [...A, AbortSignal]) => R,
  ...args: A
): ExecutorFuture<Awaited<R>>;
export function toThread<A extends unknown[], R>(
  job: (...args: A) => R,
  ...args: A
): ExecutorFuture<Awaited<R>>;
export function toThread<R = unknown>(job: ModuleJob, ...args: unknown[]): ExecutorFuture<R>;
export function toThread(job: Job, ...args: unknown[]): ExecutorFuture<unknown> {
  return defaultExecutor().submitWith(job as ModuleJob, args);
}
