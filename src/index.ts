/**
 * tsaio: asyncio for TypeScript. The public surface of the core package;
 * this file only re-exports.
 *
 * @module
 */

export { CancelledError, ExceptionGroup, InvalidStateError, TimeoutError } from './exceptions.js';
export { Future, type DoneCallback } from './futures.js';
export {
  Task,
  allTasks,
  createTask,
  currentTask,
  type AwaitableLike,
  type TaskBody,
  type TaskOptions,
} from './tasks.js';
export { sleep, type SleepOptions } from './sleep.js';
export { gather, type GatherOptions, type GatherResult, type GatherResults } from './gather.js';
export {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  wait,
  type ReturnWhen,
  type WaitOptions,
  type WaitResult,
} from './wait.js';
export { waitFor, type WaitForOptions } from './waitfor.js';
export { Timeout, timeout, timeoutAt, type TimeoutBody, type TimeoutOptions } from './timeouts.js';
export { asCompleted, type AsCompletedOptions } from './ascompleted.js';
export { shield } from './shield.js';
export { TaskGroup, taskGroup, type TaskGroupOptions } from './taskgroups.js';
export { EventLoop, Handle, TimerHandle, getRunningLoop, type ExceptionHandler } from './events.js';
export { run, type RunOptions } from './runners.js';
export type { ErrorContext } from './_report.js';
export type { ExecutorLike } from './_executor.js';
export { QueueEmpty, QueueFull, QueueShutDown, BrokenBarrierError } from './exceptions.js';
export {
  Barrier,
  BoundedSemaphore,
  Condition,
  Event,
  Lock,
  Semaphore,
  type AcquireOptions,
  type Held,
} from './locks.js';
export { LifoQueue, PriorityQueue, Queue, type QueueWaitOptions } from './queues.js';
export type { AnyIterable } from './_reader.js';
export { map, type MapOptions } from './map.js';
export { filter } from './filter.js';
export { take } from './take.js';
export { batch, chunk, type BatchOptions } from './batch.js';
export { merge } from './merge.js';
export { buffer } from './buffer.js';
export { toArray } from './toarray.js';
export { timeoutEach } from './timeouteach.js';
export { RateLimiter, type RateLimiterOptions } from './ratelimit.js';
