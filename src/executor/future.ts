/**
 * `ExecutorFuture`: the core `Future` an executor's `submit` returns, after
 * `concurrent.futures.Future`.
 *
 * @module
 */

import { Future } from '../futures.js';

/** The pool's side of one job (private). */
export interface JobControl {
  /** Asks the pool to cancel the job; see `ExecutorFuture.cancel`. */
  cancelJob(msg: string | undefined): boolean;
  running(): boolean;
}

/**
 * The result of a job submitted to an executor: a core `Future` (awaitable,
 * with `done()`, `result()`, `addDoneCallback` ...). Same as
 * `concurrent.futures.Future`, with one difference: cancelling a running
 * job is not refused. Like `Task.cancel`, `cancel()` on a running job is a
 * request — the job's `AbortSignal` aborts inside its worker, and the future
 * settles when the job ends: cancelled if it stops with an abort or
 * `CancelledError`, or when the pool ends the worker after its grace period;
 * with its value if it finished anyway. A job still queued is cancelled at
 * once and never runs.
 *
 * @example
 * ```ts
 * import { ThreadPoolExecutor } from 'tsaio/executor';
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 1 });
 * const wait = (ms: number, signal: AbortSignal) =>
 *   new Promise((resolve, reject) => {
 *     const t = setTimeout(resolve, ms, 'slept');
 *     signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason); });
 *   });
 * const running = pool.submit(wait, 10_000);
 * const queued = pool.submit(wait, 10);
 * console.log(queued.cancel(), queued.cancelled()); // true true: it never runs
 * running.cancel();
 * await running.catch(() => {});
 * console.log(running.cancelled()); // true: the job saw its signal abort and stopped
 * ```
 */
export class ExecutorFuture<T = unknown> extends Future<T> {
  /** @internal */ _control: JobControl | null = null;

  /**
   * Cancels the job: at once if it is queued (it never runs); if it is
   * running, aborts its signal in the worker and settles when it stops.
   * Returns false if the future is done already.
   */
  override cancel(msg?: string): boolean {
    if (this.done()) return false;
    if (this._control === null) return super.cancel(msg);
    return this._control.cancelJob(msg);
  }

  /** True while the job runs on a worker. Same as `Future.running()`. */
  running(): boolean {
    return !this.done() && (this._control?.running() ?? false);
  }

  /** @internal Settles the future as cancelled (the pool's last word). */
  _cancelNow(msg: string | undefined): void {
    super.cancel(msg);
  }
}
