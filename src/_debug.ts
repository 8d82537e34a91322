/**
 * Private: the debug and trace flags, read by the hot paths as one property
 * load, and the hooks those paths call only while a flag is on.
 *
 * `run(main, { debug: true })`, `loop.setDebug(true)` or `TSAIO_DEBUG=1` turn
 * debug mode on (`_diagnostics.ts` does the work); `run(main, { trace })`
 * turns tracing on (`_trace.ts`). Both register their hooks here, so the
 * files on the hot path (tasks, the wait-queue, sleep) import nothing but
 * this one, and pay one `if` on a flag that is off.
 *
 * @module
 */

import { envVar } from './_host.js';

function fromEnv(): boolean {
  const value = envVar('TSAIO_DEBUG');
  return value !== undefined && value !== '' && value !== '0';
}

/** What a task or a wait reports while debug mode or tracing is on. `task` is a `Task`. */
export interface DebugHooks {
  /**
   * A task was made (its creation site is read here); `shared` when it is one
   * of many made at one place (a gather's bodies), which share one site.
   */
  taskCreated(task: object, shared: SharedSite | null): void;
  /** A task's body ran its first synchronous part for `took` ms; `result` is what it returned. */
  taskStarted(task: object, result: unknown, took: number): void;
  /** A task was asked to cancel. */
  taskCancelled(task: object): void;
  /** A task is done: `state` is the future state (FULFILLED, REJECTED, CANCELLED). */
  taskDone(task: object, state: number, value: unknown): void;
  /** `future` is being awaited or observed: a task waiting on itself can never finish. */
  awaited(future: object): void;
  /** A wait began; `promise` settles when it ends. */
  wait(promise: Promise<unknown>, name: string, category: string): void;
}

/**
 * The creation site shared by the tasks one call makes (`gather`'s bodies):
 * debug mode captures it once, for the first of them, with the stack cut at
 * `cut` (the call), and records it for every one.
 */
export interface SharedSite {
  readonly cut: (...args: any[]) => unknown;
  site: object | undefined;
}

const none: DebugHooks = {
  taskCreated() {},
  taskStarted() {},
  taskCancelled() {},
  taskDone() {},
  awaited() {},
  wait() {},
};

/**
 * The loop's debug mode, its slow-callback threshold (ms), whether a trace
 * is being recorded, and `watching` = either of the two (the flag the task
 * paths test).
 */
export const debugState = {
  enabled: fromEnv(),
  slowCallbackDuration: 100,
  tracing: false,
  watching: fromEnv(),
  /**
   * Set while a task's body promise gets its reaction (`_start`): the promise
   * that makes is left without an owner, for its reaction is tsaio's, not the
   * task's (see `_tracker.ts`).
   */
  untracked: false,
};

/** Which hooks are called: debug mode's, the trace's, or both in turn. */
let debugHooks: DebugHooks = none;
let traceHooks: DebugHooks = none;

/** The hooks to call while `debugState.watching`. */
export let hooks: DebugHooks = none;

function combine(): void {
  debugState.watching = debugState.enabled || debugState.tracing;
  if (!debugState.enabled) hooks = debugState.tracing ? traceHooks : none;
  else if (!debugState.tracing) hooks = debugHooks;
  else {
    const a = debugHooks;
    const b = traceHooks;
    hooks = {
      taskCreated: (t, s) => (a.taskCreated(t, s), b.taskCreated(t, s)),
      taskStarted: (t, r, took) => (a.taskStarted(t, r, took), b.taskStarted(t, r, took)),
      taskCancelled: (t) => (a.taskCancelled(t), b.taskCancelled(t)),
      taskDone: (t, s, v) => (a.taskDone(t, s, v), b.taskDone(t, s, v)),
      awaited: (f) => (a.awaited(f), b.awaited(f)),
      wait: (p, n, c) => (a.wait(p, n, c), b.wait(p, n, c)),
    };
  }
}

/** Debug mode's hooks (set once by `_diagnostics.ts`). */
export function setDebugHooks(h: DebugHooks): void {
  debugHooks = h;
  combine();
}

/** The trace's hooks (set once by `_trace.ts`). */
export function setTraceHooks(h: DebugHooks): void {
  traceHooks = h;
  combine();
}

/** Turns the flags on or off and recomputes the hooks; `onChange` listeners run after. */
export function setFlags(flags: { enabled?: boolean; tracing?: boolean }): void {
  if (flags.enabled !== undefined) debugState.enabled = flags.enabled;
  if (flags.tracing !== undefined) debugState.tracing = flags.tracing;
  combine();
  for (const listener of listeners) listener();
}

const listeners: (() => void)[] = [];

/** Calls `listener` after every change of the flags (the promise-hook tracker follows them). */
export function onFlagsChange(listener: () => void): void {
  listeners.push(listener);
}
