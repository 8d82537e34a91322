/**
 * `serve`: the worker side of `RemoteExecutor` — what `tsaio worker MODULE`
 * runs. It takes jobs from the executor's queue, at most `concurrency` at a
 * time, runs the named function, and sends back the outcome, only ever to
 * the subject of the job's submitter (`_jobs.ts`). A queue item that is not a
 * job is moved to the dead letters and counted; nothing a job carries can
 * stop the worker.
 *
 * @module
 */

import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname } from 'node:os';
import { CancelledError, InvalidStateError, QueueShutDown, isCancellation } from '../exceptions.js';
import { Semaphore } from '../locks.js';
import { taskGroup } from '../taskgroups.js';
import { CancelScope, checkSignal } from '../_lowlevel.js';
import type { Connection } from './connection.js';
import type { Delivery } from './delivery.js';
import { CodecError, remoteErrorInfo } from './errors.js';
import { DistributedQueue } from './queue.js';
import { checkReplicas } from './_streams.js';
import { Timer } from './_timer.js';
import {
  cancelSubject,
  checkExecutorName,
  encoder,
  jobQueueName,
  parseCancel,
  parseJob,
  resultSubject,
  type JobMessage,
  type JobOutcome,
  type Outcome,
} from './_jobs.js';

/** What a job function can learn about the job it runs (`currentJob()`). */
export interface JobContext {
  /** The job's id. */
  readonly id: string;
  /** The function's name, as submitted. */
  readonly fn: string;
  /** 1 on the first run; more if a worker died running it before. */
  readonly attempt: number;
  /** Aborts when the submitter cancels the job or the worker stops. */
  readonly signal: AbortSignal;
  /** The worker running it. */
  readonly worker: string;
}

/** The functions a worker serves, by name. */
export type JobFunctions = Readonly<Record<string, (...args: any[]) => unknown>>;

/** Options of `serve`. */
export interface ServeOptions {
  /** The executor whose jobs to run (default `'default'`). */
  executor?: string;
  /** Jobs run at once (default 1). */
  concurrency?: number;
  /** This worker's name in results and errors (default `host:pid`). */
  name?: string;
  /** Aborting it stops the worker: running jobs are cancelled and handed back to the queue. */
  signal?: AbortSignal;
  /** Called once the worker takes jobs. */
  onReady?: (worker: string) => void;
  /**
   * Copies of the job queue's streams in a JetStream cluster, when this
   * worker is the first to open the executor and makes them (default 1; give
   * the executor's value). An existing queue keeps its own. A positive integer.
   */
  replicas?: number;
}

/** What a worker did, when it stops. */
export interface WorkerStats {
  /** Jobs whose function returned. */
  done: number;
  /** Jobs whose function threw (sent back as `RemoteError`). */
  failed: number;
  /** Jobs cancelled by their submitter. */
  cancelled: number;
  /** Jobs handed back to the queue because the worker stopped. */
  handedBack: number;
  /**
   * Queue items that were not jobs (not JSON, `null`, a wrong shape): moved to
   * the queue's dead letters, and answered with an error when they named a
   * submitter to answer.
   */
  malformed: number;
}

const storage: AsyncLocalStorage<JobContext> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('tsaio.nats.currentJob')
] ??= new AsyncLocalStorage<JobContext>()) as AsyncLocalStorage<JobContext>;

/**
 * The job the calling code runs in, inside a function a worker runs. Same
 * role as Celery's `self.request` in a bound task.
 *
 * @returns The job's context: its id, attempt, and the `signal` that aborts when it is cancelled.
 * @throws {InvalidStateError} Outside a job.
 *
 * @example A job that stops when cancelled
 * ```ts
 * import { currentJob } from 'tsaio/nats';
 * import { sleep } from 'tsaio';
 * export async function slow(ms: number): Promise<string> {
 *   await sleep(ms, undefined, { signal: currentJob().signal });
 *   return 'done';
 * }
 * try { currentJob(); } catch (e) { console.log((e as Error).name); } // InvalidStateError
 * ```
 */
export function currentJob(): JobContext {
  const job = storage.getStore();
  if (job === undefined) throw new InvalidStateError('currentJob() was called outside a job run by a worker');
  return job;
}

/** Jobs cancelled before this worker ran them (id and token); the oldest are forgotten first. */
class RecentCancels {
  private readonly _tokens = new Map<string, string>();
  constructor(private readonly _max: number) {}
  add(id: string, token: string): void {
    this._tokens.set(id, token);
    if (this._tokens.size > this._max) this._tokens.delete(this._tokens.keys().next().value!);
  }
  has(job: JobMessage): boolean {
    return this._tokens.get(job.id) === job.token;
  }
}

/**
 * One running job's cancel scope, opened on the worker's stop signal: its
 * signal is the job's (`currentJob().signal`). The worker stopping cancels it
 * with the stop's reason; the submitter's cancellation with its own.
 */
class JobScope extends CancelScope {
  constructor(readonly token: string) {
    super();
  }

  override _onSignal(reason: unknown): void {
    this.cancel(reason);
  }
}

/** One worker: its queue, its running jobs and what it did. */
class Worker {
  readonly stats: WorkerStats = { done: 0, failed: 0, cancelled: 0, handedBack: 0, malformed: 0 };
  private readonly _running = new Map<string, JobScope>();
  private readonly _cancelledEarly = new RecentCancels(10_000);
  private readonly _served: string;
  private readonly _answering = new Set<Promise<void>>();

  constructor(
    private readonly _conn: Connection,
    private readonly _functions: JobFunctions,
    private readonly _queue: DistributedQueue<JobMessage>,
    private readonly _executor: string,
    readonly name: string,
  ) {
    this._served = Object.keys(_functions).join(', ');
  }

  /** A message on the cancel subject: cancels the job it names if its token matches; anything else is ignored. */
  cancel(data: Uint8Array): void {
    const cancel = parseCancel(data);
    if (cancel === null) return;
    const running = this._running.get(cancel.id);
    if (running === undefined) this._cancelledEarly.add(cancel.id, cancel.token);
    else if (running.token === cancel.token)
      running.cancel(new CancelledError('the submitter cancelled the job'));
  }

  /**
   * What a queue item is: a job to run, or `null` once a malformed one was
   * moved to the dead letters (and its submitter told, if it named one).
   */
  admit(delivery: Delivery<JobMessage>): JobMessage | null {
    const parsed = parseJob(delivery.value);
    if ('job' in parsed) return parsed.job;
    this.stats.malformed++;
    this._queue._reject(delivery, `malformed job: ${parsed.malformed}`);
    const { answer } = parsed;
    if (answer !== null) {
      const error = { name: 'TypeError', message: `malformed job: ${parsed.malformed}` };
      const sent = this._reply(answer, { ok: false, error });
      this._answering.add(sent);
      void sent.then(() => this._answering.delete(sent));
    }
    return null;
  }

  /** Resolves once the answers to malformed jobs are sent (or given up). */
  async answered(): Promise<void> {
    while (this._answering.size > 0) await Promise.all([...this._answering]);
  }

  /** Runs one job to its end; `stop` aborts when the worker stops. */
  async run(delivery: Delivery<JobMessage>, job: JobMessage, stop: AbortSignal): Promise<void> {
    const scope = new JobScope(job.token).open(stop, null);
    const previous = this._running.get(job.id);
    this._running.set(job.id, scope);
    if (this._cancelledEarly.has(job)) scope.cancel(new CancelledError('the submitter cancelled the job'));
    // A job that runs long keeps its claim: the server would hand it to another worker after ackWait.
    const period = Math.max(1000, this._queue.ackWait / 3);
    const heartbeat = new Timer(() => {
      delivery.working();
      heartbeat.start(period);
    });
    heartbeat.start(period);
    try {
      const outcome = await this._call(job, delivery.deliveryCount, scope.signal);
      if (stop.aborted && outcome === null) {
        this.stats.handedBack++;
        delivery.retry(); // the worker stops: another one runs it
        return;
      }
      if (outcome === null) this.stats.cancelled++;
      else if ('ok' in outcome && outcome.ok) this.stats.done++;
      else this.stats.failed++;
      await this._reply(job, outcome ?? { cancelled: true });
      delivery.done();
    } finally {
      heartbeat.stop();
      scope.end();
      if (this._running.get(job.id) === scope) {
        if (previous !== undefined) this._running.set(job.id, previous);
        else this._running.delete(job.id);
      }
    }
  }

  /** Calls the job's function: its outcome, or `null` if it ended by its cancellation. */
  private async _call(job: JobMessage, attempt: number, signal: AbortSignal): Promise<Outcome | null> {
    const fn = Object.hasOwn(this._functions, job.fn) ? this._functions[job.fn] : undefined;
    // (`job` was checked by `parseJob`: `fn` is a string, `args` an array.)
    if (fn === undefined) {
      const message = `worker ${this.name} serves no function '${job.fn}' (it serves: ${this._served})`;
      return { ok: false, error: { name: 'LookupError', message } };
    }
    if (signal.aborted) return null;
    const context: JobContext = { id: job.id, fn: job.fn, attempt, signal, worker: this.name };
    try {
      const value = await storage.run(context, () => fn(...job.args));
      if (value !== undefined) JSON.stringify(value); // a result JSON cannot carry fails here, as an error
      return { ok: true, value };
    } catch (error) {
      if (signal.aborted && isCancellation(error)) return null;
      return { ok: false, error: remoteErrorInfo(error) };
    }
  }

  /**
   * Sends the outcome to the job's submitter, again until it confirms (3
   * tries); gives up if nobody listens. The subject is made here from the
   * executor's name and the submitter's id (both checked: plain characters,
   * one subject token each), never taken from the job: a job cannot make the
   * worker publish anywhere else.
   */
  private async _reply(job: Pick<JobMessage, 'id' | 'submitter' | 'token'>, outcome: Outcome): Promise<void> {
    const base = { id: job.id, token: job.token, worker: this.name };
    const message: JobOutcome = { ...base, ...outcome };
    let data: Uint8Array;
    try {
      data = encoder.encode(JSON.stringify(message));
    } catch (error) {
      const failed: JobOutcome = { ...base, ok: false, error: remoteErrorInfo(error) };
      data = encoder.encode(JSON.stringify(failed));
    }
    const subject = resultSubject(this._executor, job.submitter);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this._conn.raw.request(subject, data, { timeout: 2000 });
        return;
      } catch (error) {
        if (this._conn.raw.isClosed()) return;
        if ((error as Error).message?.includes('no responders')) return; // the submitter is gone
      }
    }
  }
}

/**
 * Serves `functions` to the executor `opts.executor` until `opts.signal`
 * aborts: takes jobs, at most `concurrency` at once, and sends each outcome
 * to its submitter. `tsaio worker MODULE` runs this with a module's exports.
 *
 * @param conn A connection from `connect()`.
 * @param functions The functions, by the name jobs call them.
 * @param opts Executor, concurrency, name, stop signal.
 * @returns What it did, once stopped.
 *
 * @example A worker in the same process, stopped after one job
 * ```ts
 * import { connect, RemoteExecutor, serve } from 'tsaio/nats';
 * await using conn = await connect();
 * const executor = `doc-serve-${process.pid}`;
 * const stop = new AbortController();
 * const worker = serve(conn, { double: (n: number) => 2 * n }, { executor, signal: stop.signal });
 * const pool = await RemoteExecutor.open(conn, { name: executor });
 * console.log(await pool.submit('double', 21)); // 42
 * stop.abort();
 * console.log((await worker).done); // 1
 * await pool.shutdown();
 * ```
 */
export async function serve(
  conn: Connection,
  functions: JobFunctions,
  opts: ServeOptions = {},
): Promise<WorkerStats> {
  const executor = checkExecutorName(opts.executor ?? 'default', 'serve');
  const signal = checkSignal(opts.signal, 'serve');
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`serve: concurrency must be a positive integer, received ${String(concurrency)}`);
  }
  const replicas = checkReplicas(opts.replicas, 'serve');
  if (typeof functions !== 'object' || functions === null || Object.keys(functions).length === 0) {
    throw new TypeError('serve: functions must be an object with at least one function');
  }
  const queue = await DistributedQueue.open<JobMessage>(conn, jobQueueName(executor), {
    maxDeliveries: 3,
    replicas,
  });
  const worker = new Worker(conn, functions, queue, executor, opts.name ?? `${hostname()}:${process.pid}`);
  const cancels = conn.raw.subscribe(cancelSubject(executor), {
    callback: (_e, msg) => worker.cancel(msg.data),
  });
  try {
    await conn.raw.flush(); // the cancel subscription is in place before the first job
    opts.onReady?.(worker.name);
    // The group's signal follows `signal`: when it aborts, the loop stops and every running job is cancelled.
    await taskGroup(
      async (tg, stop) => {
        const slots = new Semaphore(concurrency);
        for (;;) {
          const slot = await slots.acquire({ signal: stop });
          let delivery: Delivery<JobMessage>;
          let job: JobMessage | null;
          try {
            delivery = await queue.receive({ signal: stop });
            job = worker.admit(delivery);
          } catch (error) {
            slot[Symbol.dispose]();
            if (!(error instanceof CodecError)) throw error;
            worker.stats.malformed++; // not JSON: the queue moved it to the dead letters
            continue;
          }
          if (job === null) {
            slot[Symbol.dispose]();
            continue;
          }
          const taken = job;
          tg.createTask(async (jobStop) => {
            try {
              await worker.run(delivery, taken, jobStop);
            } finally {
              slot[Symbol.dispose]();
            }
          });
        }
      },
      signal !== undefined ? { signal } : {},
    );
  } catch (error) {
    const stopped = signal?.aborted === true && isCancellation(error);
    if (!stopped && !(error instanceof QueueShutDown)) throw error;
  } finally {
    cancels.unsubscribe();
    await worker.answered();
    await queue.close();
  }
  return worker.stats;
}
