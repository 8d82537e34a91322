/**
 * Private: the calls of one `map` (map.ts), without a `Task` per call. A
 * call is a node of the cancellation tree of its own (`_cancel.ts`): its
 * `AbortSignal` is made only if the mapper can read it (about 4 µs each), a
 * tsaio wait given it links to the node with a hook, and the map's `signal`
 * is linked once for the whole map instead of once per call. So a call costs
 * a small object and the mapper's own promise.
 *
 * @module
 */

import { CancelledError, cancelledFrom } from './exceptions.js';
import { FULFILLED, PENDING, REJECTED, isThenable, type Future, type Observer } from './futures.js';
import { abortNode, linkSignal, signalOf, unlinkSignal, type CancelNode, type Hook } from './_cancel.js';
import { readsArgument } from './_signature.js';
import { Fifo } from './_fifo.js';
import { waitFor } from './waitfor.js';

/** What `map` calls for each item. */
export type Mapper<T, R> = (item: T, signal: AbortSignal, index: number) => R | PromiseLike<R>;

/** One call of the mapper: its node in the cancellation tree and its outcome. */
export class Call implements CancelNode {
  _aborted = false;
  _reason: unknown = undefined;
  _hooks: Hook | Set<Hook> | null = null;
  _ctl: AbortController | null = null;
  state = PENDING;
  value: unknown = undefined;
  /** Its place in `Calls.running` while it runs. */
  slot = -1;
}

/**
 * The calls of one `map`: those running, and those started and not yet
 * handed out — in input order (`ordered`), else the finished ones in the
 * order they finished. The first failure is kept apart: it is handed out
 * first, even behind a slower head (p-map #42).
 */
export class Calls<T, R> implements Observer {
  /** Started and not handed out: all of them (ordered), or the finished ones (unordered). */
  private readonly _window = new Fifo<Call>();
  private readonly _running: Call[] = [];
  private readonly _withSignal: boolean;
  /** Calls started and not yet handed out (running or finished). */
  held = 0;
  /** The first call that failed. */
  failed: Call | null = null;
  private _wake: (() => void) | null = null;
  private _stopped: (() => void) | null = null;

  constructor(
    private readonly _fn: Mapper<T, R>,
    private readonly _ordered: boolean,
    private readonly _limit: number | null,
    private readonly _signal: AbortSignal | undefined,
  ) {
    this._withSignal = _limit !== null || readsArgument(_fn, 1);
    // The caller has checked that the signal has not aborted.
    if (_signal !== undefined) linkSignal(_signal, this);
  }

  /** Calls the mapper on `item`; a mapper that throws at once fails its call. */
  start(item: T, index: number): void {
    const call = new Call();
    call.slot = this._running.length;
    this._running.push(call);
    this.held++;
    if (this._ordered) this._window.push(call);
    let result: unknown;
    try {
      result = this._invoke(call, item, index);
    } catch (error) {
      this._settle(call, REJECTED, error);
      return;
    }
    if (isThenable(result)) void this._follow(call, result);
    else this._settle(call, FULFILLED, result);
  }

  /** The next call to hand out: the first failure, else the head (ordered) or the first finished. */
  ready(): Call | null {
    if (this.failed !== null) return this.failed;
    const head = this._window.peek();
    return head === undefined || head.state === PENDING ? null : head;
  }

  /** Hands out the call `ready()` gave (not a failure): its result. */
  take(): unknown {
    const call = this._window.pop();
    this.held--;
    return call.value;
  }

  /** Resolves when a call finishes, the signal aborts, or `read` (if any) is done. */
  wait(read: Future<unknown> | null): Promise<void> {
    return new Promise<void>((resolve) => {
      this._wake = resolve;
      read?._addCallback(this);
    });
  }

  /** @internal The read being waited for is done. */
  _futureDone(): void {
    this._wakeUp();
  }

  /** @internal The map's signal aborted: the calls running are cancelled now, with its reason. */
  handleEvent(): void {
    const reason = this._signal!.reason;
    for (const call of this._running.slice()) abortNode(call, cancelledFrom(reason));
    this._wakeUp();
  }

  /** Cancels the calls still running and resolves once every one has stopped; unlinks the signal. */
  async close(): Promise<void> {
    if (this._signal !== undefined) unlinkSignal(this._signal, this);
    if (this._running.length === 0) return;
    const stopped = new Promise<void>((resolve) => (this._stopped = resolve));
    for (const call of this._running.slice()) abortNode(call, new CancelledError(''));
    await stopped;
  }

  private _invoke(call: Call, item: T, index: number): unknown {
    const fn = this._fn;
    if (this._limit !== null) {
      const run = (inner: AbortSignal): R | PromiseLike<R> => fn(item, inner, index);
      return waitFor(run, this._limit, { signal: signalOf(call) });
    }
    return fn(item, this._withSignal ? signalOf(call) : (undefined as unknown as AbortSignal), index);
  }

  private async _follow(call: Call, result: PromiseLike<unknown>): Promise<void> {
    let value: unknown;
    try {
      value = await result;
    } catch (error) {
      this._settle(call, REJECTED, error);
      return;
    }
    this._settle(call, FULFILLED, value);
  }

  private _settle(call: Call, state: number, value: unknown): void {
    call.state = state;
    call.value = value;
    const last = this._running.pop()!;
    if (last !== call) {
      this._running[call.slot] = last;
      last.slot = call.slot;
    }
    call.slot = -1;
    if (!this._ordered) this._window.push(call);
    if (state === REJECTED) this.failed ??= call;
    if (this._running.length === 0 && this._stopped !== null) this._stopped();
    this._wakeUp();
  }

  private _wakeUp(): void {
    const wake = this._wake;
    if (wake === null) return;
    this._wake = null;
    wake();
  }
}
