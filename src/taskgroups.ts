/**
 * `TaskGroup` and `taskGroup`, after `asyncio.TaskGroup`.
 *
 * @module
 */

import {
  CancelledError,
  ExceptionGroup,
  InvalidStateError,
  cancelledFrom,
  isCancellation,
} from './exceptions.js';
import { REJECTED, type Observer } from './futures.js';
import { createTask, type Task, type TaskBody, type TaskOptions } from './tasks.js';
import { abortNode, linkSignal, signalOf, unlinkSignal, type CancelNode, type Hook } from './_cancel.js';
import { checkFunction, checkSignal } from './_validate.js';
import { readsArgument } from './_signature.js';

/** Options of `TaskGroup` and `taskGroup`. */
export interface TaskGroupOptions {
  /** The outer signal: aborting it cancels every child. */
  signal?: AbortSignal;
}

const OPEN = 0;
const EXITING = 1;
const FINISHED = 2;

/**
 * Runs tasks as a group that ends only when all of them have ended. The first
 * child that fails (with anything but a cancellation) cancels the others and
 * aborts the group's `signal`; the group then rejects with an
 * `ExceptionGroup` of every error. Same as `asyncio.TaskGroup`.
 *
 * With `await using`, the disposer cannot see an error thrown by the block
 * itself; `taskGroup(fn)` can, and adds it to the group's errors.
 *
 * @example
 * ```ts
 * import { TaskGroup, sleep } from 'tsaio';
 * {
 *   await using tg = new TaskGroup();
 *   const a = tg.createTask(async (signal) => sleep(20, 'a', { signal }));
 *   const b = tg.createTask(async (signal) => sleep(10, 'b', { signal }));
 *   // leaving the block waits for both
 * }
 * ```
 */
export class TaskGroup implements CancelNode, AsyncDisposable, Observer {
  /** @internal */ _aborted = false;
  /** @internal */ _reason: unknown = undefined;
  /** @internal */ _hooks: Hook | Set<Hook> | null = null;
  /** @internal */ _ctl: AbortController | null = null;
  private readonly _tasks = new Set<Task<unknown>>();
  private readonly _errors: unknown[] = [];
  private _state = OPEN;
  private _wake: (() => void) | null = null;
  private readonly _parent: AbortSignal | undefined;
  private _parentAborted = false;

  constructor(opts?: TaskGroupOptions) {
    this._parent = checkSignal(opts?.signal, 'TaskGroup');
    if (this._parent !== undefined) {
      if (this._parent.aborted) this.handleEvent();
      else linkSignal(this._parent, this);
    }
  }

  /** Aborted when a child fails, or when the outer signal aborts. */
  get signal(): AbortSignal {
    return signalOf(this);
  }

  /**
   * Starts `body` as a child task. `InvalidStateError` once the group has
   * finished or is shutting down after a child failed; once the outer signal
   * has aborted, the child is created cancelled and never runs.
   */
  createTask<T>(body: TaskBody<T>, opts?: Pick<TaskOptions, 'name'>): Task<Awaited<T>> {
    checkFunction(body, 'TaskGroup.createTask', 'the body');
    if (this._state === FINISHED)
      throw new InvalidStateError(`TaskGroup.createTask: ${String(this)} is finished`);
    if (this._aborted && !this._parentAborted) {
      throw new InvalidStateError(`TaskGroup.createTask: ${String(this)} is shutting down`);
    }
    const task = createTask(body, opts);
    // Cancelled from outside: the child is created but never runs, as in CPython.
    if (this._parentAborted) task.cancel();
    this._tasks.add(task as Task<unknown>);
    task._addCallback(this);
    return task;
  }

  /** Waits for every child; rejects with an `ExceptionGroup` if any failed. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this._exit(false, undefined);
  }

  toString(): string {
    const state = this._state === FINISHED ? ' finished' : this._aborted ? ' cancelling' : '';
    return `<TaskGroup${state} tasks=${this._tasks.size} errors=${this._errors.length}>`;
  }

  /** @internal The outer signal aborted. */
  handleEvent(): void {
    this._parentAborted = true;
    this._abort(cancelledFrom(this._parent!.reason));
  }

  /** @internal Waits for the children; throws what the group as a whole raises. */
  async _exit(failed: boolean, error: unknown): Promise<void> {
    if (this._state !== OPEN) throw new InvalidStateError(`${String(this)} was exited already`);
    this._state = EXITING;
    if (failed) {
      if (!isCancellation(error)) this._errors.push(error);
      this._abort(isCancellation(error) ? error : new CancelledError());
    }
    while (this._tasks.size > 0) await new Promise<void>((resolve) => (this._wake = resolve));
    this._state = FINISHED;
    if (this._parent !== undefined) unlinkSignal(this._parent, this);
    if (this._errors.length > 0) throw new ExceptionGroup('unhandled errors in a TaskGroup', this._errors);
    if (this._parentAborted) throw cancelledFrom(this._parent!.reason);
    if (failed) throw error;
  }

  private _abort(reason: unknown): void {
    if (!abortNode(this, reason)) return;
    for (const task of this._tasks) task.cancel();
  }

  /** @internal A child is done. */
  _futureDone(task: Task<unknown>): void {
    this._tasks.delete(task);
    task._retrieved();
    if (task._state === REJECTED) {
      this._errors.push(task._value);
      // No message, as CPython's TaskGroup cancels its parent task with none.
      this._abort(new CancelledError());
    }
    if (this._tasks.size === 0 && this._wake !== null) {
      const wake = this._wake;
      this._wake = null;
      wake();
    }
  }
}

/**
 * Runs `body(tg, signal)` with a new `TaskGroup` and waits for every task it
 * started. Rejects with an `ExceptionGroup` of every failure — a child's or
 * the body's own. Same as `async with asyncio.TaskGroup() as tg:`.
 *
 * @example
 * ```ts
 * import { taskGroup, sleep } from 'tsaio';
 * const [a, b] = await taskGroup(async (tg) => {
 *   const a = tg.createTask(() => sleep(20, 'a'));
 *   const b = tg.createTask(() => sleep(10, 'b'));
 *   return [a, b] as const;
 * });
 * console.log(a.result(), b.result()); // a b
 * ```
 */
export async function taskGroup<T>(
  body: (tg: TaskGroup, signal: AbortSignal) => T | PromiseLike<T>,
  opts?: TaskGroupOptions,
): Promise<T> {
  checkFunction(body, 'taskGroup', 'the body');
  const tg = new TaskGroup(opts);
  let value: T;
  try {
    value = await (readsArgument(body, 1) ? body(tg, tg.signal) : body(tg, undefined as never));
  } catch (error) {
    await tg._exit(true, error);
    throw error;
  }
  await tg._exit(false, undefined);
  return value;
}
