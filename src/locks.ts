/**
 * Synchronization primitives, after `asyncio.locks`: `Lock`, `Event`,
 * `Condition`, `Semaphore`, `BoundedSemaphore`, `Barrier`.
 *
 * Every wait stands on the one fair wait-queue (`_waitqueue.ts`): waiters are
 * served first-come first-served, a lock or permit passes straight from the
 * releaser to the next waiter (nobody barges in between), and a waiter whose
 * signal aborts leaves no trace.
 *
 * @module
 */

import { BrokenBarrierError, InvalidStateError, cancelledFrom } from './exceptions.js';
import { abortedRejection } from './_cancel.js';
import { ParkingLot } from './_waitqueue.js';
import { checkCount, checkFunction, checkSignal, describe } from './_validate.js';

/** Options of every wait of a primitive. */
export interface AcquireOptions {
  /** Aborting it ends the wait with `CancelledError`; the waiter takes nothing. */
  signal?: AbortSignal;
}

/**
 * What `acquire()` resolves to: dispose it (`using` or `await using`), or
 * call `release()`, once to release.
 */
export interface Held extends Disposable, AsyncDisposable {
  /** Releases what was acquired; a second call does nothing. */
  release(): void;
}

/** A one-shot release of a lock or permit. */
class Holding implements Held {
  private _owner: { release(): void } | null;
  constructor(owner: { release(): void }) {
    this._owner = owner;
  }
  release(): void {
    const owner = this._owner;
    if (owner === null) return;
    this._owner = null;
    owner.release();
  }
  [Symbol.dispose](): void {
    this.release();
  }
  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

/**
 * Runs `fn` while holding what `owner.acquire` gives; releases it even if
 * `fn` throws. A signal that aborted after the grant but before this
 * resumed wins: `fn` never starts and the grant goes on.
 */
async function runHolding<T>(
  owner: { acquire(opts?: AcquireOptions): Promise<Held> },
  fn: () => T | PromiseLike<T>,
  opts: AcquireOptions | undefined,
): Promise<Awaited<T>> {
  if (typeof fn !== 'function') checkFunction(fn, `${owner.constructor.name}.run`);
  const held = await owner.acquire(opts);
  const signal = opts?.signal;
  if (signal?.aborted) {
    held.release();
    throw cancelledFrom(signal.reason);
  }
  try {
    return await fn();
  } finally {
    held.release();
  }
}

/**
 * A mutual-exclusion lock. Same as `asyncio.Lock`, with a handle to release
 * it: `using _ = await lock.acquire()`, or `lock.run(fn)`. It is not owned:
 * any code may release it, as in asyncio.
 *
 * @example The seed's counter: five workers, one at a time
 * ```ts
 * import { Lock, gather, sleep } from 'tsaio';
 * const lock = new Lock();
 * let shared = 0;
 * await gather([1, 2, 3, 4, 5].map(() => async () => {
 *   using _held = await lock.acquire();
 *   const val = shared;
 *   await sleep(1);
 *   shared = val + 1;
 * }));
 * console.log(shared); // 5
 * ```
 */
export class Lock {
  private _locked = false;
  // A waiter cancelled after the lock was handed to it, before it resumed, hands it on.
  private readonly _waiters = new ParkingLot<Held>('Lock.acquire', { giveBack: (held) => held.release() });

  /** Waits until the lock is free, takes it, and resolves to its handle. */
  acquire(opts?: AcquireOptions): Promise<Held> {
    const signal = checkSignal(opts?.signal, 'Lock.acquire');
    const aborted = abortedRejection(signal);
    if (aborted !== null) return aborted;
    if (!this._locked) {
      this._locked = true;
      return Promise.resolve(new Holding(this));
    }
    return this._waiters.park(signal);
  }

  /** Releases the lock, handing it to the longest waiter. `InvalidStateError` if it is not locked. */
  release(): void {
    if (!this._locked) throw new InvalidStateError('Lock.release: the lock is not locked');
    // A handle is made only for a waiter that takes the lock over.
    if (this._waiters.size === 0 || !this._waiters.unparkOne(new Holding(this))) this._locked = false;
  }

  /** True while the lock is held. */
  locked(): boolean {
    return this._locked;
  }

  /** Runs `fn` holding the lock. */
  run<T>(fn: () => T | PromiseLike<T>, opts?: AcquireOptions): Promise<Awaited<T>> {
    return runHolding(this, fn, opts);
  }

  /** A snapshot for tests and monitoring. */
  statistics(): { locked: boolean; waiters: number } {
    return { locked: this._locked, waiters: this._waiters.size };
  }

  toString(): string {
    return `<Lock [${this._locked ? 'locked' : 'unlocked'}] waiters=${this._waiters.size}>`;
  }
}

/**
 * A flag that tasks can wait for. Same as `asyncio.Event`.
 *
 * @example Two waiters, one signal
 * ```ts
 * import { Event, gather, sleep } from 'tsaio';
 * const event = new Event();
 * const waiter = (name: string) => async () => { await event.wait(); console.log(name, 'received signal'); };
 * await gather([waiter('W1'), waiter('W2'), async () => { await sleep(10); event.set(); }]);
 * ```
 */
export class Event {
  private _flag = false;
  private readonly _waiters = new ParkingLot<true>('Event.wait');

  /** Resolves to `true` once the flag is set (at once if it is). */
  wait(opts?: AcquireOptions): Promise<true> {
    const signal = checkSignal(opts?.signal, 'Event.wait');
    const aborted = abortedRejection(signal);
    if (aborted !== null) return aborted;
    if (this._flag) return Promise.resolve(true);
    return this._waiters.park(signal);
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    if (this._flag) return;
    this._flag = true;
    this._waiters.unparkAll(true);
  }

  /** Clears the flag; later waits block again. */
  clear(): void {
    this._flag = false;
  }

  /** True while the flag is set. */
  isSet(): boolean {
    return this._flag;
  }

  statistics(): { set: boolean; waiters: number } {
    return { set: this._flag, waiters: this._waiters.size };
  }

  toString(): string {
    return `<Event [${this._flag ? 'set' : 'unset'}] waiters=${this._waiters.size}>`;
  }
}

/**
 * A condition variable: tasks wait, holding a lock, until notified. Same as
 * `asyncio.Condition`. `wait()` re-acquires the lock before it returns or
 * throws, even when cancelled.
 *
 * @example
 * ```ts
 * import { Condition, createTask, sleep } from 'tsaio';
 * const cond = new Condition();
 * let ready = false;
 * const consumer = createTask(async () => {
 *   using _held = await cond.acquire();
 *   await cond.waitFor(() => ready);
 *   return 'consumed';
 * });
 * await sleep(5);
 * await cond.run(() => { ready = true; cond.notifyAll(); });
 * console.log(await consumer); // consumed
 * ```
 */
export class Condition {
  private readonly _lock: Lock;
  // A waiter cancelled after it was notified, before it resumed, passes the notification on.
  private readonly _waiters = new ParkingLot<void>('Condition.wait', {
    giveBack: () => void this._waiters.unparkOne(),
  });

  constructor(lock?: Lock) {
    if (lock !== undefined && !(lock instanceof Lock)) {
      throw new TypeError(`Condition: lock must be a Lock, received ${describe(lock)}`);
    }
    this._lock = lock ?? new Lock();
  }

  /** Acquires the underlying lock. */
  acquire(opts?: AcquireOptions): Promise<Held> {
    return this._lock.acquire(opts);
  }

  /** Releases the underlying lock. */
  release(): void {
    this._lock.release();
  }

  /** True while the underlying lock is held. */
  locked(): boolean {
    return this._lock.locked();
  }

  /** Runs `fn` holding the lock. */
  run<T>(fn: () => T | PromiseLike<T>, opts?: AcquireOptions): Promise<Awaited<T>> {
    return this._lock.run(fn, opts);
  }

  /**
   * Releases the lock, waits for a notification, re-acquires the lock.
   * `InvalidStateError` if the lock is not held. A waiter cancelled after
   * it was notified passes the notification on.
   */
  async wait(opts?: AcquireOptions): Promise<true> {
    if (!this.locked()) throw new InvalidStateError('Condition.wait: the lock is not held');
    const signal = checkSignal(opts?.signal, 'Condition.wait');
    if (signal?.aborted) throw cancelledFrom(signal.reason);
    this._lock.release();
    let failed = false;
    let error: unknown;
    try {
      await this._waiters.park(signal);
    } catch (e) {
      failed = true;
      error = e;
    }
    await this._lock.acquire(); // never cancelled: the caller gets the lock back
    if (failed) throw error;
    if (signal?.aborted) {
      // Notified, then cancelled while it took the lock back: the notification goes to the next waiter.
      this._waiters.unparkOne();
      throw cancelledFrom(signal.reason);
    }
    return true;
  }

  /** Waits until `predicate()` is truthy and returns its value. */
  async waitFor<T>(predicate: () => T, opts?: AcquireOptions): Promise<T> {
    checkFunction(predicate, 'Condition.waitFor', 'the predicate');
    let result = predicate();
    while (!result) {
      await this.wait(opts);
      result = predicate();
    }
    return result;
  }

  /**
   * Wakes up to `n` waiters. `InvalidStateError` if the lock is not held;
   * `RangeError` unless `n` is a non-negative integer.
   */
  notify(n = 1): void {
    if (!this.locked()) throw new InvalidStateError('Condition.notify: the lock is not held');
    checkCount(n, 'Condition.notify', 'n', 0);
    for (let i = 0; i < n && this._waiters.unparkOne(); i++);
  }

  /** Wakes every waiter. */
  notifyAll(): void {
    this.notify(this._waiters.size);
  }

  statistics(): { locked: boolean; waiters: number } {
    return { locked: this.locked(), waiters: this._waiters.size };
  }

  toString(): string {
    return `<Condition [${this.locked() ? 'locked' : 'unlocked'}] waiters=${this._waiters.size}>`;
  }
}

/**
 * A counter of permits: at most `value` holders at once. Same as
 * `asyncio.Semaphore` — the seed's way to limit concurrency.
 *
 * @example At most 2 at once
 * ```ts
 * import { Semaphore, gather, sleep } from 'tsaio';
 * const sem = new Semaphore(2);
 * let running = 0, peak = 0;
 * await gather(Array.from({ length: 6 }, () => () => sem.run(async () => {
 *   peak = Math.max(peak, ++running);
 *   await sleep(5);
 *   running--;
 * })));
 * console.log(peak); // 2
 * ```
 */
export class Semaphore {
  /** @internal */ _value: number;
  // A waiter cancelled after a permit was handed to it, before it resumed, hands it on.
  private readonly _waiters = new ParkingLot<Held>('Semaphore.acquire', {
    giveBack: (held) => held.release(),
  });

  constructor(value = 1) {
    this._value = checkCount(value, 'Semaphore', 'value', 0);
  }

  /** Waits for a permit, takes it, and resolves to its handle. */
  acquire(opts?: AcquireOptions): Promise<Held> {
    const signal = checkSignal(opts?.signal, 'Semaphore.acquire');
    const aborted = abortedRejection(signal);
    if (aborted !== null) return aborted;
    if (this._value > 0) {
      this._value--;
      return Promise.resolve(new Holding(this));
    }
    return this._waiters.park(signal);
  }

  /** Takes a permit now if one is free, without waiting; `null` if none is. */
  tryAcquire(): Held | null {
    if (this._value === 0) return null;
    this._value--;
    return new Holding(this);
  }

  /** Returns a permit, handing it to the longest waiter if there is one. */
  release(): void {
    // A handle is made only for a waiter that takes the permit.
    if (this._waiters.size === 0 || !this._waiters.unparkOne(new Holding(this))) this._value++;
  }

  /** True when no permit is free. */
  locked(): boolean {
    return this._value === 0;
  }

  /** @internal True while someone waits for a permit. */
  _hasWaiters(): boolean {
    return this._waiters.size > 0;
  }

  /** Runs `fn` holding a permit. */
  run<T>(fn: () => T | PromiseLike<T>, opts?: AcquireOptions): Promise<Awaited<T>> {
    return runHolding(this, fn, opts);
  }

  statistics(): { value: number; waiters: number } {
    return { value: this._value, waiters: this._waiters.size };
  }

  /**
   * @internal Rejects every waiting `acquire()` with `error()` (none takes a
   * permit): how an owner that closes (a connection pool) ends the waits it
   * started without a signal. Returns how many were waiting.
   */
  _rejectWaiters(error: () => unknown): number {
    return this._waiters.rejectAll(error);
  }

  toString(): string {
    return `<${this.constructor.name} [${this.locked() ? 'locked' : 'unlocked'}] value=${this._value} waiters=${this._waiters.size}>`;
  }
}

/**
 * A `Semaphore` that refuses to be released above its initial value. Same
 * as `asyncio.BoundedSemaphore`.
 *
 * @example
 * ```ts
 * import { BoundedSemaphore } from 'tsaio';
 * const sem = new BoundedSemaphore(1);
 * try { sem.release(); } catch (e) { console.log(e instanceof RangeError); } // true
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  private readonly _bound: number;

  constructor(value = 1) {
    super(value);
    this._bound = value;
  }

  /** Returns a permit; `RangeError` if that would exceed the initial value. */
  override release(): void {
    if (this._value >= this._bound) {
      throw new RangeError(
        `BoundedSemaphore.release: released more times than acquired (bound ${this._bound})`,
      );
    }
    super.release();
  }
}

/**
 * Makes `parties` tasks wait for each other: each `wait()` blocks until the
 * last one arrives, then all go on together. Same as `asyncio.Barrier`.
 * `wait()` resolves to the arrival index, `0 .. parties-1`.
 *
 * @example
 * ```ts
 * import { Barrier, gather } from 'tsaio';
 * const barrier = new Barrier(3);
 * const indices = await gather([1, 2, 3].map(() => () => barrier.wait()));
 * console.log(indices); // [ 0, 1, 2 ]
 * ```
 */
export class Barrier {
  private readonly _parties: number;
  private readonly _waiters = new ParkingLot<number>('Barrier.wait');
  private _broken = false;

  constructor(parties: number) {
    this._parties = checkCount(parties, 'Barrier', 'parties', 1);
  }

  /** Waits until `parties` callers wait; resolves to this caller's arrival index. */
  wait(opts?: AcquireOptions): Promise<number> {
    const signal = checkSignal(opts?.signal, 'Barrier.wait');
    if (this._broken) return Promise.reject(new BrokenBarrierError());
    const aborted = abortedRejection(signal);
    if (aborted !== null) return aborted;
    if (this._waiters.size + 1 < this._parties) return this._waiters.park(signal);
    for (let index = 0; this._waiters.unparkOne(index); index++);
    return Promise.resolve(this._parties - 1);
  }

  /** Returns to the empty state; current waiters get `BrokenBarrierError`. */
  reset(): void {
    this._waiters.rejectAll(() => new BrokenBarrierError('the barrier was reset'));
    this._broken = false;
  }

  /** Breaks the barrier: current and future waits get `BrokenBarrierError` until `reset()`. */
  abort(): void {
    this._broken = true;
    this._waiters.rejectAll(() => new BrokenBarrierError('the barrier was aborted'));
  }

  get parties(): number {
    return this._parties;
  }

  /** How many callers are waiting now. */
  get nWaiting(): number {
    return this._waiters.size;
  }

  get broken(): boolean {
    return this._broken;
  }

  statistics(): { parties: number; waiting: number; broken: boolean } {
    return { parties: this._parties, waiting: this._waiters.size, broken: this._broken };
  }

  toString(): string {
    return `<Barrier [${this._broken ? 'broken' : 'filling'}] waiters=${this._waiters.size}/${this._parties}>`;
  }
}
