/**
 * Private: how one queue handle takes messages from its JetStream consumer.
 *
 * Pulls follow demand: the handle asks the server for as many messages as it
 * has waiting getters (plus `prefetch`), with the official client's `fetch`.
 * A message goes straight to the longest-waiting getter; with no getter it is
 * kept (up to `prefetch`) or handed back to the stream.
 *
 * A getter that is cancelled takes nothing. When the handle then has asked
 * for more than it wants, it stops its pulls and asks again for what it
 * wants (once per turn of the timers, however many getters left). A pull is
 * stopped by draining its subscription: the client tells the server it no
 * longer listens (the server drops a pull request nobody listens to, so
 * nothing more is delivered for it), and every message the server sent
 * before it heard so still arrives and is routed as above — none is dropped
 * on the way, to come back only after `ackWait`.
 *
 * Handing back. JetStream counts a delivery when it sends a message, and a
 * message given back (`nak`) is delivered again with its count grown by
 * one; it cannot be un-counted. So a message that reached this handle with
 * no getter left to take it (its getter was cancelled as it arrived, or it
 * was prefetched and the handle closed) is kept for the next get of this
 * handle until the server has swept (below), then handed back once the queue
 * has recorded that this delivery reached nobody (`handingBack`), so that the
 * next get, here or anywhere, reports the item's delivery count unchanged and
 * never dead-letters it for deliveries nobody received (see `_handback.ts`).
 *
 * In a cluster, a pull request sent while its consumer has no leader (the
 * server leading it died, a new one is not elected yet) reaches nobody and
 * nobody answers: the pull would wait until it expires. Pulls ask for a
 * heartbeat every 2 s, and one that misses two ends and is made again.
 *
 * nats-server before 2.11 mishandles a message given back while the
 * consumer's only pending pull requests are ones nobody listens to any more
 * (ours, just stopped): it loses the message until `ackWait` and delivers
 * another one a second time. So the server is asked about the consumer
 * (`sweep`), which makes it forget such pull requests, after each stop and
 * before each hand-back.
 *
 * @module
 */

import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { cancelledFrom } from '../exceptions.js';
import { ParkingLot } from '../_lowlevel.js';
import { Timer } from './_timer.js';

/** What a receiver needs from its queue. */
export interface ReceiverHooks {
  /** True while the connection is up. */
  connected(): boolean;
  /** The error for a pull failure that will not pass by itself (the stream was deleted), else `null`. */
  fatal(error: unknown): Error | null;
  /** A message nobody took is about to be handed back (`nak`): records that its delivery reached nobody. Never rejects. */
  handingBack(msg: JsMsg): Promise<void>;
  /** Asks the server about the consumer: it forgets the pull requests nobody listens to. Never rejects. */
  sweep(): Promise<void>;
}

/** One pull request in flight: how many messages it asked for and how many came. */
interface Pull {
  batch: number;
  arrived: number;
  /** Stopped by us: what it still owed was already taken off `requested`. */
  stopped: boolean;
  /** How it was stopped: drained (messages in flight still arrive) or cut (after a reconnection). */
  drain: boolean;
  messages: ConsumerMessages | null;
  /** Settles once the pull has ended (its last message routed). */
  ended: Promise<void>;
}

/** The most messages one pull asks for. */
const MAX_BATCH = 256;
/** How long a pull waits at the server for messages (the client's minimum is 1,000 ms). */
const PULL_EXPIRES_MS = 30_000;
/**
 * How often the server tells a waiting pull it is still there. Two missed
 * heartbeats end the pull (and a new one is made): a pull request lost with
 * its consumer's leader, in a cluster, is noticed in seconds, not once it
 * would have expired.
 */
const PULL_HEARTBEAT_MS = 2000;
/** Wait before pulling again after a pull failed while connected. */
const RETRY_MS = 250;

export class Receiver {
  // A getter cancelled after a message was handed to it, before it resumed, hands the message on.
  private readonly _getters = new ParkingLot<JsMsg>('DistributedQueue.get', {
    giveBack: (msg) => this._reroute(msg),
  });
  private readonly _buffer: JsMsg[] = [];
  /** Messages nobody here took, waiting to be handed back (the next get here takes them first). */
  private readonly _returning: JsMsg[] = [];
  private _returnRun: Promise<void> | null = null;
  private readonly _sweeps = new Set<Promise<void>>();
  private readonly _pulls = new Set<Pull>();
  private _requested = 0;
  private _closed = false;
  private _handedBack = 0;
  private _pumpQueued = false;
  /** Pulls stopped by draining so far. */
  private _drains = 0;
  private readonly _retry = new Timer(() => this._pump());
  private readonly _shrinker = new Timer(() => this._shrinkNow());

  constructor(
    private readonly _consumer: Consumer,
    private readonly _prefetch: number,
    private readonly _hooks: ReceiverHooks,
  ) {}

  /** Messages delivered to this handle and not yet given to a getter. */
  get buffered(): number {
    return this._buffer.length + this._returning.length;
  }

  /** Getters waiting. */
  get waiting(): number {
    return this._getters.size;
  }

  /** Messages delivered to this handle that it handed back untouched. */
  get handedBack(): number {
    return this._handedBack;
  }

  /** The next message: a kept one at once, else the first one that arrives for this getter. */
  next(signal: AbortSignal | undefined): Promise<JsMsg> {
    const kept = this._returning.shift() ?? this._buffer.shift();
    if (kept !== undefined) {
      this._pumpSoon();
      return Promise.resolve(kept);
    }
    const parked = this._getters.park(signal);
    this._pumpSoon();
    if (signal === undefined) return parked;
    return parked.then(
      (msg) => {
        if (!signal.aborted) return msg;
        this._reroute(msg); // granted, but cancelled before it resumed: hand it on
        throw cancelledFrom(signal.reason);
      },
      (error: unknown) => {
        this._shrinkSoon();
        throw error;
      },
    );
  }

  /** A message given to a get that was cancelled after all: to the next getter, kept, or handed back. */
  handOn(msg: JsMsg): void {
    this._reroute(msg);
  }

  /** Rejects every waiting getter with `error()` (shutdown, close). */
  rejectWaiters(error: () => unknown): void {
    this._getters.rejectAll(error);
    this._shrinkSoon();
  }

  /** Drops the kept messages without handing them back (the stream was purged). */
  dropBuffered(): void {
    this._buffer.length = 0;
  }

  /** The connection came back: pulls made before it are void; ask again. */
  restart(): void {
    this._stopPulls(false);
    this._pump();
  }

  /**
   * Stops pulling, rejects the waiting getters and hands back the kept
   * messages and those still on their way; resolves once that is done.
   */
  async close(error: () => unknown): Promise<void> {
    this._closed = true;
    this._retry.stop();
    this._shrinker.stop();
    this._getters.rejectAll(error);
    const drained = this._pulls.size > 0 && this._hooks.connected();
    this._stopPulls(drained);
    await Promise.all([...this._pulls].map((p) => p.ended));
    for (const msg of this._buffer.splice(0)) this._handBack(msg);
    while (this._returnRun !== null) await this._returnRun;
    while (this._sweeps.size > 0) await Promise.all([...this._sweeps]);
    if (drained) await this._hooks.sweep(); // the server forgets the requests just stopped
  }

  /** Pumps once the current synchronous run is over: a burst of gets makes one pull, not one each. */
  private _pumpSoon(): void {
    if (this._pumpQueued) return;
    this._pumpQueued = true;
    queueMicrotask(() => {
      this._pumpQueued = false;
      this._pump();
    });
  }

  /** Asks for what the getters (and `prefetch`) want and no pull covers yet. */
  private _pump(): void {
    if (this._closed || !this._hooks.connected()) return;
    const have = this._buffer.length + this._requested;
    const want = this._getters.size + this._prefetch - have;
    // A getter nobody's pull covers is served at once; the prefetch window is topped up in halves, not per item.
    if (want > 0 && (this._getters.size > have || want >= Math.ceil(this._prefetch / 2)))
      this._pull(Math.min(want, MAX_BATCH));
  }

  /** A getter left: on the timers' next turn, shrink the pulls to what is still wanted. */
  private _shrinkSoon(): void {
    if (!this._closed && !this._shrinker.pending) this._shrinker.start(0);
  }

  /** If the pulls ask for more than is wanted, stop them and ask again. */
  private _shrinkNow(): void {
    if (this._closed) return;
    if (this._requested <= this._getters.size + this._prefetch - this._buffer.length) return;
    this._stopPulls(true);
    this._pump();
  }

  private _stopPulls(drain: boolean): void {
    let drained = false;
    for (const pull of this._pulls) {
      if (pull.stopped) continue;
      pull.stopped = true;
      pull.drain = drain;
      this._requested -= pull.batch - pull.arrived;
      if (pull.messages !== null) drained = this._stop(pull.messages, drain) || drained;
    }
    if (drained) this._sweepNow(); // sent after the unsubscriptions, on the same connection
  }

  /**
   * Stops a pull at the server. Draining unsubscribes and reads on until the
   * server has confirmed, so what it sent meanwhile still arrives; then the
   * server is asked to forget the request. The client's own `close()`
   * unsubscribes at once and drops what is in flight (after a reconnection,
   * where the request is void anyway).
   */
  private _stop(messages: ConsumerMessages, drain: boolean): boolean {
    // The client's fetch keeps its subscription in `sub` (@nats-io/jetstream 3.3, pinned in package.json).
    const sub = (messages as Partial<{ sub: Subscription }>).sub;
    if (!drain || sub === undefined || typeof sub.drain !== 'function' || sub.isClosed()) {
      void messages.close();
      return false;
    }
    this._drains++;
    sub.drain().catch(() => void messages.close());
    return true;
  }

  private _pull(batch: number): void {
    const pull: Pull = {
      batch,
      arrived: 0,
      stopped: false,
      drain: true,
      messages: null,
      ended: Promise.resolve(),
    };
    this._pulls.add(pull);
    this._requested += batch;
    pull.ended = this._run(pull).then((outcome) => this._ended(pull, outcome));
  }

  /** Runs one pull to its end; resolves with its error, if it failed. */
  private async _run(pull: Pull): Promise<unknown> {
    try {
      const messages = await this._consumer.fetch({
        max_messages: pull.batch,
        expires: PULL_EXPIRES_MS,
        idle_heartbeat: PULL_HEARTBEAT_MS,
      });
      pull.messages = messages;
      if (pull.stopped && this._stop(messages, pull.drain)) this._sweepNow();
      for await (const msg of messages) this._arrive(pull, msg);
      return await messages.closed();
    } catch (error) {
      return error;
    }
  }

  private _arrive(pull: Pull, msg: JsMsg): void {
    try {
      void msg.info; // the delivery's metadata, from its reply subject: only a real delivery has it
    } catch {
      return; // not a delivery of the consumer (a message forged onto the pull's inbox): ignore it
    }
    pull.arrived++;
    if (!pull.stopped) this._requested--;
    this._route(msg);
    // A message of a stopped pull served a getter that a live pull also asked for: ask for less.
    if (pull.stopped) this._shrinkSoon();
  }

  /** A message for this handle: to the longest-waiting getter, kept, or handed back. */
  private _route(msg: JsMsg): void {
    if (this._getters.unparkOne(msg)) return;
    if (!this._closed && this._buffer.length < this._prefetch) this._buffer.push(msg);
    else this._handBack(msg);
  }

  /** A message whose getter was cancelled before it resumed: to the next getter; the pulls shrink to what is wanted. */
  private _reroute(msg: JsMsg): void {
    this._route(msg);
    this._shrinkSoon();
  }

  /** Hands back a message nobody here took: kept for a get of this handle until the server has swept, then recorded and given back. */
  private _handBack(msg: JsMsg): void {
    this._returning.push(msg);
    this._returnRun ??= this._returnAll().finally(() => (this._returnRun = null));
  }

  private async _returnAll(): Promise<void> {
    while (this._returning.length > 0) {
      // A sweep sent after the last stop of ours: the server keeps no pull request of ours nobody listens to.
      let drains: number;
      do {
        drains = this._drains;
        await this._hooks.sweep();
      } while (drains !== this._drains);
      const messages = this._returning.splice(0);
      await Promise.all(messages.map((msg) => this._hooks.handingBack(msg)));
      for (const msg of messages) {
        this._handedBack++;
        try {
          msg.nak();
        } catch {
          // the connection is closed: the server hands the message out again after ackWait
        }
      }
    }
  }

  /** Sweeps now: the request follows the unsubscriptions just sent. */
  private _sweepNow(): void {
    if (this._closed) return; // close() sweeps last
    const sweep = this._hooks.sweep();
    this._sweeps.add(sweep);
    void sweep.then(() => this._sweeps.delete(sweep));
  }

  private _ended(pull: Pull, outcome: unknown): void {
    this._pulls.delete(pull);
    if (!pull.stopped) {
      pull.stopped = true;
      this._requested -= pull.batch - pull.arrived;
    }
    if (this._closed) return;
    if (outcome instanceof Error && this._hooks.connected()) {
      const fatal = this._hooks.fatal(outcome);
      if (fatal !== null) {
        // Every getter now waiting fails; the next get pulls again (and fails again if it still must).
        this._getters.rejectAll(() => fatal);
        return;
      }
      this._retry.start(RETRY_MS); // a passing failure: pull again shortly
      return;
    }
    this._pump();
  }
}
