/**
 * `ThreadPoolExecutor`, after `concurrent.futures.ThreadPoolExecutor`, on
 * `worker_threads`.
 *
 * @module
 */

import { availableParallelism } from 'node:os';
import { Pool } from './_pool.js';
import { programUrl, startThread } from './_spawn.js';
import { Executor, checkExecutorOptions, type ExecutorOptions } from './executor.js';

/**
 * Runs jobs on a pool of worker threads. Same as
 * `concurrent.futures.ThreadPoolExecutor`, but a job runs on its own thread
 * with its own JavaScript heap (a Node worker), so it is given as a module
 * export or a self-contained function, and its arguments and result are
 * copied. Good for CPU-heavy work and blocking calls that would stall the
 * event loop. Threads start on demand, up to `maxWorkers` (default: the
 * machine's parallelism); idle threads do not keep the process alive.
 *
 * @throws {RangeError} for a bad `maxWorkers` or `cancelGracePeriod`.
 *
 * @example Blocking work off the event loop
 * ```ts
 * import { ThreadPoolExecutor } from 'tsaio/executor';
 * await using pool = new ThreadPoolExecutor({ maxWorkers: 2 });
 * function blockingIo(ms: number) {
 *   Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); // a blocking sleep
 *   return 'done';
 * }
 * console.log(await pool.submit(blockingIo, 50)); // done
 * ```
 */
export class ThreadPoolExecutor extends Executor {
  constructor(opts?: ExecutorOptions) {
    const [max, grace] = checkExecutorOptions('ThreadPoolExecutor', opts, availableParallelism());
    const program = programUrl('_worker');
    super(new Pool('thread', max, grace, (events) => startThread(program, events)));
  }
}
