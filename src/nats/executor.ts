/**
 * `RemoteExecutor`: `concurrent.futures`' `submit` with the work done by
 * `tsaio worker` processes anywhere on the NATS system.
 *
 * @module
 */

import type { Msg, Subscription } from '@nats-io/transport-node';
import { InvalidStateError, TimeoutError } from '../exceptions.js';
import { Future, whenDone } from '../futures.js';
import { describe } from '../_lowlevel.js';
import { sleep } from '../sleep.js';
import type { Connection } from './connection.js';
import { nuid } from './_driver.js';
import { ConnectionLostError, RemoteError } from './errors.js';
import { DistributedQueue } from './queue.js';
import { checkReplicas } from './_streams.js';
import {
  cancelSubject,
  checkExecutorName,
  encoder,
  jobQueueName,
  newToken,
  parseJson,
  parseOutcome,
  resultSubject,
  type CancelMessage,
  type JobMessage,
} from './_jobs.js';

/** Wait before a job's put is made again after the server did not confirm it; grows by this much each time, up to `RESEND_MAX_MS`. */
const RESEND_MS = 100;
const RESEND_MAX_MS = 1000;

/** Options of `RemoteExecutor.open`. */
export interface RemoteExecutorOptions {
  /** The executor's name: workers started with the same `--executor` run its jobs (default `'default'`). */
  name?: string;
  /** How long a job may run without its worker being heard from before another worker runs it, in ms (default: the queue's, else 30,000). */
  ackWait?: number;
  /** Runs after which a job whose workers keep dying is given up, to the dead letters (default 3). */
  maxDeliveries?: number;
  /**
   * Copies of the job queue's streams in a JetStream cluster, when this open
   * makes them (default 1; 3 in production, to survive the loss of a server).
   * An existing queue keeps its own. A positive integer.
   */
  replicas?: number;
  /** Aborting it abandons the open. */
  signal?: AbortSignal;
}

/** Options of `RemoteExecutor.shutdown`. */
export interface ExecutorShutdownOptions {
  /** Wait for every submitted job to finish (default true). */
  wait?: boolean;
  /** Cancel the jobs not finished yet (default false). */
  cancelFutures?: boolean;
}

/**
 * What `RemoteExecutor.statistics()` shows: the jobs waiting for a result,
 * and what arrived on the executor's result subject. Anything that is not
 * the outcome of one of its jobs is dropped and counted, never thrown: a
 * publisher that is not a worker cannot settle a future or break the
 * connection.
 */
export interface RemoteExecutorStatistics {
  /** Jobs submitted and not finished yet. */
  pending: number;
  /** Outcomes taken: each settled its job's future. */
  results: number;
  /** Messages that were not an outcome at all (not JSON, `null`, another shape): dropped. */
  malformed: number;
  /** Outcomes for a job this executor waits for, without that job's token: dropped. */
  forged: number;
  /** Outcomes for no job this executor waits for (a second copy of a result, a job cancelled meanwhile, someone else's id): dropped. */
  unknown: number;
}

interface Pending {
  future: Future<unknown>;
  fn: string;
  /** The job's token: its outcome must carry it. */
  token: string;
  /** The job's sequence number in the queue once the server stored it. */
  seq: number | null;
}

/**
 * Runs functions in worker processes (`tsaio worker MODULE`), on this machine
 * or others. `submit(name, ...args)` returns a core `Future` that a worker
 * resolves with what the module's export `name` returned, or rejects with a
 * `RemoteError` carrying the remote error's name, message and stack.
 * Cancelling the future tells the worker, which aborts the job's signal
 * (`currentJob().signal`). Jobs run at least once: if a worker dies, another
 * runs the job again. Same role as `concurrent.futures.ProcessPoolExecutor`,
 * with the pool in other processes.
 *
 * @example Sum of squares over workers (start `tsaio worker jobs.js` elsewhere first)
 * ```ts
 * import { connect, RemoteExecutor } from 'tsaio/nats';
 * await using conn = await connect();
 * await using pool = await RemoteExecutor.open(conn, { name: `doc-${process.pid}` });
 * const future = pool.submit<string>('sumOfSquares', 0, 1000);
 * future.cancel(); // no worker serves this doc executor: cancel instead of waiting
 * console.log(future.cancelled()); // true
 * ```
 */
export class RemoteExecutor implements AsyncDisposable {
  private readonly _pending = new Map<string, Pending>();
  /** This handle's id: jobs name it, workers send the results to the subject made from it. */
  private readonly _submitter = nuid.next();
  private readonly _results: Subscription;
  private readonly _counts = { results: 0, malformed: 0, forged: 0, unknown: 0 };
  private _shutdown = false;
  private _closing: Promise<void> | null = null;
  private readonly _unadopt: () => unknown;
  /** Aborted by `close()`: ends the puts of jobs still being sent again. */
  private readonly _closer = new AbortController();

  private constructor(
    private readonly _conn: Connection,
    readonly name: string,
    private readonly _queue: DistributedQueue<JobMessage>,
  ) {
    this._results = _conn.raw.subscribe(resultSubject(name, this._submitter), {
      callback: (_e, msg) => this._onResult(msg),
    });
    this._unadopt = _conn._adopt(this);
  }

  /**
   * Opens the executor `opts.name` on `conn`.
   *
   * @returns The executor; `shutdown()` (or `await using`) ends it.
   * @throws {TypeError} For a bad name.
   * @throws {RangeError} For a bad `ackWait`, `maxDeliveries` or `replicas`.
   */
  static async open(conn: Connection, opts: RemoteExecutorOptions = {}): Promise<RemoteExecutor> {
    const name = checkExecutorName(opts.name ?? 'default', 'RemoteExecutor.open');
    const queue = await DistributedQueue.open<JobMessage>(conn, jobQueueName(name), {
      maxDeliveries: opts.maxDeliveries ?? 3,
      ...(opts.ackWait !== undefined ? { ackWait: opts.ackWait } : {}),
      replicas: checkReplicas(opts.replicas, 'RemoteExecutor.open'),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
    return new RemoteExecutor(conn, name, queue);
  }

  /** Jobs submitted and not finished yet. */
  get pending(): number {
    return this._pending.size;
  }

  /**
   * What this executor handle received: outcomes taken, and messages dropped
   * (malformed, forged or unknown outcomes published on its result subject).
   *
   * @example
   * ```ts
   * import { connect, RemoteExecutor } from 'tsaio/nats';
   * await using conn = await connect();
   * await using pool = await RemoteExecutor.open(conn, { name: `doc-stats-${process.pid}` });
   * console.log(pool.statistics()); // { pending: 0, results: 0, malformed: 0, forged: 0, unknown: 0 }
   * ```
   */
  statistics(): RemoteExecutorStatistics {
    return { pending: this._pending.size, ...this._counts };
  }

  /**
   * Schedules `fn(...args)` on a worker. The arguments and the result travel
   * as JSON. A job the server does not confirm (the connection lost, a
   * cluster electing a new leader) is sent again with its id until it does:
   * the future stays pending meanwhile, and the job is queued once.
   *
   * @param fn The name of a function the workers' module exports.
   * @param args Its arguments.
   * @returns A `Future` of its result; `cancel()` it to cancel the job.
   * @throws {InvalidStateError} After `shutdown()`.
   * @throws {TypeError} If `fn` is not a non-empty string.
   */
  submit<R = unknown>(fn: string, ...args: unknown[]): Future<R> {
    if (typeof fn !== 'string' || fn === '') {
      throw new TypeError(`RemoteExecutor.submit: fn must be a function's name, received ${describe(fn)}`);
    }
    if (this._shutdown) {
      throw new InvalidStateError(`RemoteExecutor '${this.name}': cannot submit new jobs after shutdown`);
    }
    const future = new Future<R>();
    const id = nuid.next();
    const entry: Pending = { future: future as Future<unknown>, fn, token: newToken(), seq: null };
    this._pending.set(id, entry);
    future.addDoneCallback(() => this._settled(id, entry));
    const job: JobMessage = { id, fn, args, submitter: this._submitter, token: entry.token };
    void this._send(job, entry, future);
    return future;
  }

  /**
   * Puts `job` in the queue. While the server does not confirm it (the
   * connection lost, a cluster electing a new leader for the queue's stream)
   * it is put again, with the same id (the server keeps it once), until the
   * server does, the future is done, or the executor closes; any other
   * failure rejects the future.
   */
  private async _send(job: JobMessage, entry: Pending, future: Future<unknown>): Promise<void> {
    const signal = this._closer.signal;
    for (let tries = 1; ; tries++) {
      try {
        entry.seq = await this._queue._put(job, { id: job.id, signal }, false);
        if (future.cancelled()) this._cancelRemote(job.id, entry);
        return;
      } catch (error) {
        if (future.done()) return;
        if (!(error instanceof TimeoutError || error instanceof ConnectionLostError) || signal.aborted) {
          future.setException(error);
          return;
        }
      }
      try {
        await sleep(Math.min(RESEND_MAX_MS, RESEND_MS * tries), undefined, { signal });
      } catch {
        return; // closed: the future was cancelled
      }
      if (future.done()) return;
    }
  }

  /**
   * Stops taking new jobs; with `wait` (default), resolves once every
   * submitted job has finished; with `cancelFutures`, cancels the jobs not
   * finished yet first. Same as `Executor.shutdown(wait, cancel_futures)`.
   */
  async shutdown(opts: ExecutorShutdownOptions = {}): Promise<void> {
    this._shutdown = true;
    if (opts.cancelFutures === true) for (const { future } of this._pending.values()) future.cancel();
    if (opts.wait !== false) {
      await Promise.allSettled([...this._pending.values()].map(({ future }) => whenDone(future)));
    }
    await this.close();
  }

  /** @internal Closes at once: pending futures are cancelled (their jobs too). */
  close(): Promise<void> {
    this._closing ??= (async () => {
      this._shutdown = true;
      for (const { future } of [...this._pending.values()]) future.cancel();
      this._closer.abort();
      for (const [id, entry] of this._pending) this._cancelRemote(id, entry);
      this._pending.clear();
      this._results.unsubscribe();
      this._unadopt();
      await this._queue.close();
    })();
    return this._closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  toString(): string {
    return `<RemoteExecutor ${this.name} pending=${this._pending.size}${this._shutdown ? ' shutdown' : ''}>`;
  }

  private _settled(id: string, entry: Pending): void {
    if (this._pending.get(id) !== entry) return;
    this._pending.delete(id);
    if (entry.future.cancelled()) this._cancelRemote(id, entry);
  }

  /** Tells the workers to cancel job `id`, and removes it from the queue if no worker took it yet. */
  private _cancelRemote(id: string, entry: Pending): void {
    if (this._conn.raw.isClosed()) return;
    const cancel: CancelMessage = { id, token: entry.token };
    this._conn.raw.publish(cancelSubject(this.name), encoder.encode(JSON.stringify(cancel)));
    if (entry.seq !== null)
      void this._conn.jsm.streams.deleteMessage(this._queue.stream, entry.seq, false).catch(() => {});
  }

  /** A message on the result subject: the outcome of a job of ours, or dropped and counted. Never throws. */
  private _onResult(msg: Msg): void {
    try {
      this._take(msg);
    } catch {
      this._counts.malformed++; // nothing a publisher sends may reach the connection's reader
    }
  }

  private _take(msg: Msg): void {
    const outcome = parseOutcome(parseJson(msg.data));
    if (outcome === null) {
      this._counts.malformed++;
      return;
    }
    const entry = this._pending.get(outcome.id);
    if (entry !== undefined && outcome.token !== entry.token) {
      this._counts.forged++; // the job is ours, the token is not: not from a worker that ran it
      return;
    }
    this._confirm(msg); // the worker can stop sending it
    if (entry === undefined || entry.future.done()) {
      this._counts.unknown++; // a second copy, a job cancelled meanwhile, or not ours
      return;
    }
    this._counts.results++;
    if ('cancelled' in outcome) entry.future.cancel(`job '${entry.fn}' was cancelled on ${outcome.worker}`);
    else if (outcome.ok) entry.future.setResult(outcome.value);
    else entry.future.setException(RemoteError.from(outcome.error, entry.fn, outcome.worker));
  }

  /**
   * Confirms an outcome to the worker that sent it as a request. Only to a
   * reply inbox: a reply subject is the sender's choice, and this connection
   * must not be made to publish to any other (`$JS.API.…`, say).
   */
  private _confirm(msg: Msg): void {
    const reply = msg.reply;
    if (reply === undefined || !isInbox(reply)) return;
    msg.respond();
  }
}

/** A client's reply inbox: `_INBOX.` and subject tokens of plain characters, no wildcard. */
function isInbox(subject: string): boolean {
  return /^_INBOX(\.[A-Za-z0-9_-]+)+$/.test(subject);
}
