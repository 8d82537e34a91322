/**
 * `DistributedQueue`: the core `Queue`'s surface on a NATS JetStream
 * work-queue stream, shared by every process that opens the same name.
 *
 * What differs from `Queue`, and why (docs/distributed-queue.md has more):
 * - delivery is at least once: an item whose consumer dies, or that is not
 *   marked done within `ackWait`, is delivered again, to any consumer, so
 *   handlers must be idempotent; each delivery counts (`receive()` shows
 *   `deliveryCount`) and after `maxDeliveries` the item is moved to the
 *   dead-letter stream instead;
 * - `qsize()`, `empty()`, `full()`, `putNowait()`, `getNowait()` and
 *   `shutdown()` ask the server, so they return promises; sizes are a
 *   snapshot that other processes change at once;
 * - `taskDone()` marks an item taken *by this handle*: without an argument
 *   the oldest one not yet done, `taskDone(item)` that item;
 * - `join()` and `shutdown()` are the queue's, not the handle's: `join` waits
 *   until every item put by anyone is done, `shutdown` reaches every handle;
 * - items travel through a codec (JSON by default).
 *
 * @module
 */

import type { Consumer, JsMsg, StreamInfo } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { DiscardPolicy, RetentionPolicy, StorageType, headers, nuid } from './_driver.js';
import {
  CancelledError,
  InvalidStateError,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  cancelledFrom,
} from '../exceptions.js';
import { CancelScope, ParkingLot, checkCount, checkSignal, describe, now } from '../_lowlevel.js';
import { untilShutDown } from '../queues.js';
import { JsonCodec, decodeWith, encodeWith, type Codec } from './codec.js';
import type { Connection } from './connection.js';
import { Delivery } from './delivery.js';
import { CodecError, NatsError } from './errors.js';
import {
  NO_RECORD,
  afterHandBack,
  afterTaken,
  effectiveCount,
  encodeRecord,
  parseRecord,
  type HandBackRecord,
} from './_handback.js';
import { layoutOf, type Layout } from './_layout.js';
import { StreamFull, publishOnce } from './_publish.js';
import { Receiver } from './_receiver.js';
import { checkReplicas, ensureConsumer, ensureStream, isNotFound, readState } from './_streams.js';
import { Timer } from './_timer.js';

/** Options of `DistributedQueue.open`. */
export interface DistributedQueueOptions<T> {
  /**
   * Most items the queue holds, taken-but-not-done ones included (0: no
   * limit). A put waits while it is full. Default: the existing queue's, or 0
   * for a new one; a different value for an existing queue is an error.
   */
  maxsize?: number;
  /** How items become message bytes and back (default `new JsonCodec()`). */
  codec?: Codec<T>;
  /** How long a taken item may stay not done before it is delivered again, in ms (default: the queue's, else 30,000). */
  ackWait?: number;
  /** Deliveries after which an item is moved to the dead-letter stream instead (default 5). */
  maxDeliveries?: number;
  /** Items this handle may take ahead of its gets, for throughput (default 0: only for waiting gets). */
  prefetch?: number;
  /** Where the server keeps the items of a new queue (default `'file'`). */
  storage?: 'file' | 'memory';
  /**
   * Copies of a new queue's streams in a JetStream cluster: the items, dead
   * letters, hand-back records and state, and the consumer with them
   * (default 1; 3 in production, to survive the loss of a server). 1 to 5; an
   * existing queue keeps its own.
   */
  replicas?: number;
  /** How long a put waits for the server's confirmation, in ms (default 5,000). */
  putTimeout?: number;
  /** Aborting it abandons the open (`CancelledError`). */
  signal?: AbortSignal;
}

/** Options of `put` and `putNowait`. */
export interface PutOptions {
  /** Aborting it ends the wait with `CancelledError`; an item the server already stored stays. */
  signal?: AbortSignal;
  /** The message id: a second put with the same id within 2 minutes is dropped by the server (default: a new id). */
  id?: string;
}

/** Options of the waits `get`, `receive`, `join`. */
export interface WaitOptions {
  signal?: AbortSignal;
}

/** What `statistics()` shows of one handle. */
export interface DistributedQueueStatistics {
  /** Gets waiting on this handle. */
  getters: number;
  /** Puts waiting on this handle for room in a full queue. */
  putters: number;
  /** Joins waiting on this handle. */
  joiners: number;
  /** Items delivered to this handle ahead of a get (`prefetch`). */
  buffered: number;
  /** Items taken through this handle and not yet done. */
  unfinished: number;
  /**
   * Deliveries that reached this handle when no get was left to take them
   * (cancelled as they arrived, or prefetched and the handle closed), handed
   * back at once. They do not count in the items' `deliveryCount`.
   */
  handedBack: number;
  shutdown: boolean;
}

const MIN_POLL_MS = 5;
const MAX_POLL_MS = 100;
/** How long `getNowait` waits for an item the server said was there. */
const GET_NOWAIT_MS = 1000;

interface Resolved<T> {
  maxsize: number;
  codec: Codec<T>;
  ackWait: number;
  maxDeliveries: number;
  prefetch: number;
  putTimeout: number;
  shutdown: false | 'drain' | 'immediate';
}

/**
 * A queue shared by every process that opens the same name on the same NATS
 * system: the core `Queue`'s methods (`put`, `get`, `taskDone`, `join`,
 * `shutdown`, `for await`) with at-least-once delivery. Same role as Celery's
 * or arq's queues, with asyncio's API.
 *
 * @example Producer and consumer through NATS
 * ```ts
 * import { connect, DistributedQueue } from 'tsaio/nats';
 * await using conn = await connect();
 * const q = await DistributedQueue.open<number>(conn, `doc-queue-${process.pid}`, { maxsize: 5 });
 * for (let i = 0; i < 3; i++) await q.put(i);
 * await q.shutdown(); // every handle's `for await` ends once the queue is drained
 * for await (const item of q) {
 *   console.log(item); // 0, 1, 2
 *   q.taskDone();
 * }
 * await q.join();
 * await q.destroy();
 * ```
 */
export class DistributedQueue<T> implements AsyncIterable<T>, AsyncDisposable {
  private readonly _outstanding = new Set<Delivery<T>>();
  // A put woken for room and cancelled before it resumed passes the room on.
  private readonly _roomWaiters = new ParkingLot<void>('DistributedQueue.put', {
    giveBack: () => this._releaseRoom(),
  });
  /** Puts woken for room whose publish has not been answered yet: the room they were given is theirs. */
  private _roomClaims = 0;
  private readonly _joiners = new ParkingLot<void>('DistributedQueue.join');
  private readonly _poller = new Timer(() => void this._poll());
  private _pollMs = MIN_POLL_MS;
  private _polling = false;
  private readonly _receiver: Receiver;
  /** Dead-letter moves and record deletions under way: `close()` waits for them. */
  private readonly _chores = new Set<Promise<void>>();
  /** Items taken through this handle that have a hand-back record, to delete once they are done (after this write). */
  private readonly _forgetHandBacks = new Map<number, Promise<void>>();
  private readonly _ctl: Subscription;
  private readonly _undo: (() => unknown)[] = [];
  private _shutdown: false | 'drain' | 'immediate';
  private _closing: Promise<void> | null = null;
  readonly maxsize: number;
  readonly ackWait: number;
  readonly maxDeliveries: number;
  readonly codec: Codec<T>;
  private readonly _putTimeout: number;

  /** @internal Use `DistributedQueue.open`. */
  constructor(
    private readonly _conn: Connection,
    private readonly _layout: Layout,
    consumer: Consumer,
    opts: Resolved<T>,
  ) {
    this.maxsize = opts.maxsize;
    this.codec = opts.codec;
    this.ackWait = opts.ackWait;
    this.maxDeliveries = opts.maxDeliveries;
    this._putTimeout = opts.putTimeout;
    this._shutdown = opts.shutdown;
    this._receiver = new Receiver(consumer, opts.prefetch, {
      connected: () => _conn.connected,
      fatal: (e) => this._fatal(e),
      handingBack: (msg) => this._recordHandBack(msg),
      sweep: () => this._sweep(),
    });
    this._ctl = _conn.raw.subscribe(_layout.ctlSubject, {
      callback: (_err, msg) => this._onControl(msg.data),
    });
    this._undo.push(
      _conn._adopt(this),
      _conn._onReconnect(() => {
        this._receiver.restart();
        this._wake();
      }),
    );
  }

  /**
   * Opens the queue `name`, making its streams on the server if they do not
   * exist yet. Every process that opens the same name shares the same items.
   *
   * @param conn A connection from `connect()`.
   * @param name 1 to 200 letters, digits, `_` or `-`.
   * @param opts Size, codec, redelivery and storage options.
   * @returns The queue handle; `close()` (or `await using`) lets go of it, `destroy()` deletes the queue.
   * @throws {TypeError} For a bad name or codec.
   * @throws {RangeError} For a bad number.
   * @throws {InvalidStateError} If the queue exists with another `maxsize`, or the connection is closed.
   */
  static async open<T>(
    conn: Connection,
    name: string,
    opts: DistributedQueueOptions<T> = {},
  ): Promise<DistributedQueue<T>> {
    const layout = layoutOf(name, 'DistributedQueue.open');
    const signal = checkSignal(opts.signal, 'DistributedQueue.open');
    if (opts.maxsize !== undefined) checkCount(opts.maxsize, 'DistributedQueue.open', 'maxsize', 0);
    if (opts.ackWait !== undefined) checkCount(opts.ackWait, 'DistributedQueue.open', 'ackWait', 1);
    const maxDeliveries = checkCount(opts.maxDeliveries ?? 5, 'DistributedQueue.open', 'maxDeliveries', 1);
    const prefetch = checkCount(opts.prefetch ?? 0, 'DistributedQueue.open', 'prefetch', 0);
    const putTimeout = checkCount(opts.putTimeout ?? 5000, 'DistributedQueue.open', 'putTimeout', 1);
    const replicas = checkReplicas(opts.replicas, 'DistributedQueue.open');
    const codec = opts.codec ?? new JsonCodec<T>();
    if (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function') {
      throw new TypeError(
        `DistributedQueue.open: codec must have encode and decode methods, received ${describe(codec)}`,
      );
    }
    const storage = opts.storage ?? 'file';
    if (storage !== 'file' && storage !== 'memory') {
      throw new TypeError(
        `DistributedQueue.open: storage must be 'file' or 'memory', received ${describe(storage)}`,
      );
    }
    const step = (): void => {
      if (conn.closed) throw conn._closedError();
      if (signal?.aborted) throw cancelledFrom(signal.reason);
    };
    step();
    const common = {
      storage: storage === 'file' ? StorageType.File : StorageType.Memory,
      num_replicas: replicas,
    };
    const items = await ensureStream(conn, {
      ...common,
      name: layout.stream,
      subjects: [layout.subject],
      retention: RetentionPolicy.Workqueue,
      discard: DiscardPolicy.New,
      max_msgs: opts.maxsize ? opts.maxsize : -1,
    });
    const maxsize = Math.max(0, items.config.max_msgs);
    if (opts.maxsize !== undefined && opts.maxsize !== maxsize) {
      throw new InvalidStateError(
        `DistributedQueue.open: queue '${name}' exists with maxsize ${maxsize}, not ${opts.maxsize}`,
      );
    }
    step();
    await ensureStream(conn, { ...common, name: layout.deadStream, subjects: [layout.deadSubject] });
    await ensureStream(conn, {
      ...common,
      name: layout.handBackStream,
      subjects: [layout.handBackSubjects],
      max_msgs_per_subject: 1,
    });
    await ensureStream(conn, {
      ...common,
      name: layout.ctlStream,
      subjects: [layout.ctlSubject],
      max_msgs_per_subject: 1,
    });
    step();
    const ackWait = await ensureConsumer(conn, layout, opts.ackWait);
    const consumer = await conn.js.consumers.get(layout.stream, layout.consumer);
    const shutdown = await readState(conn, layout);
    step();
    return new DistributedQueue<T>(conn, layout, consumer, {
      maxsize,
      codec,
      ackWait,
      maxDeliveries,
      prefetch,
      putTimeout,
      shutdown,
    });
  }

  /** The queue's name. */
  get name(): string {
    return this._layout.name;
  }

  /** The JetStream stream holding the items. */
  get stream(): string {
    return this._layout.stream;
  }

  /** The stream where items delivered `maxDeliveries` times, or that do not decode, are moved. */
  get deadLetterStream(): string {
    return this._layout.deadStream;
  }

  /** The subject of the dead letters (headers `Tsaio-Reason`, `Tsaio-Deliveries`, `Tsaio-Seq`). */
  get deadLetterSubject(): string {
    return this._layout.deadSubject;
  }

  /**
   * Puts `item` at the end of the queue, waiting while the queue is full.
   * Resolves once the server has stored it.
   *
   * @param item The item (JSON by default).
   * @param opts `signal`; `id` to make a retry of this put safe.
   * @returns A promise that resolves once the item is stored.
   * @throws {QueueShutDown} Once the queue was shut down.
   * @throws {CodecError} If the codec cannot encode the item (nothing is sent).
   * @throws {ConnectionLostError} If the connection was lost before the server confirmed it.
   * @throws {TimeoutError} If the server did not confirm it within `putTimeout` (in a cluster,
   *   also when no stream leader took it meanwhile); its `id` makes a retry safe.
   * @throws {CancelledError} If `signal` aborts first.
   */
  async put(item: T, opts?: PutOptions): Promise<void> {
    await this._put(item, opts, false);
  }

  /**
   * Puts `item` if the queue has room now; never waits for room. Unlike
   * `Queue.putNowait`, it returns a promise: the server decides.
   *
   * @throws {QueueFull} If the queue holds `maxsize` items.
   * @throws {QueueShutDown} Once the queue was shut down.
   */
  async putNowait(item: T, opts?: PutOptions): Promise<void> {
    await this._put(item, opts, true);
  }

  /** @internal A put; resolves with the item's sequence number in the stream. */
  async _put(item: T, opts: PutOptions | undefined, nowait: boolean): Promise<number> {
    const signal = checkSignal(opts?.signal, 'DistributedQueue.put');
    const id = opts?.id ?? nuid.next();
    if (typeof id !== 'string' || id === '') {
      throw new TypeError(`DistributedQueue.put: id must be a non-empty string, received ${describe(id)}`);
    }
    this._checkOpen();
    if (this._shutdown !== false) throw new QueueShutDown();
    if (signal?.aborted) throw cancelledFrom(signal.reason);
    const data = encodeWith(this.codec, item);
    let claim = false; // woken for room: one slot counted as this put's until its publish is answered
    for (;;) {
      try {
        await this._conn._whenConnected(signal);
        if (this._shutdown !== false) throw new QueueShutDown();
        const ack = await publishOnce(this._conn, this._layout.subject, data, {
          id,
          timeout: this._putTimeout,
          signal,
          what: `put to queue '${this.name}'`,
        });
        return ack.seq;
      } catch (error) {
        if (!(error instanceof StreamFull)) throw error;
      } finally {
        if (claim) {
          this._roomClaims--;
          this._wake(); // the room it did not use, if any, goes to the next put
        }
      }
      if (nowait) throw new QueueFull(`queue '${this.name}' holds ${this.maxsize} items (its maxsize)`);
      await this._waitFor(this._roomWaiters, signal);
      claim = true;
    }
  }

  /**
   * Takes the next item, waiting while the queue is empty. The item stays in
   * the queue, invisible to others, until `taskDone()` (or `ackWait` passes).
   *
   * @returns The item.
   * @throws {QueueShutDown} Once the queue was shut down and is drained.
   * @throws {CodecError} If the message does not decode (it was moved to the dead-letter stream).
   * @throws {CancelledError} If `signal` aborts first; nothing is taken.
   */
  async get(opts?: WaitOptions): Promise<T> {
    return (await this.receive(opts)).value;
  }

  /**
   * Like `get`, but resolves with the `Delivery`: the item, its delivery
   * count, and `done()` / `retry()` to settle this very item.
   *
   * @throws {QueueShutDown} Once the queue was shut down and is drained.
   * @throws {CodecError} If the message does not decode (it was moved to the dead-letter stream).
   * @throws {CancelledError} If `signal` aborts first; nothing is taken.
   */
  async receive(opts?: WaitOptions): Promise<Delivery<T>> {
    const signal = checkSignal(opts?.signal, 'DistributedQueue.get');
    this._checkOpen();
    for (;;) {
      if (signal?.aborted) throw cancelledFrom(signal.reason);
      if (this._shutdown === 'immediate') throw new QueueShutDown();
      if (this._shutdown === 'drain') this._wake(); // the poller ends the wait once the queue is drained
      const msg = await this._receiver.next(signal);
      const record = msg.info.deliveryCount > 1 ? await this._recordOf(msg) : NO_RECORD;
      if (signal?.aborted) {
        this._receiver.handOn(msg); // cancelled while its record was read: it takes nothing
        throw cancelledFrom(signal.reason);
      }
      const delivery = this._admit(msg, record);
      if (delivery !== null) return delivery;
    }
  }

  /**
   * Takes an item if one is waiting in the queue now. Unlike
   * `Queue.getNowait`, it returns a promise: it asks the server, and waits at
   * most a second for an item the server said was there.
   *
   * @throws {QueueEmpty} If no item is waiting.
   * @throws {QueueShutDown} If the queue was shut down and is drained.
   */
  async getNowait(): Promise<T> {
    this._checkOpen();
    if (this._receiver.buffered === 0) {
      if (this._shutdown === 'immediate') throw new QueueShutDown();
      if ((await this.qsize()) === 0) {
        if (this._shutdown !== false) throw new QueueShutDown();
        throw new QueueEmpty(`queue '${this.name}' has no item waiting`);
      }
    }
    const scope = new CancelScope().open(undefined, now() + GET_NOWAIT_MS);
    try {
      return await this.get({ signal: scope.signal });
    } catch (error) {
      if (error instanceof CancelledError && scope.aborted) {
        throw new QueueEmpty(`queue '${this.name}' had no item left by the time this get reached it`);
      }
      throw error;
    } finally {
      scope.end();
    }
  }

  /**
   * Marks an item taken through this handle as processed: the server removes
   * it. Without an argument, the oldest one not yet done; with `item`, the
   * one `get` returned (the same object, or an equal primitive).
   *
   * @throws {RangeError} If this handle holds no such item.
   */
  taskDone(...item: [] | [T]): void {
    let found: Delivery<T> | undefined;
    for (const d of this._outstanding) {
      if (item.length === 0 || Object.is(d.value, item[0])) {
        found = d;
        break;
      }
    }
    if (found === undefined) {
      throw new RangeError(
        item.length === 0
          ? `DistributedQueue.taskDone: no item taken through this handle of '${this.name}' is waiting to be marked done`
          : `DistributedQueue.taskDone: ${describe(item[0])} is not an item taken through this handle of '${this.name}' and not yet done`,
      );
    }
    found.done();
  }

  /**
   * Waits until every item put in the queue, by any process, has been
   * marked done (the queue's stream is empty).
   *
   * @throws {CancelledError} If `signal` aborts first.
   */
  async join(opts?: WaitOptions): Promise<void> {
    const signal = checkSignal(opts?.signal, 'DistributedQueue.join');
    this._checkOpen();
    await this._waitFor(this._joiners, signal);
  }

  /** Items waiting to be taken (not yet delivered to any consumer), as the server counts them now. */
  async qsize(): Promise<number> {
    this._checkOpen();
    const info = await this._conn.jsm.consumers.info(this._layout.stream, this._layout.consumer);
    return info.num_pending + this._receiver.buffered;
  }

  /** True if no item waits to be taken. */
  async empty(): Promise<boolean> {
    return (await this.qsize()) === 0;
  }

  /** True if the queue holds `maxsize` items (taken-but-not-done ones included); never when `maxsize` is 0. */
  async full(): Promise<boolean> {
    if (this.maxsize <= 0) return false;
    return (await this._streamInfo()).state.messages >= this.maxsize;
  }

  /**
   * Shuts the queue down, for every handle of every process: puts fail with
   * `QueueShutDown` from now on, and gets once the queue is drained (no item
   * left that could still be delivered). With `immediate`, the items still
   * in the queue are dropped and gets fail at once. Same as
   * `asyncio.Queue.shutdown` (3.13). A shut-down queue stays shut down;
   * `destroy()` deletes it.
   *
   * @returns A promise that resolves once every handle has been told.
   */
  async shutdown(immediate = false): Promise<void> {
    this._checkOpen();
    this._applyShutdown(immediate);
    const state = JSON.stringify({
      state: 'shutdown',
      immediate: Boolean(immediate),
      at: new Date().toISOString(),
    });
    await publishOnce(this._conn, this._layout.ctlSubject, new TextEncoder().encode(state), {
      id: nuid.next(),
      timeout: this._putTimeout,
      signal: undefined,
      what: `shutdown of queue '${this.name}'`,
    });
    if (immediate) {
      await this._conn.jsm.streams.purge(this._layout.stream);
      await this._conn.jsm.streams.purge(this._layout.handBackStream);
    }
    this._wake();
  }

  /** Yields items until the queue is shut down and drained. Call `taskDone()` for each. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    return untilShutDown(() => this.get());
  }

  /** What this handle is doing now. */
  statistics(): DistributedQueueStatistics {
    return {
      getters: this._receiver.waiting,
      putters: this._roomWaiters.size,
      joiners: this._joiners.size,
      buffered: this._receiver.buffered,
      unfinished: this._outstanding.size,
      handedBack: this._receiver.handedBack,
      shutdown: this._shutdown !== false,
    };
  }

  /**
   * Lets go of this handle: waiting calls reject with `InvalidStateError`,
   * and items taken through it but not marked done are handed back to the
   * queue at once (another consumer gets them). The queue and its items
   * stay on the server. Safe to call twice.
   */
  close(): Promise<void> {
    this._closing ??= (async () => {
      this._poller.stop();
      const closed = (): InvalidStateError =>
        new InvalidStateError(`this handle of queue '${this.name}' is closed`);
      this._roomWaiters.rejectAll(closed);
      this._joiners.rejectAll(closed);
      const pullsEnded = this._receiver.close(closed);
      for (const d of [...this._outstanding]) d.retry();
      for (const undo of this._undo) undo();
      this._ctl.unsubscribe();
      await pullsEnded; // what was on its way to this handle is handed back too
      while (this._chores.size > 0) await Promise.all([...this._chores]);
      if (!this._conn.raw.isClosed()) await this._conn.raw.flush().catch(() => {});
    })();
    return this._closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Closes this handle and deletes the queue from the server: its items, dead letters, state and hand-back records. */
  async destroy(): Promise<void> {
    await this.close();
    const { stream: items, deadStream, ctlStream, handBackStream } = this._layout;
    for (const stream of [items, deadStream, ctlStream, handBackStream]) {
      await this._conn.jsm.streams.delete(stream).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    }
  }

  toString(): string {
    const s = this.statistics();
    const parts = [`name=${this.name}`, `maxsize=${this.maxsize}`];
    if (s.getters > 0) parts.push(`getters=${s.getters}`);
    if (s.putters > 0) parts.push(`putters=${s.putters}`);
    if (s.unfinished > 0) parts.push(`unfinished=${s.unfinished}`);
    if (s.shutdown) parts.push('shutdown');
    if (this._closing !== null) parts.push('closed');
    return `<DistributedQueue ${parts.join(' ')}>`;
  }

  private _checkOpen(): void {
    if (this._closing !== null) throw new InvalidStateError(`this handle of queue '${this.name}' is closed`);
    if (this._conn.closed) throw this._conn._closedError();
  }

  /**
   * A message that reached a getter: its delivery, or `null` if it was moved
   * to the dead letters. `record` lists its earlier deliveries that reached
   * nobody: they do not count.
   */
  private _admit(msg: JsMsg, record: HandBackRecord): Delivery<T> | null {
    const count = effectiveCount(msg.info.deliveryCount, record);
    if (record.handedBack.length > 0) {
      const taken = afterTaken(record, msg.info.deliveryCount);
      const stored = taken === null ? Promise.resolve() : this._storeRecord(msg, taken);
      this._background(stored);
      this._forgetHandBacks.set(msg.seq, stored);
    }
    if (count > this.maxDeliveries) {
      this._deadLetter(msg, `delivered ${count} times (maxDeliveries is ${this.maxDeliveries})`, count);
      return null;
    }
    let value: T;
    try {
      value = decodeWith(this.codec, msg.data);
    } catch (error) {
      this._deadLetter(msg, (error as CodecError).message, count);
      throw error;
    }
    const delivery = new Delivery(value, msg, count, (d, done) => {
      this._outstanding.delete(d);
      if (done) this._forgetHandBack(d.seq);
    });
    this._outstanding.add(delivery);
    return delivery;
  }

  /** The hand-back record of `msg`'s item (none on a first delivery). */
  private async _recordOf(msg: JsMsg): Promise<HandBackRecord> {
    if (msg.info.deliveryCount <= 1) return NO_RECORD;
    try {
      const stored = await this._conn.jsm.streams.getMessage(this._layout.handBackStream, {
        last_by_subj: this._layout.handBackSubject(msg.seq),
      });
      return parseRecord(stored?.data);
    } catch {
      return NO_RECORD; // no record (or the server did not answer): every delivery counts
    }
  }

  /** `msg` reached this handle with no get left to take it: records that delivery, before it is handed back. */
  private async _recordHandBack(msg: JsMsg): Promise<void> {
    await this._storeRecord(msg, afterHandBack(await this._recordOf(msg), msg.info.deliveryCount));
  }

  /** Stores `record` as the hand-back record of `msg`'s item; never rejects. */
  private async _storeRecord(msg: JsMsg, record: HandBackRecord): Promise<void> {
    const data = encodeRecord(record);
    try {
      await publishOnce(this._conn, this._layout.handBackSubject(msg.seq), data, {
        id: nuid.next(),
        timeout: this._putTimeout,
        signal: undefined,
        what: `hand-back record of queue '${this.name}'`,
      });
    } catch {
      // not recorded: the deliveries it would have named count (+1), nothing worse
    }
  }

  /** The item `seq` is gone from the queue: deletes its hand-back record, if it had one. */
  private _forgetHandBack(seq: number): void {
    const written = this._forgetHandBacks.get(seq);
    if (written === undefined) return;
    this._forgetHandBacks.delete(seq);
    const filter = this._layout.handBackSubject(seq);
    this._background(
      written.then(() => {
        if (!this._conn.raw.isClosed())
          return this._conn.jsm.streams.purge(this._layout.handBackStream, { filter });
      }),
    );
  }

  /** Keeps `work` until it settles: `close()` waits for it. */
  private _background(work: Promise<unknown>): void {
    const settled = work.then(
      () => {},
      () => {},
    );
    this._chores.add(settled);
    void settled.then(() => this._chores.delete(settled));
  }

  /** Asks the server about the consumer, which makes it forget pull requests nobody listens to (see `_receiver.ts`). */
  private async _sweep(): Promise<void> {
    if (!this._conn.connected) return;
    try {
      await this._conn.jsm.consumers.info(this._layout.stream, this._layout.consumer);
    } catch {
      // the server is away or the queue is gone: nothing to sweep
    }
  }

  /**
   * @internal Moves the item of `delivery` to the dead-letter stream with
   * `reason` and removes it from the queue (a job that is not one, say).
   */
  _reject(delivery: Delivery<T>, reason: string): void {
    if (delivery.settled) return;
    delivery._detach();
    this._outstanding.delete(delivery);
    this._deadLetter(delivery._raw, reason, delivery.deliveryCount);
  }

  /** Moves `msg` to the dead-letter stream, then removes it from the queue. */
  private _deadLetter(msg: JsMsg, reason: string, count: number): void {
    const h = headers();
    for (const [key, values] of msg.headers ?? []) {
      if (!key.startsWith('Nats-')) for (const v of values) h.append(key, v);
    }
    h.set('Tsaio-Reason', reason);
    h.set('Tsaio-Deliveries', String(count));
    h.set('Tsaio-Seq', String(msg.seq));
    const moved = publishOnce(this._conn, this._layout.deadSubject, msg.data, {
      id: `${this._layout.stream}-${msg.seq}`, // a second move of the same item is dropped
      headers: h,
      timeout: this._putTimeout,
      signal: undefined,
      what: `dead letter of queue '${this.name}'`,
    }).then(
      () => {
        msg.ack();
        this._forgetHandBack(msg.seq);
      },
      () => {}, // not moved: the item stays and is delivered (and moved) again after ackWait
    );
    this._background(moved);
  }

  private _fatal(error: unknown): Error | null {
    const message = (error as Error).message ?? '';
    if (!/deleted|not found|no responders/i.test(message)) return null;
    return new NatsError(`queue '${this.name}' is gone from the server (${message})`, { cause: error });
  }

  private _onControl(data: Uint8Array): void {
    try {
      const state = JSON.parse(new TextDecoder().decode(data)) as { state?: string; immediate?: boolean };
      if (state.state === 'shutdown') this._applyShutdown(state.immediate === true);
    } catch {
      // not ours: ignore
    }
  }

  private _applyShutdown(immediate: boolean): void {
    if (this._shutdown === 'immediate' || (this._shutdown === 'drain' && !immediate)) return;
    this._shutdown = immediate ? 'immediate' : 'drain';
    this._roomWaiters.rejectAll(() => new QueueShutDown());
    if (immediate) {
      this._receiver.dropBuffered();
      this._receiver.rejectWaiters(() => new QueueShutDown());
    }
    this._wake();
  }

  /** Parks on `lot` (room or join) and makes sure the poller watches. */
  private _waitFor(lot: ParkingLot<void>, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelledFrom(signal.reason));
    const parked = lot.park(signal);
    this._wake();
    return parked;
  }

  /** Polls the server soon: something changed, or a new wait needs an answer. */
  private _wake(): void {
    if (this._closing !== null) return;
    this._pollMs = MIN_POLL_MS;
    if (!this._polling) this._poller.start(0);
  }

  /** Wakes the longest-waiting put: the room it was given counts as its own until its publish is answered. */
  private _wakePutter(): void {
    if (this._roomWaiters.size === 0) return;
    this._roomWaiters.unparkOne(undefined);
    this._roomClaims++;
  }

  /** A put woken for room was cancelled before it resumed: its room goes to the next one, or back. */
  private _releaseRoom(): void {
    this._roomClaims--;
    this._wakePutter();
  }

  private _hasPollers(): boolean {
    return (
      this._roomWaiters.size > 0 ||
      this._joiners.size > 0 ||
      (this._shutdown === 'drain' && this._receiver.waiting > 0)
    );
  }

  /** One look at the stream: room for putters, the end of a join, a drained shut-down queue. */
  private async _poll(): Promise<void> {
    if (this._closing !== null || !this._hasPollers()) return;
    this._polling = true;
    let messages: number | null = null;
    try {
      if (this._conn.connected) messages = (await this._streamInfo()).state.messages;
    } catch {
      // the server is away: look again later
    }
    this._polling = false;
    if (this._closing !== null) return;
    if (messages !== null) {
      // As many puts as there is room for, less the room already given to woken puts still publishing.
      const room = this.maxsize <= 0 ? Infinity : this.maxsize - messages - this._roomClaims;
      for (let i = 0; i < room && this._roomWaiters.size > 0; i++) this._wakePutter();
      if (messages === 0) this._joiners.unparkAll(undefined);
      const drained = messages - this._outstanding.size <= 0 && this._receiver.buffered === 0;
      if (this._shutdown === 'drain' && drained) this._receiver.rejectWaiters(() => new QueueShutDown());
    }
    if (!this._hasPollers()) return;
    this._poller.start(this._pollMs);
    this._pollMs = Math.min(MAX_POLL_MS, this._pollMs * 2);
  }

  private _streamInfo(): Promise<StreamInfo> {
    return this._conn.jsm.streams.info(this._layout.stream);
  }
}
