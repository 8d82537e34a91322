/**
 * `ProcessPoolExecutor`, after `concurrent.futures.ProcessPoolExecutor`, on
 * child processes (`child_process.fork`).
 *
 * @module
 */

import { availableParallelism } from 'node:os';
import { Pool } from './_pool.js';
import { startProcess } from './_spawn.js';
import { Executor, checkExecutorOptions, type ExecutorOptions } from './executor.js';

/**
 * Runs jobs in a pool of child Node processes. Same as
 * `concurrent.futures.ProcessPoolExecutor`: each worker is a process of its
 * own (its own memory, its own crash), talking to the pool over IPC with
 * structured-clone serialization (ArrayBuffers are copied, not moved).
 * Processes start on demand, up to `maxWorkers` (default: the machine's
 * parallelism), and get the parent's `execArgv`; idle ones do not keep the
 * parent alive.
 *
 * @throws {RangeError} for a bad `maxWorkers` or `cancelGracePeriod`.
 *
 * @example The seed's CPU-heavy sum
 * ```ts
 * import { ProcessPoolExecutor } from 'tsaio/executor';
 * await using pool = new ProcessPoolExecutor({ maxWorkers: 2 });
 * const cpuHeavy = (n: number) => {
 *   let sum = 0n;
 *   for (let i = 0n; i < BigInt(n); i++) sum += i * i;
 *   return sum;
 * };
 * console.log(await pool.submit(cpuHeavy, 1000)); // 332833500n
 * ```
 */
export class ProcessPoolExecutor extends Executor {
  constructor(opts?: ExecutorOptions) {
    const [max, grace] = checkExecutorOptions('ProcessPoolExecutor', opts, availableParallelism());
    super(new Pool('process', max, grace, startProcess));
  }
}
