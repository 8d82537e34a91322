/**
 * Private: the scheduling under both executors, after the work queue and
 * worker management of `concurrent.futures.thread`/`process`.
 *
 * Jobs wait in one FIFO queue; a worker runs one job at a time; workers are
 * started on demand up to `maxWorkers`. An idle worker does not keep the
 * process alive. A worker that dies fails only the job it was running, with
 * `BrokenExecutorError`, and a fresh one is started when work is waiting.
 * Cancelling a running job sends the cancellation into the worker (the job's
 * signal aborts there); if the job has not ended after the grace period, the
 * worker is ended and the future settles cancelled.
 *
 * @module
 */

import type { TransferListItem } from 'node:worker_threads';
import { CancelledError, InvalidStateError } from '../exceptions.js';
import { getRunningLoop, type TimerHandle } from '../events.js';
import { closureHint, jobLabel } from './_job.js';
import type { Channel, ChannelEvents } from './_spawn.js';
import { unwireError, type FromWorker, type JobSpec } from './_wire.js';
import { BrokenExecutorError } from './errors.js';
import type { ExecutorFuture, JobControl } from './future.js';

/** How a pool starts its workers. */
export type Starter = (events: ChannelEvents) => Channel;

let nextId = 1;

/** One submitted job. */
class Item implements JobControl {
  readonly id = nextId++;
  slot: Slot | null = null;
  state: 'queued' | 'running' | 'cancelling' | 'done' = 'queued';
  grace: TimerHandle | null = null;
  cancelMsg: string | undefined;

  constructor(
    readonly pool: Pool,
    readonly future: ExecutorFuture<any>,
    readonly job: JobSpec,
    readonly args: unknown[],
    readonly transfer: readonly TransferListItem[],
    readonly chunk: boolean,
  ) {}

  cancel(msg: string | undefined): boolean {
    return this.pool.cancel(this, msg);
  }

  running(): boolean {
    return this.state === 'running' || this.state === 'cancelling';
  }
}

/** One worker and the job it runs. */
class Slot implements ChannelEvents {
  channel!: Channel;
  item: Item | null = null;
  alive = true;
  constructor(readonly pool: Pool) {}
  message(msg: FromWorker): void {
    this.pool.finished(this, msg);
  }
  exit(how: string, error: unknown): void {
    this.pool.exited(this, how, error);
  }
}

export class Pool {
  private readonly _queue: Item[] = [];
  private _head = 0;
  private readonly _idle: Slot[] = [];
  private readonly _slots = new Set<Slot>();
  private _shutdown = false;
  private _drained: (() => void)[] = [];

  constructor(
    readonly kind: string,
    readonly maxWorkers: number,
    readonly graceMs: number,
    private readonly _start: Starter,
  ) {}

  /** Queues a job for `future` and starts it if a worker is free. */
  submit(
    future: ExecutorFuture<any>,
    job: JobSpec,
    args: unknown[],
    transfer: readonly TransferListItem[],
    chunk: boolean,
  ): void {
    if (this._shutdown)
      throw new InvalidStateError(`${this.kind}.submit: cannot schedule new jobs after shutdown`);
    const item = new Item(this, future, job, args, transfer, chunk);
    future._control = item;
    this._queue.push(item);
    this._pump();
  }

  /** Workers alive, jobs waiting, jobs running. */
  stats(): { workers: number; queued: number; running: number } {
    let running = 0;
    for (const slot of this._slots) if (slot.item !== null) running++;
    let queued = 0;
    for (let i = this._head; i < this._queue.length; i++) if (this._queue[i]!.state === 'queued') queued++;
    return { workers: this._slots.size, queued, running };
  }

  private _next(): Item | null {
    while (this._head < this._queue.length) {
      const item = this._queue[this._head++]!;
      if (this._head > 1024 && this._head * 2 > this._queue.length) {
        this._queue.splice(0, this._head);
        this._head = 0;
      }
      if (item.state === 'queued') return item;
    }
    return null;
  }

  private _hasQueued(): boolean {
    for (let i = this._head; i < this._queue.length; i++) if (this._queue[i]!.state === 'queued') return true;
    return false;
  }

  /** Hands waiting jobs to idle workers, starting workers up to the limit. */
  private _pump(): void {
    while (this._hasQueued()) {
      let slot = this._idle.pop();
      if (slot === undefined) {
        if (this._slots.size >= this.maxWorkers) return;
        slot = new Slot(this);
        slot.channel = this._start(slot);
        this._slots.add(slot);
      }
      this._dispatch(this._next()!, slot);
    }
    this._checkDrained();
  }

  private _dispatch(item: Item, slot: Slot): void {
    try {
      slot.channel.send(
        { t: 'run', id: item.id, job: item.job, args: item.args, chunk: item.chunk },
        item.transfer,
      );
    } catch (cause) {
      item.state = 'done';
      this._idle.push(slot);
      item.future.setException(
        new TypeError(
          `${jobLabel(item.job)}: the arguments cannot be sent to a worker (structured clone): ${(cause as Error).message}`,
          { cause },
        ),
      );
      return;
    }
    item.state = 'running';
    item.slot = slot;
    slot.item = item;
    slot.channel.ref();
  }

  /** A worker answered: settle its job's future, and give the worker the next job. */
  finished(slot: Slot, msg: FromWorker): void {
    const item = slot.item;
    if (item === null || item.id !== msg.id) return;
    this._release(slot, item);
    if (msg.ok) item.future.setResult(msg.value);
    else {
      const error = closureHint(item.job, unwireError(msg.error));
      if (item.cancelMsg !== undefined && isAbort(error)) item.future._cancelNow(item.cancelMsg);
      else item.future.setException(error);
    }
    if (slot.alive) {
      slot.channel.unref();
      this._idle.push(slot);
    }
    this._pump();
  }

  /** A worker exited: its job (if any) fails with `BrokenExecutorError`, or ends cancelled if that was asked. */
  exited(slot: Slot, how: string, error: unknown): void {
    slot.alive = false;
    this._slots.delete(slot);
    const at = this._idle.indexOf(slot);
    if (at >= 0) this._idle.splice(at, 1);
    const item = slot.item;
    if (item !== null) {
      this._release(slot, item);
      if (item.cancelMsg !== undefined) item.future._cancelNow(item.cancelMsg);
      else {
        const label = jobLabel(item.job);
        const message = `the ${this.kind} worker running ${label} died (${how}) before the job settled; a fresh worker takes the next job`;
        item.future.setException(new BrokenExecutorError(message, label, { cause: error }));
      }
    }
    this._pump();
    this._checkDrained();
  }

  private _release(slot: Slot, item: Item): void {
    item.state = 'done';
    item.grace?.cancel();
    item.grace = null;
    item.slot = null;
    slot.item = null;
  }

  /** `ExecutorFuture.cancel`: a queued job is dropped; a running one is asked to stop, then ended. */
  cancel(item: Item, msg: string | undefined): boolean {
    if (item.state === 'done') return false;
    if (item.state === 'queued') {
      item.state = 'done';
      item.future._cancelNow(msg);
      this._checkDrained();
      return true;
    }
    if (item.state === 'cancelling') return true;
    item.state = 'cancelling';
    item.cancelMsg = msg ?? '';
    const slot = item.slot!;
    try {
      slot.channel.send({ t: 'cancel', id: item.id, reason: item.cancelMsg });
    } catch {
      // The worker is going away; its exit settles the job.
    }
    item.grace = getRunningLoop().callLater(this.graceMs, () => {
      item.grace = null;
      if (slot.item === item) void slot.channel.terminate();
    });
    return true;
  }

  /** Stops taking jobs; cancels the queued ones if asked; resolves once every worker has exited (if `wait`). */
  async shutdown(wait: boolean, cancelFutures: boolean): Promise<void> {
    this._shutdown = true;
    if (cancelFutures) {
      for (let i = this._head; i < this._queue.length; i++) {
        const item = this._queue[i]!;
        if (item.state === 'queued') this.cancel(item, 'the executor was shut down');
      }
    }
    const gone = new Promise<void>((resolve) => this._drained.push(resolve));
    this._checkDrained();
    if (wait) await gone;
  }

  /** After shutdown, once no job is queued or running: end the idle workers, then tell the waiters. */
  private _checkDrained(): void {
    if (!this._shutdown || this._hasQueued()) return;
    for (const slot of this._slots) if (slot.item !== null) return;
    for (const slot of this._idle.splice(0)) void slot.channel.terminate();
    if (this._slots.size > 0) return; // each exit calls back here
    for (const resolve of this._drained.splice(0)) resolve();
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof CancelledError || (error as { name?: unknown } | null)?.name === 'AbortError';
}
