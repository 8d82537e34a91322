/**
 * The loop facade: `getRunningLoop`, `Handle`, `TimerHandle`, after
 * `asyncio.events`. Node has one event loop per thread (libuv's); this is a
 * view of it with asyncio's scheduling methods, not a second loop.
 *
 * @module
 */

import { Future, futureFromThenable, isThenable } from './futures.js';
import { createTask, type Task, type TaskBody, type TaskOptions } from './tasks.js';
import { debugState } from './_debug.js';
import { setDebug } from './_diagnostics.js';
import { defaultExecutor, type ExecutorLike } from './_executor.js';
import { setReporter, type ErrorContext } from './_report.js';
import { addTimer, cancelTimer, now, scheduleReady, type Bucket, type Runnable } from './_timers.js';
import { checkDelay, checkFunction, describe } from './_validate.js';

// Callbacks scheduled and not yet run or cancelled; `run()` cancels those it saw scheduled.
const scheduled = new Set<Handle>();

/** The handles scheduled now (for `run()`). */
export function scheduledHandles(): Set<Handle> {
  return scheduled;
}

/** What `setExceptionHandler` takes: `(loop, context) => void`. */
export type ExceptionHandler = (loop: EventLoop, context: ErrorContext) => void;

/**
 * A callback scheduled by `callSoon`; `cancel()` stops it from running.
 * Same as `asyncio.Handle`.
 *
 * @example
 * ```ts
 * import { getRunningLoop } from 'tsaio';
 * const h = getRunningLoop().callSoon(() => console.log('never'));
 * h.cancel();
 * console.log(h.cancelled()); // true
 * ```
 */
export class Handle implements Runnable {
  /** @internal */ _cancelled = false;
  /** @internal */
  constructor(
    readonly _fn: (...args: any[]) => unknown,
    readonly _args: unknown[],
  ) {}

  /** Stops the callback from running, if it has not run yet. */
  cancel(): void {
    this._cancelled = true;
    scheduled.delete(this);
  }

  /** True once `cancel()` was called. */
  cancelled(): boolean {
    return this._cancelled;
  }

  /** `<Handle noop(1, "x")>`, with `cancelled` once cancelled (asyncio's repr, without the source line). */
  toString(): string {
    return `<${this.constructor.name}${this._cancelled ? ' cancelled' : ''}${this._describeTime()} ${formatCall(this._fn, this._args)}>`;
  }

  /** @internal */
  _describeTime(): string {
    return '';
  }

  /** @internal */
  _fire(): void {
    if (this._cancelled) return;
    scheduled.delete(this);
    const start = debugState.enabled ? now() : 0;
    try {
      this._fn(...this._args);
    } catch (exception) {
      loop.callExceptionHandler({
        message: `Exception in callback ${String(this)}`,
        exception,
        handle: this,
      });
    }
    if (debugState.enabled) {
      const took = now() - start;
      if (took > debugState.slowCallbackDuration) {
        console.warn(`Executing ${String(this)} took ${(took / 1000).toFixed(3)} seconds`);
      }
    }
  }
}

/**
 * A callback scheduled by `callLater` or `callAt`; `when()` is its time.
 * Cancelling it removes its timer. Same as `asyncio.TimerHandle`.
 *
 * @example
 * ```ts
 * import { getRunningLoop } from 'tsaio';
 * const loop = getRunningLoop();
 * const h = loop.callLater(1000, () => console.log('never'));
 * console.log(h.when() > loop.time()); // true
 * h.cancel(); // nothing stays scheduled
 * ```
 */
export class TimerHandle extends Handle {
  /** @internal */ _bucket: Bucket | null = null;
  /** @internal */
  constructor(
    readonly _when: number,
    fn: (...args: any[]) => unknown,
    args: unknown[],
  ) {
    super(fn, args);
  }

  /** The time it is scheduled for, in `loop.time()` ms. */
  when(): number {
    return this._when;
  }

  /** @internal */
  override _describeTime(): string {
    return ` when=${this._when}`;
  }

  override cancel(): void {
    if (this._cancelled) return;
    super.cancel();
    if (this._bucket !== null) cancelTimer(this._bucket);
    this._bucket = null;
  }

  override _fire(): void {
    this._bucket = null;
    super._fire();
  }
}

/**
 * The event loop, as `getRunningLoop()` returns it. Same as asyncio's
 * `AbstractEventLoop`, reduced to what a Node program needs.
 *
 * @example Reporting errors of callbacks
 * ```ts
 * import { getRunningLoop, sleep } from 'tsaio';
 * const loop = getRunningLoop();
 * loop.setExceptionHandler((_loop, context) => console.log('caught:', context.message));
 * loop.callSoon(() => { throw new Error('boom'); });
 * await sleep(0);
 * loop.setExceptionHandler(null);
 * ```
 */
export class EventLoop {
  private _handler: ExceptionHandler | null = null;

  /** The loop's monotonic clock, in ms. */
  time(): number {
    return now();
  }

  /** Runs `fn(...args)` on the next turn of the loop, in FIFO order. */
  callSoon<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): Handle {
    checkFunction(fn, 'callSoon');
    const handle = new Handle(fn as (...args: any[]) => unknown, args);
    scheduleReady(handle);
    scheduled.add(handle);
    return handle;
  }

  /**
   * Runs `fn(...args)` after `ms` milliseconds: same as `callAt(loop.time() + ms, ...)`.
   * A negative delay is a deadline in the past: it runs soon, in deadline
   * order with the other due timers (`callLater(-1000, a); callLater(-2000, b)` runs `b` first).
   */
  callLater<A extends unknown[]>(ms: number, fn: (...args: A) => unknown, ...args: A): TimerHandle {
    checkDelay(ms, 'callLater'); // type and NaN only: its clamp to 0 would lose the deadline order
    checkFunction(fn, 'callLater');
    return schedule(now() + ms, fn as (...args: any[]) => unknown, args);
  }

  /**
   * Runs `fn(...args)` once `loop.time()` reaches `when` (`Infinity`: never).
   * Timers run in deadline order; same-time callbacks run in the order scheduled.
   *
   * @throws {TypeError} if `when` is not a number (`null` included) or `fn` is not a function.
   * @throws {RangeError} if `when` is NaN or -Infinity.
   */
  callAt<A extends unknown[]>(when: number, fn: (...args: A) => unknown, ...args: A): TimerHandle {
    checkTime(when);
    checkFunction(fn, 'callAt');
    return schedule(when, fn as (...args: any[]) => unknown, args);
  }

  /** A new pending `Future`. */
  createFuture<T = unknown>(): Future<T> {
    return new Future<T>();
  }

  /** Same as `createTask(body, opts)`. */
  createTask<T>(body: TaskBody<T>, opts?: TaskOptions): Task<Awaited<T>> {
    return createTask(body, opts);
  }

  /**
   * Runs `job(...args)` on `executor` (`null`: the default one, a shared
   * thread pool that `tsaio/executor` registers when imported) and returns
   * its `Future`. Same as `loop.run_in_executor`: the executor's `submit`
   * does the work, and cancelling the future cancels the job.
   *
   * @throws {TypeError} if `executor` has no `submit`, or it is `null` and `tsaio/executor` was never imported.
   */
  runInExecutor<R = unknown>(executor: ExecutorLike | null, job: unknown, ...args: unknown[]): Future<R> {
    const ex = executor ?? defaultExecutor('runInExecutor');
    if (typeof (ex as Partial<ExecutorLike>)?.submit !== 'function') {
      throw new TypeError(
        `runInExecutor: the executor must have a submit() method or be null, received ${describe(ex)}`,
      );
    }
    const result = ex.submit(job, ...args);
    if (result instanceof Future) return result as Future<R>;
    if (isThenable(result)) return futureFromThenable(result as PromiseLike<R>);
    throw new TypeError(
      `runInExecutor: the executor's submit() must return a Future or a promise, received ${describe(result)}`,
    );
  }

  /** Always true: Node's loop runs whenever JavaScript does. */
  isRunning(): boolean {
    return true;
  }

  /** Turns debug mode on or off (see `run(main, { debug })`). */
  setDebug(enabled: boolean): void {
    setDebug(Boolean(enabled));
  }

  getDebug(): boolean {
    return debugState.enabled;
  }

  /** In debug mode, callbacks running longer than this (ms) are reported. Default 100. */
  get slowCallbackDuration(): number {
    return debugState.slowCallbackDuration;
  }

  set slowCallbackDuration(ms: number) {
    if (typeof ms !== 'number' || !(ms >= 0)) {
      throw new RangeError(`slowCallbackDuration must be a non-negative number of ms, received ${ms}`);
    }
    debugState.slowCallbackDuration = ms;
  }

  /** Sets the handler for errors no caller can receive (`null`: the default one). */
  setExceptionHandler(handler: ExceptionHandler | null): void {
    if (handler !== null) checkFunction(handler, 'setExceptionHandler', 'the handler');
    this._handler = handler;
  }

  getExceptionHandler(): ExceptionHandler | null {
    return this._handler;
  }

  /**
   * Hands `context` to the exception handler. A handler that throws falls
   * back to the default one; a default one that throws (replaced by the
   * program) is logged. Never throws.
   */
  callExceptionHandler(context: ErrorContext): void {
    if (this._handler !== null) {
      try {
        this._handler(this, context);
        return;
      } catch (exception) {
        callDefault(
          this,
          { message: 'Unhandled error in exception handler', exception, context },
          ' while handling an unexpected error in custom exception handler',
        );
      }
    }
    callDefault(this, context, '');
  }

  /** Prints `context` to stderr. */
  defaultExceptionHandler(context: ErrorContext): void {
    const { message, exception } = context;
    console.error(exception === undefined ? message : `${message}\n`, exception ?? '');
  }
}

/** Schedules a timer handle for `at` (not checked); `Infinity` never runs. */
function schedule(at: number, fn: (...args: any[]) => unknown, args: unknown[]): TimerHandle {
  const handle = new TimerHandle(at, fn, args);
  if (at !== Infinity) handle._bucket = addTimer(at, handle);
  scheduled.add(handle);
  return handle;
}

/** `callAt`'s time: a number (`null` is no time here), not NaN nor -Infinity. */
function checkTime(when: unknown): void {
  if (typeof when !== 'number') {
    throw new TypeError(`callAt: the time must be a loop.time() value in ms, received ${describe(when)}`);
  }
  if (Number.isNaN(when) || when === -Infinity) {
    throw new RangeError(`callAt: the time must be a loop.time() value in ms, received ${when}`);
  }
}

/** Runs the default exception handler, logging what it throws instead of throwing it. */
function callDefault(loop: EventLoop, context: ErrorContext, suffix: string): void {
  try {
    loop.defaultExceptionHandler(context);
  } catch (exception) {
    console.error(`Exception in default exception handler${suffix}`, exception);
  }
}

/** `name(arg, ...)` for a handle's text: each argument short, without calling its own `toString`. */
function formatCall(fn: (...args: any[]) => unknown, args: unknown[]): string {
  return `${fn.name || 'anonymous'}(${args.map(formatArg).join(', ')})`;
}

function formatArg(value: unknown): string {
  let text: string;
  switch (typeof value) {
    case 'string':
      text = JSON.stringify(value);
      break;
    case 'bigint':
      text = `${value}n`;
      break;
    case 'function':
      text = value.name || 'anonymous';
      break;
    case 'object':
      try {
        text = value === null ? 'null' : Object.prototype.toString.call(value);
      } catch {
        text = '[object]';
      }
      break;
    default:
      text = String(value);
  }
  return text.length > 20 ? `${text.slice(0, 17)}...` : text;
}

const loop = new EventLoop();
setReporter((context) => loop.callExceptionHandler(context));

/**
 * The event loop. Same as `asyncio.get_running_loop()`; in Node the loop is
 * always running, so this never throws.
 *
 * @example Scheduling callbacks
 * ```ts
 * import { getRunningLoop, sleep } from 'tsaio';
 * const loop = getRunningLoop();
 * loop.callSoon(console.log, 'Execute immediately');
 * loop.callLater(20, console.log, 'Execute after 20 ms');
 * loop.callAt(loop.time() + 30, console.log, 'Execute after 30 ms');
 * await sleep(50);
 * ```
 */
export function getRunningLoop(): EventLoop {
  return loop;
}
