/**
 * `tsaio/executor`: concurrent.futures for TypeScript — thread and process
 * pools, `toThread` and the default executor of `loop.runInExecutor`, and
 * the bridges that let sync code wait for async work (`runSync`,
 * `createSyncFn`). This file only re-exports.
 *
 * @module
 */

export {
  Executor,
  type ExecutorOptions,
  type MapOptions,
  type ModuleJob,
  type ShutdownOptions,
  type SubmitOptions,
} from './executor.js';
export { ThreadPoolExecutor } from './thread.js';
export { ProcessPoolExecutor } from './process.js';
export { ExecutorFuture } from './future.js';
export { BrokenExecutorError } from './errors.js';
export { defaultExecutor, shutdownDefaultExecutor, toThread } from './tothread.js';
export {
  closeRunSync,
  createSyncFn,
  runSync,
  syncCallProblem,
  type SyncFn,
  type SyncFnOptions,
} from './sync.js';
export { workerExecArgv } from './execargv.js';
export type { Job } from './_job.js';
