/**
 * `RateLimiter`: a token bucket, the other half of "rate-limited" beside the
 * concurrency limit of a `Semaphore`.
 *
 * @module
 */

import { cancelledFrom } from './exceptions.js';
import { abortedRejection } from './_cancel.js';
import { addTimer, cancelTimer, now, type Bucket, type Runnable } from './_timers.js';
import { checkFunction, checkSignal, describe } from './_validate.js';
import { ParkingLot } from './_waitqueue.js';

/** Options of `RateLimiter`. */
export interface RateLimiterOptions {
  /** Tokens added per `interval` (requests per interval). */
  rate: number;
  /** The interval in ms (default 1000: `rate` per second). */
  interval?: number;
  /** The most tokens the bucket holds: the largest burst (default `rate`). */
  burst?: number;
}

/**
 * A token bucket: at most `rate` acquisitions per `interval` ms on average,
 * with bursts of up to `burst`. Waiters are served first-come first-served;
 * a waiter whose signal aborts takes no token. One timer runs only while
 * someone waits.
 *
 * @example Five per second, never more
 * ```ts
 * import { RateLimiter, gather } from 'tsaio';
 * const limiter = new RateLimiter({ rate: 5, interval: 100 });
 * const start = performance.now();
 * await gather(Array.from({ length: 10 }, () => () => limiter.acquire()));
 * console.log(performance.now() - start >= 90); // true: the second five waited for new tokens
 * ```
 */
export class RateLimiter {
  readonly rate: number;
  readonly interval: number;
  readonly burst: number;
  private _tokens: number;
  private _updated = now();
  private readonly _waiters = new ParkingLot<void>('RateLimiter.acquire', {
    // Handed a token, then cancelled before it resumed: the token goes on.
    giveBack: () => this._giveBack(),
    // A waiter that leaves may leave nobody behind: then the timer goes too.
    left: () => this._schedule(),
  });
  private _timer: Tick | null = null;

  constructor(opts: RateLimiterOptions) {
    const rate = opts?.rate;
    if (typeof rate !== 'number' || !(rate > 0) || rate === Infinity) {
      throw new RangeError(`RateLimiter: rate must be a positive finite number, received ${describe(rate)}`);
    }
    const interval = opts.interval ?? 1000;
    if (typeof interval !== 'number' || !(interval > 0) || interval === Infinity) {
      throw new RangeError(
        `RateLimiter: interval must be a positive number of ms, received ${describe(interval)}`,
      );
    }
    const burst = opts.burst ?? Math.max(1, rate);
    if (typeof burst !== 'number' || !(burst >= 1) || burst === Infinity) {
      throw new RangeError(`RateLimiter: burst must be a finite number >= 1, received ${describe(burst)}`);
    }
    this.rate = rate;
    this.interval = interval;
    this.burst = burst;
    this._tokens = burst;
  }

  /** Takes a token now if one is free (and nobody waits); returns whether it did. */
  tryAcquire(): boolean {
    this._refill();
    if (this._waiters.size > 0 || this._tokens < 1) return false;
    this._tokens -= 1;
    return true;
  }

  /** Waits for a token and takes it. */
  acquire(opts?: { signal?: AbortSignal }): Promise<void> {
    const signal = checkSignal(opts?.signal, 'RateLimiter.acquire');
    const aborted = abortedRejection(signal);
    if (aborted !== null) return aborted;
    if (this.tryAcquire()) return Promise.resolve();
    const granted = this._waiters.park(signal);
    this._schedule();
    return granted;
  }

  /**
   * Runs `fn` once a token is taken. A signal that aborted after the token
   * was granted but before this resumed wins: `fn` never starts and the
   * token goes on.
   */
  async run<T>(fn: () => T | PromiseLike<T>, opts?: { signal?: AbortSignal }): Promise<Awaited<T>> {
    checkFunction(fn, 'RateLimiter.run');
    await this.acquire(opts);
    const signal = opts?.signal;
    if (signal?.aborted) {
      this._giveBack();
      throw cancelledFrom(signal.reason);
    }
    return await fn();
  }

  statistics(): { tokens: number; waiters: number } {
    this._refill();
    return { tokens: this._tokens, waiters: this._waiters.size };
  }

  toString(): string {
    const { tokens, waiters } = this.statistics();
    return `<RateLimiter rate=${this.rate}/${this.interval}ms burst=${this.burst} tokens=${tokens.toFixed(2)} waiters=${waiters}>`;
  }

  /** @internal The timer fired: hand out the tokens that have accrued, in order. */
  _tick(): void {
    this._timer = null;
    this._handOut();
  }

  /** Hands out the tokens there are, in order, and keeps the timer armed for the rest. */
  private _handOut(): void {
    this._refill();
    while (this._waiters.size > 0 && this._tokens >= 1) {
      this._tokens -= 1;
      this._waiters.unparkOne();
    }
    this._schedule();
  }

  /** A token taken by a caller cancelled before it used it: back in the bucket, and on to the next waiter. */
  private _giveBack(): void {
    this._refill();
    this._tokens = Math.min(this.burst, this._tokens + 1);
    this._handOut();
  }

  private _refill(): void {
    const t = now();
    this._tokens = Math.min(this.burst, this._tokens + ((t - this._updated) * this.rate) / this.interval);
    this._updated = t;
  }

  /** Keeps one timer armed exactly while someone waits, due when the next token accrues. */
  private _schedule(): void {
    if (this._waiters.size === 0) {
      this._timer?.cancel();
      this._timer = null;
      return;
    }
    if (this._timer !== null) return;
    this._refill();
    const wait = Math.max(0, ((1 - this._tokens) * this.interval) / this.rate);
    this._timer = new Tick(this, now() + wait);
  }
}

/** One arming of the limiter's timer. */
class Tick implements Runnable {
  private _bucket: Bucket | null;
  constructor(
    private readonly _limiter: RateLimiter,
    when: number,
  ) {
    this._bucket = addTimer(when, this);
  }
  _fire(): void {
    if (this._bucket === null) return;
    this._bucket = null;
    this._limiter._tick();
  }
  cancel(): void {
    if (this._bucket !== null) cancelTimer(this._bucket);
    this._bucket = null;
  }
}
