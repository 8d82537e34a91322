/**
 * Private: the scheduling under both executors, after the work queue and
 * worker management of `concurrent.futures.thread`/`process`.
 *
 * Jobs wait in one FIFO queue, the core's wait-queue (`ParkingLot`); a
 * worker runs one job at a time; workers are started on demand up to
 * `maxWorkers`. An idle worker does not keep the process alive. A worker that
 * dies fails only the job it was running, with `BrokenExecutorError`, and a
 * fresh one is started when work is waiting.
 *
 * Each job is a cancel scope (`Item`), opened on the submitter's signal and
 * ended when the job is done. Whatever cancels it — the signal, the future's
 * `cancel()`, `shutdown({ cancelFutures })` — takes the one path of the
 * scope's action: a queued job leaves the queue at once (its wait there is
 * linked to the scope's signal) and never runs; a running job is sent the
 * cancellation (its signal aborts in the worker), and the scope's deadline
 * becomes the grace period: if the job has not ended by then, the worker is
 * ended and the future settles cancelled.
 *
 * @module
 */

import type { TransferListItem } from 'node:worker_threads';
import { CancelledError, InvalidStateError } from '../exceptions.js';
import { CancelScope, ParkingLot, now } from '../_lowlevel.js';
import { closureHint, jobLabel } from './_job.js';
import type { Channel, ChannelEvents } from './_spawn.js';
import { unwireError, type FromWorker, type JobSpec } from './_wire.js';
import { BrokenExecutorError } from './errors.js';
import type { ExecutorFuture, JobControl } from './future.js';

/** How a pool starts its workers. */
export type Starter = (events: ChannelEvents) => Channel;

let nextId = 1;

/** One submitted job, and its cancel scope. */
class Item extends CancelScope implements JobControl {
  readonly id = nextId++;
  slot: Slot | null = null;
  state: 'queued' | 'running' | 'done' = 'queued';
  /** The message the future is cancelled with, once the job was cancelled. */
  cancelMsg: string | undefined;

  constructor(
    readonly pool: Pool,
    readonly future: ExecutorFuture<any>,
    readonly job: JobSpec,
    readonly args: unknown[],
    readonly transfer: readonly TransferListItem[],
    readonly chunk: boolean,
  ) {
    super();
  }

  /** `ExecutorFuture.cancel`: false once the job is done; a second cancel of a running job changes nothing. */
  cancelJob(msg: string | undefined): boolean {
    if (this.state === 'done') return false;
    if (!this.aborted) {
      this.cancelMsg = msg;
      this.cancel(new CancelledError(msg ?? ''));
    }
    return true;
  }

  running(): boolean {
    return this.state === 'running';
  }

  /** The submitter's signal aborted: as `future.cancel()`. */
  override _onSignal(): void {
    this.cancelJob(undefined);
  }

  override _onCancel(): void {
    this.pool.cancelled(this);
  }

  /** The grace period after the cancellation of a running job passed. */
  override _onDeadline(): void {
    this.pool.overdue(this);
  }
}

/**
 * What a queued job's wait comes to is handled elsewhere: taken from the
 * head of the queue, the job is sent there and then (`Pool._pump`);
 * cancelled, its scope's action settles the future (`Pool.cancelled`).
 */
function ignore(): void {}

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
  /** Jobs waiting for a worker, in submit order; a cancelled one leaves at once. */
  private readonly _queue = new ParkingLot<void>('executor job');
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

  /** Queues a job for `future` and starts it if a worker is free; aborting `signal` (not aborted yet) cancels it. */
  submit(
    future: ExecutorFuture<any>,
    job: JobSpec,
    args: unknown[],
    transfer: readonly TransferListItem[],
    chunk: boolean,
    signal?: AbortSignal,
  ): void {
    if (this._shutdown)
      throw new InvalidStateError(`${this.kind}.submit: cannot schedule new jobs after shutdown`);
    const item = new Item(this, future, job, args, transfer, chunk);
    future._control = item;
    if (signal !== undefined) item.open(signal, null);
    const slot = this._queue.size === 0 ? this._freeSlot() : null;
    if (slot !== null) this._dispatch(item, slot);
    else this._queue.park(item.signal, item).then(undefined, ignore);
  }

  /** Workers alive, jobs waiting, jobs running. */
  stats(): { workers: number; queued: number; running: number } {
    let running = 0;
    for (const slot of this._slots) if (slot.item !== null) running++;
    return { workers: this._slots.size, queued: this._queue.size, running };
  }

  /** An idle worker, or a new one if the limit allows; `null` if every worker is busy. */
  private _freeSlot(): Slot | null {
    const idle = this._idle.pop();
    if (idle !== undefined) return idle;
    if (this._slots.size >= this.maxWorkers) return null;
    const slot = new Slot(this);
    slot.channel = this._start(slot);
    this._slots.add(slot);
    return slot;
  }

  /** Hands waiting jobs to idle workers, starting workers up to the limit. */
  private _pump(): void {
    while (this._queue.size > 0) {
      const slot = this._freeSlot();
      if (slot === null) return;
      const item = this._queue.headPayload() as Item;
      this._queue.unparkOne(undefined);
      this._dispatch(item, slot);
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
      item.end();
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
    item.end();
    item.slot = null;
    slot.item = null;
  }

  /**
   * The action of a job's scope: a queued job (its wait has already left
   * the queue) is dropped; a running one is asked to stop, and ended after
   * the grace period (the scope's deadline).
   */
  cancelled(item: Item): void {
    if (item.state === 'queued') {
      item.state = 'done';
      item.end();
      item.future._cancelNow(item.cancelMsg);
      this._checkDrained();
      return;
    }
    item.cancelMsg ??= '';
    try {
      item.slot!.channel.send({ t: 'cancel', id: item.id, reason: item.cancelMsg });
    } catch {
      // The worker is going away; its exit settles the job.
    }
    item.reschedule(now() + this.graceMs);
  }

  /** The grace period of a cancelled running job passed: end its worker (the exit settles the job). */
  overdue(item: Item): void {
    const slot = item.slot;
    if (slot !== null && slot.item === item) void slot.channel.terminate();
  }

  /** Stops taking jobs; cancels the queued ones if asked; resolves once every worker has exited (if `wait`). */
  async shutdown(wait: boolean, cancelFutures: boolean): Promise<void> {
    this._shutdown = true;
    if (cancelFutures) {
      while (this._queue.size > 0)
        (this._queue.headPayload() as Item).cancelJob('the executor was shut down');
    }
    const gone = new Promise<void>((resolve) => this._drained.push(resolve));
    this._checkDrained();
    if (wait) await gone;
  }

  /** After shutdown, once no job is queued or running: end the idle workers, then tell the waiters. */
  private _checkDrained(): void {
    if (!this._shutdown || this._queue.size > 0) return;
    for (const slot of this._slots) if (slot.item !== null) return;
    for (const slot of this._idle.splice(0)) void slot.channel.terminate();
    if (this._slots.size > 0) return; // each exit calls back here
    for (const resolve of this._drained.splice(0)) resolve();
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof CancelledError || (error as { name?: unknown } | null)?.name === 'AbortError';
}
