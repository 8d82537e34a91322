/**
 * `tsaio/nats`: the core `Queue` and an executor spread over processes and
 * machines, on NATS JetStream (the official `@nats-io/transport-node` and
 * `@nats-io/jetstream` clients). This file only re-exports.
 *
 * @module
 */

export { Connection, DEFAULT_SERVER, connect, type ConnectOptions } from './connection.js';
export {
  DistributedQueue,
  type DistributedQueueOptions,
  type DistributedQueueStatistics,
  type PutOptions,
  type WaitOptions,
} from './queue.js';
export { Delivery } from './delivery.js';
export { JsonCodec, type Codec } from './codec.js';
export {
  CodecError,
  ConnectionLostError,
  NatsError,
  NoServerError,
  RemoteError,
  type RemoteErrorInfo,
} from './errors.js';
export {
  RemoteExecutor,
  type ExecutorShutdownOptions,
  type RemoteExecutorOptions,
  type RemoteExecutorStatistics,
} from './executor.js';
export {
  currentJob,
  serve,
  type JobContext,
  type JobFunctions,
  type ServeOptions,
  type WorkerStats,
} from './worker.js';
