/**
 * `Task`: a body running concurrently, after `asyncio.Task`.
 *
 * @module
 */

import { CancelledError, InvalidStateError, cancelledFrom, isCancellation } from './exceptions.js';
import {
  CANCELLED,
  FULFILLED,
  Future,
  PENDING,
  REJECTED,
  futureFromThenable,
  isThenable,
} from './futures.js';
import { abortNode, linkSignal, signalOf, unlinkSignal, type CancelNode, type Hook } from './_cancel.js';
import { checkSignal, describe } from './_validate.js';
import { debugState, hooks, type SharedSite } from './_debug.js';
import { readsArgument } from './_signature.js';
import { watchFailure } from './_report.js';

/** What a task runs: a function of the task's `AbortSignal`. */
export type TaskBody<T> = (signal: AbortSignal) => T | PromiseLike<T>;

/** Options of `createTask`. */
export interface TaskOptions {
  /** The task's name (default `Task-<n>`). */
  name?: string;
  /** A parent signal: when it aborts, the task is cancelled. */
  signal?: AbortSignal;
}

let taskCounter = 0;
let current: Task<any> | null = null;

// Tasks not yet done, held strongly in an intrusive list (no Set entry per task).
const registry = { _next: null as Task<any> | null };

// Task bodies start from one shared microtask, in creation order.
let startQueue: Task<any>[] = [];
let startScheduled = false;

function scheduleStart(task: Task<any>): void {
  startQueue.push(task);
  if (!startScheduled) {
    startScheduled = true;
    queueMicrotask(runStarts);
  }
}

function runStarts(): void {
  const queue = startQueue;
  startQueue = [];
  startScheduled = false;
  for (let i = 0; i < queue.length; i++) queue[i]!._start();
}

/**
 * The rarely needed part of a task: its node in the cancellation tree (flag,
 * reason, hooks, lazily made `AbortController`), its cancel-request count
 * and its parent signal. Made on first
 * need, so a task that is never cancelled, never shows its signal and has no
 * parent signal carries none of it (a million plain tasks save ~50 MB).
 */
class TaskNode implements CancelNode {
  _aborted = false;
  _reason: unknown = undefined;
  _hooks: Hook | Set<Hook> | null = null;
  _ctl: AbortController | null = null;
  _cancelRequests = 0;
  _parent: AbortSignal | null = null;
  constructor(readonly _task: Task<any>) {}

  /** The parent signal aborted: cancel with its reason as the cause. */
  handleEvent(): void {
    const task = this._task;
    if (task._state !== PENDING || this._parent === null) return;
    this._cancelRequests++;
    if (debugState.watching) hooks.taskCancelled(task);
    abortNode(this, cancelledFrom(this._parent.reason));
  }
}

/**
 * A body running concurrently with its creator; a `Future` of its result.
 * Made by `createTask`. Same as `asyncio.Task`.
 *
 * @example Cancelling a task
 * ```ts
 * import { createTask, sleep, CancelledError } from 'tsaio';
 * const t = createTask(async (signal) => { await sleep(10_000, undefined, { signal }); });
 * await sleep(10);
 * t.cancel('enough');
 * try { await t; } catch (e) { console.log(e instanceof CancelledError, t.cancelled()); } // true true
 * ```
 */
export class Task<T = unknown> extends Future<T> {
  /** @internal */ _body: TaskBody<T> | null;
  /** @internal */ _name: string | number;
  /** @internal */ _node: TaskNode | null = null;
  /** @internal */ _prev: Task<any> | typeof registry | null = null;
  /** @internal */ _next: Task<any> | null = null;
  /** @internal What tracing records of the task, while a trace is on (see `_trace.ts`). */
  _track: unknown = undefined;

  /** @internal Use `createTask`. */
  constructor(body: TaskBody<T>, name: string | number, shared: SharedSite | null = null) {
    super();
    this._body = body;
    this._name = name;
    const head = registry._next;
    this._prev = registry;
    this._next = head;
    if (head !== null) head._prev = this;
    registry._next = this;
    if (debugState.watching) hooks.taskCreated(this, shared);
  }

  /** The task's name. */
  get name(): string {
    return this.getName();
  }

  set name(value: string) {
    this.setName(value);
  }

  getName(): string {
    return typeof this._name === 'number' ? `Task-${this._name}` : this._name;
  }

  setName(value: string): void {
    this._name = String(value);
  }

  /**
   * The task's `AbortSignal`: aborted when the task is cancelled. Made on
   * first use; every body that can read an argument receives it (one that
   * declares no parameter at all is called without it).
   */
  get signal(): AbortSignal {
    return signalOf(this._nodeOf());
  }

  /**
   * Requests cancellation: aborts the task's signal with a `CancelledError`
   * carrying `msg`. A task that has not started never runs its body. Returns
   * false if the task is done already.
   */
  override cancel(msg?: string): boolean {
    if (this._state !== PENDING) return false;
    const node = this._nodeOf();
    node._cancelRequests++;
    if (debugState.watching) hooks.taskCancelled(this);
    abortNode(node, new CancelledError(msg ?? ''));
    return true;
  }

  /**
   * Not for tasks: a task's outcome is its body's. Always throws
   * `InvalidStateError`, as CPython's `Task.set_result` raises.
   */
  override setResult(_value: T): never {
    throw new InvalidStateError('Task does not support set_result operation');
  }

  /** Not for tasks (see `setResult`): always throws `InvalidStateError`. */
  override setException(_error: unknown): never {
    throw new InvalidStateError('Task does not support set_exception operation');
  }

  /** The number of cancel requests not yet taken back by `uncancel()`. */
  cancelling(): number {
    return this._node === null ? 0 : this._node._cancelRequests;
  }

  /**
   * Takes back one cancel request and returns how many remain. The signal
   * stays aborted (an `AbortSignal` cannot be un-aborted).
   */
  uncancel(): number {
    const node = this._node;
    if (node === null) return 0;
    if (node._cancelRequests > 0) node._cancelRequests--;
    return node._cancelRequests;
  }

  override toString(): string {
    const state = this._state === PENDING && this.cancelling() > 0 ? 'cancelling' : this._describeState();
    return `<Task ${state.replace(/^(\w+)/, `$1 name='${this.getName()}'`)}>`;
  }

  /** @internal The task's node in the cancellation tree, made on first need. */
  _nodeOf(): TaskNode {
    return (this._node ??= new TaskNode(this));
  }

  /** @internal True once the task was cancelled (its signal aborted). */
  _aborted(): boolean {
    return this._node !== null && this._node._aborted;
  }

  /** @internal */
  _start(): void {
    const body = this._body!;
    this._body = null;
    if (this._aborted()) {
      this._finish(CANCELLED, this._node!._reason);
      return;
    }
    const previous = current;
    current = this;
    const started = debugState.watching ? performance.now() : 0;
    let result: unknown;
    try {
      result = readsArgument(body, 0) ? body(this.signal) : (body as () => unknown)();
    } catch (error) {
      current = previous;
      if (debugState.watching) hooks.taskStarted(this, undefined, performance.now() - started);
      this._bodyRejected(error);
      return;
    }
    current = previous;
    if (debugState.watching) hooks.taskStarted(this, result, performance.now() - started);
    if (isThenable(result)) {
      // Bound methods, not arrow functions: two bound functions take less
      // memory than two closures and the context they share.
      const fulfilled = this._bodyFulfilled.bind(this);
      const rejected = this._bodyRejected.bind(this);
      if (debugState.watching && Object.getPrototypeOf(result) === Promise.prototype) {
        // The promise this makes needs no owner for debug mode and tracing (see `_tracker.ts`).
        debugState.untracked = true;
        try {
          result.then(fulfilled, rejected);
        } finally {
          debugState.untracked = false;
        }
      } else {
        result.then(fulfilled, rejected);
      }
    } else {
      this._finish(FULFILLED, result);
    }
  }

  /** @internal */
  _bodyFulfilled(value: unknown): void {
    this._finish(FULFILLED, value);
  }

  /** @internal */
  _bodyRejected(error: unknown): void {
    if (error instanceof CancelledError) this._finish(CANCELLED, error);
    else if (this._aborted() && isCancellation(error))
      this._finish(CANCELLED, cancelledFrom(this._node!._reason));
    else this._finish(REJECTED, error);
  }

  /** @internal */
  _finish(state: number, value: unknown): void {
    if (this._state !== PENDING) return;
    const prev = this._prev!;
    const next = this._next;
    prev._next = next;
    if (next !== null) next._prev = prev;
    this._prev = this._next = null;
    const node = this._node;
    if (node !== null && node._parent !== null) {
      unlinkSignal(node._parent, node);
      node._parent = null;
    }
    if (state === CANCELLED && !(value instanceof CancelledError)) value = cancelledFrom(value);
    // A failure nobody awaits is watched until it is read (an awaited task has its promise).
    const failure = state === REJECTED && this._promise === null ? watchFailure(this, value) : null;
    this._settle(state, value);
    if (failure !== null) failure.text = String(this);
    if (debugState.watching) hooks.taskDone(this, state, value);
  }
}

/**
 * Starts `body` as a task: it runs after the caller's current synchronous
 * run, receiving the task's `AbortSignal`. Same as `asyncio.create_task`.
 *
 * @param body the function to run; `TypeError` if it is not a function.
 * @param opts `name`, and a parent `signal` that cancels the task when it aborts.
 * @returns the `Task`, awaitable for the body's result.
 * @throws {TypeError} if `body` is not a function or `signal` not an `AbortSignal`.
 *
 * @example Two tasks at once
 * ```ts
 * import { createTask, sleep } from 'tsaio';
 * const a = createTask(async () => { await sleep(20); return 'a'; });
 * const b = createTask(async () => { await sleep(20); return 'b'; });
 * console.log(await a, await b); // a b, after about 20 ms, not 40
 * ```
 */
export function createTask<T>(body: TaskBody<T>, opts?: TaskOptions): Task<Awaited<T>> {
  if (typeof body !== 'function') {
    throw new TypeError(`createTask: the body must be a function, received ${describe(body)}`);
  }
  const signal = checkSignal(opts?.signal, 'createTask');
  const task = new Task<Awaited<T>>(body as TaskBody<Awaited<T>>, opts?.name ?? ++taskCounter);
  if (signal !== undefined) {
    const node = task._nodeOf();
    if (signal.aborted) {
      node._cancelRequests++;
      abortNode(node, cancelledFrom(signal.reason));
    } else {
      node._parent = signal;
      linkSignal(signal, node);
    }
  }
  scheduleStart(task);
  return task;
}

/**
 * @internal `createTask(body)` for one of many bodies made into tasks by one
 * call (`gather`'s): in debug mode they share the creation site in `shared`,
 * captured once.
 */
export function createSharedSiteTask<T>(body: TaskBody<T>, shared: SharedSite | null): Task<Awaited<T>> {
  const task = new Task<Awaited<T>>(body as TaskBody<Awaited<T>>, ++taskCounter, shared);
  scheduleStart(task);
  return task;
}

/**
 * The task whose body is running synchronously right now, or `null`. Same as
 * `asyncio.current_task` — but without `AsyncLocalStorage` it sees only the
 * synchronous part of a body up to its first `await`.
 *
 * @example
 * ```ts
 * import { createTask, currentTask } from 'tsaio';
 * await createTask(() => console.log(currentTask()?.name), { name: 'worker' }); // worker
 * ```
 */
export function currentTask(): Task<any> | null {
  return current;
}

/**
 * Every task not yet done. Same as `asyncio.all_tasks`.
 *
 * @example
 * ```ts
 * import { createTask, allTasks, sleep } from 'tsaio';
 * const t = createTask(() => sleep(10));
 * console.log(allTasks().has(t)); // true
 * ```
 */
export function allTasks(): Set<Task<any>> {
  const tasks = new Set<Task<any>>();
  for (let t = registry._next; t !== null; t = t._next) tasks.add(t);
  return tasks;
}

/** Anything tsaio can wait for: a promise, a future or task, or a task body. */
export type AwaitableLike<T> = PromiseLike<T> | TaskBody<T>;

/**
 * The future to wait on for `aw`: a future or task as is, a body as a new
 * task (with `opts`), a promise wrapped in a future, any other value as a
 * done future.
 */
export function ensureFuture<T>(aw: unknown, opts?: TaskOptions): Future<T> {
  if (aw instanceof Future) return aw as Future<T>;
  if (typeof aw === 'function') return createTask(aw as TaskBody<T>, opts) as Future<T>;
  if (isThenable(aw)) return futureFromThenable(aw as PromiseLike<T>);
  const future = new Future<T>();
  future._settle(FULFILLED, aw);
  return future;
}
