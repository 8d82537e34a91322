/**
 * The errors of `tsaio/nats`. Cancellation, timeouts and the queue errors
 * are the core's (`CancelledError`, `TimeoutError`, `QueueShutDown`,
 * `QueueEmpty`, `QueueFull`); these are the ones only a networked queue has.
 * Each has a stable `code` and the core's `Symbol.for` brand, so
 * `instanceof` holds across two installed copies of tsaio.
 *
 * @module
 */

import { brand } from '../_lowlevel.js';

/**
 * Base class of the errors of `tsaio/nats`.
 *
 * @example
 * ```ts
 * import { connect, NatsError } from 'tsaio/nats';
 * try { await connect({ servers: '127.0.0.1:1', timeout: 500 }); }
 * catch (e) { console.log(e instanceof NatsError); } // true
 * ```
 */
export class NatsError extends Error {
  declare readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
brand(NatsError, 'TSAIO_NATS_ERR', 'nats');

/**
 * No NATS server answered at any of the addresses given to `connect`, or the
 * server that answered has no JetStream. Same role as
 * `nats.errors.NoServersError` in nats.py. `servers` lists the addresses
 * tried; `cause` is the client's own error.
 *
 * @example
 * ```ts
 * import { connect, NoServerError } from 'tsaio/nats';
 * try { await connect({ servers: '127.0.0.1:1', timeout: 500 }); }
 * catch (e) { if (e instanceof NoServerError) console.log(e.servers); } // [ '127.0.0.1:1' ]
 * ```
 */
export class NoServerError extends NatsError {
  constructor(
    message: string,
    readonly servers: readonly string[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
brand(NoServerError, 'TSAIO_NATS_ERR_NO_SERVER', 'nats');

/**
 * The connection to the server was lost while an operation waited for the
 * server's answer. For a `put`, the item is either wholly in the queue or not
 * at all (a NATS message is never half-written); `id` is the message id the
 * put used, so `put(item, { id })` again is safe: the server drops the second
 * copy if the first one landed.
 *
 * @example
 * ```ts
 * import { ConnectionLostError } from 'tsaio/nats';
 * const e = new ConnectionLostError('lost', 'item-1');
 * console.log(e.id, e.code); // item-1 TSAIO_NATS_ERR_CONNECTION_LOST
 * ```
 */
export class ConnectionLostError extends NatsError {
  constructor(
    message: string,
    readonly id: string | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
brand(ConnectionLostError, 'TSAIO_NATS_ERR_CONNECTION_LOST', 'nats');

/**
 * A codec could not encode an item (`put`) or decode a message (`get`).
 * A bad item is never sent; a message that does not decode is moved to the
 * queue's dead-letter stream, so it cannot block the queue. `cause` is the
 * codec's own error.
 *
 * @example
 * ```ts
 * import { JsonCodec, CodecError } from 'tsaio/nats';
 * try { new JsonCodec().encode(10n); } catch (e) { console.log(e instanceof CodecError); } // true
 * ```
 */
export class CodecError extends NatsError {}
brand(CodecError, 'TSAIO_NATS_ERR_CODEC', 'nats');

/** What a worker sends back about an error its job function threw. */
export interface RemoteErrorInfo {
  name: string;
  message: string;
  stack?: string | undefined;
  code?: unknown;
}

/**
 * A job function run by a remote worker threw. `cause` is an `Error` with
 * the remote error's own `name`, `message` and `stack` (and `code`, if it had
 * one); `job` is the function's name and `worker` the worker that ran it.
 * Same role as the exception `concurrent.futures` re-raises from a process
 * pool.
 *
 * @example
 * ```ts
 * import { RemoteError } from 'tsaio/nats';
 * const e = RemoteError.from({ name: 'RangeError', message: 'bad n' }, 'sum', 'worker-1');
 * console.log(e.message, (e.cause as Error).name); // job 'sum' failed on worker-1: RangeError: bad n RangeError
 * ```
 */
export class RemoteError extends NatsError {
  constructor(
    message: string,
    readonly job: string,
    readonly worker: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  /** The error for `info`, as thrown by the job `job` on `worker`. */
  static from(info: RemoteErrorInfo, job: string, worker: string): RemoteError {
    const remote = new Error(info.message);
    remote.name = info.name;
    remote.stack = info.stack ?? `${info.name}: ${info.message}`;
    if (info.code !== undefined) Object.assign(remote, { code: info.code });
    return new RemoteError(`job '${job}' failed on ${worker}: ${info.name}: ${info.message}`, job, worker, {
      cause: remote,
    });
  }
}
brand(RemoteError, 'TSAIO_NATS_ERR_REMOTE', 'nats');

/**
 * What a worker sends for `error`: its name, message, stack and code,
 * whatever was thrown — even a value whose properties throw when read.
 */
export function remoteErrorInfo(error: unknown): RemoteErrorInfo {
  try {
    if (error instanceof Error) {
      const code = (error as { code?: unknown }).code;
      const stack = typeof error.stack === 'string' ? error.stack : undefined;
      return { name: String(error.name), message: String(error.message), stack, code };
    }
    return { name: 'Error', message: `a non-Error value was thrown: ${String(error)}` };
  } catch {
    return { name: 'Error', message: 'a value was thrown that cannot be described' };
  }
}
