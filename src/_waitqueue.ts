/**
 * Private: the one fair, cancellable wait-queue under every primitive (Lock,
 * Semaphore, Event, Condition, Barrier, the queues, the rate limiter), after
 * Trio's `ParkingLot`.
 *
 * - Waiters are served first-come first-served.
 * - A waiter whose signal aborts leaves the queue at once (O(1)) and rejects
 *   with `CancelledError`: it never takes a grant.
 * - A grant is handed to a waiter with `unparkOne(value)`; the owner decides
 *   what a grant is (a lock, a permit, an item, a notification).
 * - `rejectAll(error)` ends every wait, so no promise is left unsettled.
 *
 * Waking and resuming. A waiter with a signal is not settled when it is
 * woken: it resumes one microtask later (as an asyncio task resumes in a
 * later callback than the one that woke it), and only then is the grant its
 * own. Until then its signal hook stays linked, so an abort that lands
 * between the wake and the resumption — however long that is — cancels it:
 * its wait rejects with `CancelledError` at once and the grant goes back to
 * the owner (`giveBack`), which hands it on. This holds for every wait, the
 * broadcasts too (an event set, a barrier reset, a queue shut down or
 * joined): a waiter cancelled before it resumed raises `CancelledError`,
 * never the outcome it was woken for, as in CPython. The owner may also
 * decide the grant at resumption (`resume`): a queue getter takes its item
 * then, as in asyncio, and a waiter whose grant was taken meanwhile by a
 * caller that did not wait goes back to the head of the line (`RETRY`).
 *
 * A waiter without a signal can never be cancelled, so it needs no
 * resumption: it is settled when woken, and costs no object beyond its
 * promise (the hot path of every benchmark).
 *
 * Layout. The waiters sit in one array, three slots each (`resolve`,
 * `reject`, `payload`), read from a moving head, as a ring of slots would
 * be. A waiter with no signal keeps its promise's own resolving functions
 * there. (The executor is an arrow written at the call; handing the
 * functions out through one shared module-level executor, to save that
 * short-lived closure, measured ~10% slower end to end on the W4 benchmark.)
 * A waiter with a signal gets a `Parked` record in the `resolve` slot; when
 * its signal aborts it marks itself gone and stays behind as a tombstone,
 * which the head skips and which is swept out once tombstones outnumber live
 * waiters, so the cost of leaving stays O(1) and a queue of cancelled
 * waiters never grows without bound.
 *
 * @module
 */

import { cancelledFrom } from './exceptions.js';
import { linkSignal, unlinkSignal } from './_cancel.js';
import { debugState, hooks } from './_debug.js';

type Resolve<T> = (value: T) => void;
type Reject = (error: unknown) => void;

/** What `unparkOne` reports: nobody was waiting, or the kind of waiter it woke. */
export const NOBODY = 0;
export const PLAIN = 1;
export const SIGNALED = 2;

/** What a `resume` hook returns for "not now": the waiter waits again, at the head of the line. */
export const RETRY: unique symbol = Symbol('tsaio.retry');

/** What the owner of a lot does when a waiter with a signal resumes or is cancelled after its wake. */
export interface Grants<T> {
  /**
   * A woken waiter resumes, not cancelled: returns what its wait resolves to
   * (by default the value it was woken with), or `RETRY` to wait again at
   * the head of the line. A throw rejects the wait with that error.
   */
  resume?(value: T, payload: unknown): T | typeof RETRY;
  /**
   * A waiter woken with `value` was cancelled before it resumed: hand the
   * grant on. Without it the grant is a broadcast, with nothing to hand back.
   */
  giveBack?(value: T, payload: unknown): void;
  /** A waiter left the line on its signal, before it was woken. */
  left?(): void;
}

const SLOTS = 3;
/** Sweep tombstones only past this many, so small queues never pay for it. */
const SWEEP_MIN = 32;
/** An emptied lot keeps its array for reuse up to this many slots. */
const RETAIN_SLOTS = 3 * 1024;

/** Where a `Parked` waiter is. */
const WAITING = 0; // in the line
const WOKEN = 1; // granted `_value`, resumes in a microtask
const REFUSED = 2; // rejected with `_value`, resumes in a microtask
const SETTLED = 3; // its promise is settled (or it left): a tombstone if still in the array

const RESOLVED = Promise.resolve();

/**
 * Waiters with a signal woken and not yet resumed, in every lot. While there
 * are any, a waiter without a signal woken after them is settled in a
 * microtask too, behind them, so that every caller resumes in the order it
 * was woken (as asyncio's tasks do). With none, it is settled at once.
 */
let resuming = 0;

/** Settles a waiter without a signal: at once, or behind the waiters with a signal woken before it. */
function settlePlain(settle: (value: unknown) => void, value: unknown): void {
  if (resuming === 0) settle(value);
  else void RESOLVED.then(() => settle(value));
}

/** A parked caller that has a signal: the one kind that can be cancelled before it resumes. */
class Parked<T> {
  _state = WAITING;
  /** The grant or the error it was woken with. */
  _value: unknown = undefined;

  constructor(
    readonly _lot: ParkingLot<T>,
    readonly _resolve: Resolve<T>,
    readonly _reject: Reject,
    readonly _signal: AbortSignal,
    readonly _payload: unknown,
  ) {}

  /** Woken with a grant (`WOKEN`) or an error (`REFUSED`): resume in a microtask. */
  _wake(state: number, value: unknown): void {
    this._state = state;
    this._value = value;
    this._lot._woken++;
    resuming++;
    void RESOLVED.then(() => this._resume());
  }

  /** The signal aborted: leave the line, or give the grant back; reject. */
  handleEvent(): void {
    const state = this._state;
    if (state === SETTLED) return;
    this._state = SETTLED;
    const lot = this._lot;
    if (state === WAITING) {
      lot._left();
      lot._grants?.left?.();
    } else {
      lot._woken--;
      resuming--;
      if (state === WOKEN) lot._grants?.giveBack?.(this._value as T, this._payload);
    }
    this._reject(cancelledFrom(this._signal.reason));
  }

  /** The microtask after the wake: the grant is the caller's now (or it waits again). */
  private _resume(): void {
    const state = this._state;
    if (state === SETTLED || state === WAITING) return; // cancelled meanwhile
    if (this._signal.aborted) {
      // Aborted, and its hook has not run yet (another listener of the signal was first): cancelled all the same.
      unlinkSignal(this._signal, this);
      return this.handleEvent();
    }
    const lot = this._lot;
    lot._woken--;
    resuming--;
    if (state === REFUSED) return this._settle(false, this._value);
    const resume = lot._grants?.resume;
    if (resume === undefined) return this._settle(true, this._value);
    let result: T | typeof RETRY;
    try {
      result = resume(this._value as T, this._payload);
    } catch (error) {
      return this._settle(false, error);
    }
    if (result === RETRY) {
      this._state = WAITING;
      this._value = undefined;
      lot._prepend(this);
    } else this._settle(true, result);
  }

  private _settle(ok: boolean, value: unknown): void {
    this._state = SETTLED;
    unlinkSignal(this._signal, this);
    if (ok) this._resolve(value as T);
    else this._reject(value);
  }
}

/** A FIFO of parked callers. */
export class ParkingLot<T> {
  /** What a wait here is called in a trace (`'Lock.acquire'`). */
  readonly label: string;
  /** @internal What the owner does when a waiter with a signal resumes or is cancelled after its wake. */
  readonly _grants: Grants<T> | undefined;
  /** @internal Waiters with a signal woken and not yet resumed. */
  _woken = 0;
  private _slots: unknown[] = [];
  private _head = 0;
  private _tail = 0;
  private _size = 0;
  private _gone = 0;

  constructor(label: string, grants?: Grants<T>) {
    this.label = label;
    this._grants = grants;
  }

  /** Number of callers parked (not counting the woken ones that have not resumed). */
  get size(): number {
    return this._size;
  }

  /** Number of callers woken with a signal that have not resumed yet (they may still be cancelled). */
  get woken(): number {
    return this._woken;
  }

  /**
   * Parks the caller until a grant arrives. The caller checks
   * `signal.aborted` first. `payload` rides along (see `headPayload`).
   */
  park(signal: AbortSignal | undefined, payload?: unknown): Promise<T> {
    const promise =
      signal === undefined
        ? new Promise<T>((resolve, reject) => this._append(resolve, reject, payload))
        : new Promise<T>((resolve, reject) => {
            const waiter = new Parked<T>(this, resolve, reject, signal, payload);
            this._append(waiter, null, payload);
            linkSignal(signal, waiter);
          });
    this._size++;
    if (debugState.tracing) hooks.wait(promise, this.label, 'wait');
    return promise;
  }

  /** True if the longest-parked waiter has a signal. */
  headHasSignal(): boolean {
    return this._skipGone() && typeof this._slots[this._head] !== 'function';
  }

  /** What the longest-parked waiter brought (a queue putter's item); `undefined` if none waits. */
  headPayload(): unknown {
    return this._skipGone() ? this._slots[this._head + 2] : undefined;
  }

  /** Hands `value` to the longest-parked waiter: `NOBODY`, or `PLAIN`/`SIGNALED` for who got it. */
  unparkOne(value: T): number {
    if (!this._skipGone()) return NOBODY;
    const first = this._slots[this._head];
    this._size--;
    this._drop();
    if (typeof first === 'function') {
      settlePlain(first as Resolve<unknown>, value);
      return PLAIN;
    }
    (first as Parked<T>)._wake(WOKEN, value);
    return SIGNALED;
  }

  /**
   * Hands `value` to the longest-parked waiter only if it has no signal (it
   * takes it at once, for good); false if nobody waits or the head has a signal.
   */
  unparkPlain(value: T): boolean {
    if (!this._skipGone()) return false;
    const first = this._slots[this._head];
    if (typeof first !== 'function') return false;
    this._size--;
    this._drop();
    settlePlain(first as Resolve<unknown>, value);
    return true;
  }

  /** Hands `value` to every parked waiter, in order; returns how many. */
  unparkAll(value: T): number {
    let n = 0;
    while (this.unparkOne(value) !== NOBODY) n++;
    return n;
  }

  /** Rejects the longest-parked waiter with `error`; false if nobody waits. */
  rejectOne(error: unknown): boolean {
    if (!this._skipGone()) return false;
    const first = this._slots[this._head];
    const reject = this._slots[this._head + 1] as Reject | null;
    this._size--;
    this._drop();
    if (reject !== null) settlePlain(reject, error);
    else (first as Parked<T>)._wake(REFUSED, error);
    return true;
  }

  /** Rejects every parked waiter with `error()`; returns how many. */
  rejectAll(error: () => unknown): number {
    let n = 0;
    while (this._skipGone() && this.rejectOne(error())) n++;
    return n;
  }

  /** @internal A parked waiter left early: it stays as a tombstone until swept or skipped. */
  _left(): void {
    this._size--;
    this._gone++;
    if (this._size === 0) this._reset();
    else if (this._gone > SWEEP_MIN && this._gone > this._size) this._sweep();
  }

  /** @internal A woken waiter waits again, first in line. */
  _prepend(waiter: Parked<T>): void {
    if (this._head < SLOTS) {
      // No room before the head: move the waiters one place up (rare: only a waiter overtaken waits again).
      const slots = this._slots;
      for (let i = this._tail - 1; i >= this._head; i--) slots[i + SLOTS] = slots[i];
      this._tail += SLOTS;
    } else this._head -= SLOTS;
    const slots = this._slots;
    slots[this._head] = waiter;
    slots[this._head + 1] = null;
    slots[this._head + 2] = waiter._payload;
    this._size++;
  }

  /** Moves the head past tombstones; true if a live waiter is at the head. */
  private _skipGone(): boolean {
    if (this._size === 0) return false;
    if (this._gone === 0) return true;
    const slots = this._slots;
    for (;;) {
      const first = slots[this._head];
      if (typeof first === 'function' || (first as Parked<T>)._state === WAITING) return true;
      this._gone--;
      this._drop();
    }
  }

  /** Writes one waiter's slots at the tail (by index: the array is reused, never truncated). */
  private _append(first: unknown, reject: Reject | null, payload: unknown): void {
    const slots = this._slots;
    const tail = this._tail;
    slots[tail] = first;
    slots[tail + 1] = reject;
    slots[tail + 2] = payload;
    this._tail = tail + SLOTS;
  }

  /** Drops the head waiter's slots; the caller has already uncounted it (from `_size` or `_gone`). */
  private _drop(): void {
    const slots = this._slots;
    const head = this._head;
    slots[head] = slots[head + 1] = slots[head + 2] = undefined;
    this._head = head + SLOTS;
    if (this._size === 0 && this._gone === 0) this._reset();
    else if (this._head > 1024 && this._head * 2 > this._tail) this._compact(false);
  }

  /** Moves the waiters down to the start of the array, dropping tombstones too if `sweep`. */
  private _compact(sweep: boolean): void {
    const slots = this._slots;
    let to = 0;
    for (let i = this._head; i < this._tail; i += SLOTS) {
      const first = slots[i];
      if (sweep && typeof first !== 'function' && (first as Parked<T>)._state !== WAITING) continue;
      slots[to] = first;
      slots[to + 1] = slots[i + 1];
      slots[to + 2] = slots[i + 2];
      to += SLOTS;
    }
    // Slots before the head were cleared as they were popped: only the moved ones are left to clear.
    slots.fill(undefined, Math.max(to, this._head), this._tail);
    this._head = 0;
    this._tail = to;
    if (sweep) this._gone = 0;
  }

  /** Removes every tombstone, keeping the live waiters in order. */
  private _sweep(): void {
    this._compact(true);
  }

  /** Nobody waits: start again at the front; a big array left by a burst of waiters is let go. */
  private _reset(): void {
    if (this._slots.length > RETAIN_SLOTS) this._slots = [];
    // Slots before the head were cleared as they were popped; tombstones may remain after it.
    else if (this._gone > 0) this._slots.fill(undefined, this._head, this._tail);
    this._head = 0;
    this._tail = 0;
    this._gone = 0;
  }
}
