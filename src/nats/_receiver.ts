/**
 * Private: how one queue handle takes messages from its JetStream consumer.
 *
 * Pulls follow demand: the handle asks the server for as many messages as it
 * has waiting getters (plus `prefetch`), with the official client's `fetch`.
 * A message goes straight to the longest-waiting getter; with no getter it is
 * kept (up to `prefetch`) or handed back to the stream at once (`nak`).
 *
 * A getter that is cancelled leaves no trace: when the handle then has asked
 * for more than it wants, it stops its pulls. Stopping a pull removes the
 * subscription its request answers to, and the server drops a pull request
 * nobody listens to, so nothing is delivered for the cancelled getter (its
 * item is not marked delivered, its delivery count does not grow). Only a
 * message the server had already sent before the stop reached it comes back
 * through the usual redelivery.
 *
 * @module
 */

import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { cancelledFrom } from '../exceptions.js';
import { ParkingLot } from '../_lowlevel.js';
import { Timer } from './_timer.js';

/** One pull request in flight: how many messages it asked for and how many came. */
interface Pull {
  batch: number;
  arrived: number;
  /** Stopped by us: what it still owed was already taken off `requested`. */
  stopped: boolean;
  messages: ConsumerMessages | null;
}

/** The most messages one pull asks for. */
const MAX_BATCH = 256;
/** How long a pull waits at the server for messages (the client's minimum is 1,000 ms). */
const PULL_EXPIRES_MS = 30_000;
/** Wait before pulling again after a pull failed while connected. */
const RETRY_MS = 250;

export class Receiver {
  // A getter cancelled after a message was handed to it, before it resumed, hands the message on.
  private readonly _getters = new ParkingLot<JsMsg>('DistributedQueue.get', {
    giveBack: (msg) => this._route(msg),
  });
  private readonly _buffer: JsMsg[] = [];
  private readonly _pulls = new Set<Pull>();
  private _requested = 0;
  private _closed = false;
  private readonly _retry = new Timer(() => this._pump());

  constructor(
    private readonly _consumer: Consumer,
    private readonly _prefetch: number,
    private readonly _connected: () => boolean,
    /** Called when a pull fails for a reason that will not pass by itself (the stream was deleted). */
    private readonly _fatal: (error: unknown) => Error | null,
  ) {}

  /** Messages delivered to this handle and not yet given to a getter. */
  get buffered(): number {
    return this._buffer.length;
  }

  /** Getters waiting. */
  get waiting(): number {
    return this._getters.size;
  }

  /** The next message: a kept one at once, else the first one that arrives for this getter. */
  next(signal: AbortSignal | undefined): Promise<JsMsg> {
    if (this._buffer.length > 0) {
      const msg = this._buffer.shift()!;
      this._pump();
      return Promise.resolve(msg);
    }
    const parked = this._getters.park(signal);
    this._pump();
    if (signal === undefined) return parked;
    return parked.then(
      (msg) => {
        if (!signal.aborted) return msg;
        this._route(msg); // granted, but cancelled before it resumed: hand it on
        throw cancelledFrom(signal.reason);
      },
      (error: unknown) => {
        this._shrink();
        throw error;
      },
    );
  }

  /** Rejects every waiting getter with `error()` (shutdown, close). */
  rejectWaiters(error: () => unknown): void {
    this._getters.rejectAll(error);
    this._shrink();
  }

  /** Drops the kept messages without handing them back (the stream was purged). */
  dropBuffered(): void {
    this._buffer.length = 0;
  }

  /** The connection came back: pulls made before it are void; ask again. */
  restart(): void {
    this._stopPulls();
    this._pump();
  }

  /** Stops pulling, hands back the kept messages and rejects the waiting getters. */
  close(error: () => unknown): void {
    this._closed = true;
    this._retry.stop();
    this._getters.rejectAll(error);
    this._stopPulls();
    for (const msg of this._buffer.splice(0)) msg.nak();
  }

  /** Asks for what the getters (and `prefetch`) want and no pull covers yet. */
  private _pump(): void {
    if (this._closed || !this._connected()) return;
    const have = this._buffer.length + this._requested;
    const want = this._getters.size + this._prefetch - have;
    // A getter nobody's pull covers is served at once; the prefetch window is topped up in halves, not per item.
    if (want > 0 && (this._getters.size > have || want >= Math.ceil(this._prefetch / 2)))
      this._pull(Math.min(want, MAX_BATCH));
  }

  /** After a getter left: if the pulls ask for more than is wanted, stop them and ask again. */
  private _shrink(): void {
    if (this._requested <= this._getters.size + this._prefetch - this._buffer.length) return;
    this._stopPulls();
    this._pump();
  }

  private _stopPulls(): void {
    for (const pull of this._pulls) {
      if (pull.stopped) continue;
      pull.stopped = true;
      this._requested -= pull.batch - pull.arrived;
      void pull.messages?.close();
    }
  }

  private _pull(batch: number): void {
    const pull: Pull = { batch, arrived: 0, stopped: false, messages: null };
    this._pulls.add(pull);
    this._requested += batch;
    void this._run(pull).then((outcome) => this._ended(pull, outcome));
  }

  /** Runs one pull to its end; resolves with its error, if it failed. */
  private async _run(pull: Pull): Promise<unknown> {
    try {
      const messages = await this._consumer.fetch({ max_messages: pull.batch, expires: PULL_EXPIRES_MS });
      pull.messages = messages;
      if (pull.stopped) void messages.close();
      for await (const msg of messages) this._arrive(pull, msg);
      return await messages.closed();
    } catch (error) {
      return error;
    }
  }

  private _arrive(pull: Pull, msg: JsMsg): void {
    pull.arrived++;
    if (!pull.stopped) this._requested--;
    this._route(msg);
  }

  /** A message for this handle: to the longest-waiting getter, kept, or handed back. */
  private _route(msg: JsMsg): void {
    if (this._getters.unparkOne(msg)) return;
    if (!this._closed && this._buffer.length < this._prefetch) this._buffer.push(msg);
    else msg.nak();
  }

  private _ended(pull: Pull, outcome: unknown): void {
    this._pulls.delete(pull);
    if (!pull.stopped) {
      pull.stopped = true;
      this._requested -= pull.batch - pull.arrived;
    }
    if (this._closed) return;
    if (outcome instanceof Error && this._connected()) {
      const fatal = this._fatal(outcome);
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
