/**
 * The errors of `tsaio/executor`. Cancellation and timeouts are the core's
 * `CancelledError` and `TimeoutError`; misuse is a `TypeError`, `RangeError`
 * or the core's `InvalidStateError` (submitting after `shutdown`). Its own
 * classes have a stable `code` and the core's `Symbol.for` brand, so
 * `instanceof` holds across two installed copies of tsaio.
 *
 * @module
 */

import { brand } from '../_lowlevel.js';

/**
 * The worker running a job died (it crashed, exited, or ran out of memory)
 * before the job settled. Same as `concurrent.futures.BrokenExecutor`
 * (`BrokenThreadPool`, `BrokenProcessPool`), but only the jobs that were on
 * that worker fail: the pool starts a fresh worker and goes on. `job` names
 * the job; `cause` is what the worker reported, when it reported anything.
 *
 * @example
 * ```ts
 * import { ThreadPoolExecutor, BrokenExecutorError } from 'tsaio/executor';
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
 * try { await pool.submit(function crash() { process.exit(3); }); }
 * catch (e) { if (e instanceof BrokenExecutorError) console.log(e.job); } // crash()
 * console.log(await pool.submit((a: number, b: number) => a + b, 1, 2)); // 3: a fresh worker
 * ```
 */
export class BrokenExecutorError extends Error {
  declare readonly code: 'TSAIO_ERR_BROKEN_EXECUTOR';
  constructor(
    message: string,
    /** The job that was running, as `name()` or `name() from <module URL>`. */
    readonly job: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'BrokenExecutorError';
  }
}
brand(BrokenExecutorError, 'TSAIO_ERR_BROKEN_EXECUTOR', 'executor');
