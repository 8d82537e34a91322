/**
 * Private: one attempt of a request, as undici's dispatch handler.
 *
 * undici's `request()` wraps every response body in a Node `Readable`; an
 * `Exchange` takes the body chunks from undici itself instead: `all()`
 * collects them (what `bytes()`/`text()`/`json()` need), `read()` hands them
 * out one by one (the response as an async iterable), with back-pressure —
 * once `HIGH_WATER` bytes wait unread, the socket is paused until the reader
 * catches up. The exchange also releases the request's connection slot as
 * soon as the body is in (or the attempt failed), tells the session's
 * connect tracker when it stops waiting for a connection, enforces
 * `maxBodySize`, and is what the request's scope aborts.
 *
 * @module
 */

import type { Dispatcher } from 'undici';
import { getRunningLoop } from '../events.js';
import type { Held } from '../locks.js';
import type { ConnectTracker } from './_connector.js';
import { ResponseTooLargeError } from './errors.js';
import type { RequestScope } from './_scope.js';

/** The response headers as undici parses them (names in lower case). */
export type RawHeaders = Record<string, string | string[] | undefined>;

/** How much of an unread body is read and dropped to keep its connection; a larger one closes the socket. */
export const DRAIN_LIMIT = 64 * 1024;

/** How long a drain may take, in ms: a body that trickles in slower than that closes the socket. */
export const DRAIN_TIME = 1_000;

/** Unread body bytes at which the socket is paused. */
const HIGH_WATER = 64 * 1024;

const NO_HEADERS: RawHeaders = Object.freeze({}) as RawHeaders;
/** The chunks of an exchange that takes no more (frozen: nothing is pushed once it is done). */
const NO_CHUNKS: Buffer[] = Object.freeze([]) as unknown as Buffer[];

/** Why an exchange that was dropped stopped (nobody sees it: the caller moved on). */
class Dropped extends Error {}

/** One request sent to undici and its response, from dispatch to the end of the body. */
export class Exchange implements Dispatcher.DispatchHandler {
  /** The response status (0 until the headers are in). */
  status = 0;
  headers: RawHeaders = NO_HEADERS;
  /** Settles once the response headers are in, or with the attempt's failure. */
  readonly started: Promise<void>;
  private _resolve!: () => void;
  private _reject!: (error: unknown) => void;
  private _controller: Dispatcher.DispatchController | null = null;
  /** Set once the response started (`_resolve` was called). */
  private _begun = false;
  private _chunks: Buffer[] = [];
  /** Index of the first unread chunk in `_chunks`. */
  private _head = 0;
  private _buffered = 0;
  /** Body bytes received in all. */
  private _received = 0;
  private _paused = false;
  /** `all()` is collecting: no back-pressure, the whole body is wanted. */
  private _collecting = false;
  /** `dump()` is discarding: bytes are counted and dropped; past `_limit` the socket is closed. */
  private _discarding = false;
  private _limit = 0;
  /** The body is complete. */
  private _ended = false;
  /** The attempt failed (or was aborted); `_error` says why. */
  private _failed = false;
  private _error: unknown = undefined;
  /** The reader waiting for the next event (a chunk, the end, a failure). */
  private _wake: (() => void) | null = null;
  /** The tracker told when the attempt stops waiting for a connection; `null` once told. */
  private _tracker: ConnectTracker | null;
  private readonly _origin: string;

  constructor(
    private readonly _scope: RequestScope,
    private _slot: Held | null,
    private readonly _method: string,
    private readonly _url: URL,
    tracker: ConnectTracker,
  ) {
    this._tracker = tracker;
    this._origin = _url.origin;
    tracker.waiting(this._origin);
    this.started = new Promise<void>((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
  }

  /** True once the whole body arrived or the attempt failed: the connection is free. */
  get done(): boolean {
    return this._ended || this._failed;
  }

  // ------------------------------------------------------------ undici's side

  /** undici calls it once the request is on a connection, about to be written. */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    // Aborted while undici still had the request queued: it never goes out.
    // Throwing (not `controller.abort()`, which would also destroy the
    // socket) makes undici drop the request and keep the connection.
    if (this._failed) throw new Dropped('the request was cancelled before it was sent');
    this._controller = controller;
    this._stopWaiting();
    this._scope.connected();
  }

  onResponseStart(_controller: Dispatcher.DispatchController, status: number, headers: RawHeaders): void {
    if (status < 200 || this._failed) return; // 1xx: informational, the response is still to come
    const max = this._scope.timeouts.maxBodySize;
    if (max !== null && this._method !== 'HEAD' && status !== 204 && status !== 304) {
      const declared = Number(headers['content-length']);
      if (declared > max) {
        this.abort(new ResponseTooLargeError(this._url.href, max, declared));
        return;
      }
    }
    this.status = status;
    this.headers = headers;
    this._begun = true;
    this._scope.touchRead(); // the headers count as the server speaking: the clock starts again for the body
    this._resolve();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // (llhttp resumed on an empty read reports an empty body span.)
    if (this._failed || chunk.length === 0) return;
    this._received += chunk.length;
    this._scope.touchRead();
    if (this._discarding) {
      if (this._received > this._limit) this.abort(new Dropped('the unread body is too large to drain'));
      return;
    }
    const max = this._scope.timeouts.maxBodySize;
    if (max !== null && this._received > max) {
      // The chunk that crosses the limit is not handed out: a reader sees at most `max` bytes, then the error.
      this.abort(new ResponseTooLargeError(this._url.href, max, this._received));
      return;
    }
    this._chunks.push(chunk);
    this._buffered += chunk.length;
    if (this._collecting) return; // `all()` waits for the end, not for each chunk
    if (this._buffered >= HIGH_WATER) {
      this._paused = true;
      this._scope.disarmRead();
      controller.pause();
    }
    this._notify();
  }

  onResponseEnd(): void {
    if (this._failed) return;
    this._ended = true;
    this._controller = null; // (it holds the raw headers and the socket: nothing more to control)
    this._scope.disarmRead();
    this._release();
    this._notify();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this._fail(error);
  }

  // ------------------------------------------------------------ tsaio's side

  /**
   * Stops the attempt: undici drops the request (and its socket, if it was
   * sent). Nothing to stop once the body is in.
   */
  abort(reason: unknown): void {
    if (this._failed || this._ended) return;
    const controller = this._controller;
    // undici calls onResponseError at once; if it was already past the point, fail here.
    if (controller !== null && !controller.aborted) controller.abort(reason as Error);
    this._fail(reason);
  }

  /**
   * The whole body. Synchronous when it is already in (the usual case for a
   * small body: it comes in the same read as the headers).
   */
  all(): Uint8Array | Promise<Uint8Array> {
    if (this._failed) return Promise.reject(this._error);
    if (this._ended) return this._take();
    this._collecting = true;
    this._resumeIfPaused();
    return this._allLater();
  }

  /** The next body chunk, or `null` at the end. */
  async read(): Promise<Buffer | null> {
    while (this._head === this._chunks.length) {
      if (this._failed) throw this._error;
      if (this._ended) return null;
      await this._next();
    }
    const chunk = this._chunks[this._head]!;
    this._chunks[this._head++] = undefined as unknown as Buffer;
    this._buffered -= chunk.length;
    if (this._head === this._chunks.length) {
      this._chunks = [];
      this._head = 0;
    }
    if (this._buffered < HIGH_WATER) this._resumeIfPaused();
    return chunk;
  }

  /**
   * Lets the connection go back to the pool: an unread body of at most
   * `limit` bytes that arrives within `DRAIN_TIME` ms is read and dropped; a
   * larger or slower one closes the socket. Never rejects.
   */
  async dump(limit: number): Promise<void> {
    if (this.done) return;
    const declared = this._method === 'HEAD' ? NaN : Number(this.headers['content-length']);
    if (declared > limit || this._received > limit) {
      this.abort(new Dropped('the unread body is too large to drain'));
      return;
    }
    this._discarding = true;
    this._limit = limit;
    this._chunks = NO_CHUNKS;
    this._head = 0;
    this._buffered = 0;
    this._resumeIfPaused();
    if (this.done) return;
    const timer = getRunningLoop().callLater(DRAIN_TIME, () =>
      this.abort(new Dropped('the unread body is too slow to drain')),
    );
    try {
      while (!this.done) await this._next();
    } finally {
      timer.cancel();
    }
  }

  // ------------------------------------------------------------ private

  private async _allLater(): Promise<Uint8Array> {
    while (!this._ended) {
      if (this._failed) throw this._error;
      await this._next();
    }
    return this._take();
  }

  /** The unread chunks of a complete body as one array (the chunk itself when there is one). */
  private _take(): Uint8Array {
    const chunks = this._head === 0 ? this._chunks : this._chunks.slice(this._head);
    this._chunks = NO_CHUNKS;
    this._head = 0;
    this._buffered = 0;
    if (chunks.length === 1) return chunks[0]!;
    return Buffer.concat(chunks);
  }

  private _next(): Promise<void> {
    return new Promise<void>((resolve) => (this._wake = resolve));
  }

  private _notify(): void {
    const wake = this._wake;
    if (wake === null) return;
    this._wake = null;
    wake();
  }

  private _resumeIfPaused(): void {
    if (!this._paused || this.done) return;
    this._paused = false;
    this._scope.armRead();
    this._controller?.resume();
  }

  /** The attempt no longer waits for a connection (it is on one, or it failed): the tracker is told once. */
  private _stopWaiting(): void {
    const tracker = this._tracker;
    if (tracker === null) return;
    this._tracker = null;
    tracker.settled(this._origin);
  }

  private _fail(error: unknown): void {
    if (this._failed || this._ended) return;
    this._stopWaiting();
    this._scope.attemptFailed();
    this._failed = true;
    this._error = error;
    this._controller = null;
    this._chunks = NO_CHUNKS;
    this._head = 0;
    this._buffered = 0;
    this._release();
    if (!this._begun) this._reject(error);
    this._notify();
  }

  /** The connection is free: so is the request's slot. */
  private _release(): void {
    const slot = this._slot;
    if (slot === null) return;
    this._slot = null;
    slot.release();
  }
}
