/**
 * `run`, after `asyncio.run`.
 *
 * @module
 */

import { InvalidStateError } from './exceptions.js';
import { whenDone } from './futures.js';
import { allTasks, createTask, type Task, type TaskBody } from './tasks.js';
import { scheduledHandles } from './events.js';
import { readyPending, scheduleReady } from './_timers.js';
import { debugState } from './_debug.js';
import { reportPendingAtRunEnd, setDebug } from './_diagnostics.js';
import { startTrace, stopTrace } from './_trace.js';
import { failuresSoFar, reportError, reportUnreadFailures } from './_report.js';
import { checkFunction, describe } from './_validate.js';
import { hostProcess } from './_host.js';

/** Options of `run`. */
export interface RunOptions {
  /**
   * Debug mode for the length of the run (as `asyncio.run(main, debug=True)`):
   * warnings, each naming the task and where it was made, for a task blocking
   * the loop longer than `loop.slowCallbackDuration`, a task that can never
   * finish, a task awaiting itself, and tasks still pending when `run` ends;
   * and where it was made added to the report of a failed task whose error
   * nobody read (that report comes with debug mode off too).
   */
  debug?: boolean;
  /**
   * A file to write a trace of the run to, in the Chrome trace-event format
   * (open it in https://ui.perfetto.dev or chrome://tracing): a track per
   * task, a span for each of its waits, an instant for each cancel request
   * and failure.
   */
  trace?: string;
}

/** The active run's main task, or null: one run at a time. */
let running: Task<any> | null = null;

/** True while a `run` (or `runVirtual`) is active. */
export function runActive(): boolean {
  return running !== null;
}

/**
 * Gives up on the active run (a virtual run that stalled): its main task is
 * cancelled, and a new run may start even if that task never ends.
 */
export function abandonRun(reason: string): void {
  const task = running;
  running = null;
  task?.cancel(reason);
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

/**
 * The entry point: runs `main(signal)` as a task and resolves with what it
 * returns (a plain value or a promise). SIGINT and SIGTERM cancel `main`
 * (a second one ends the process at once). When `main` ends, the `callSoon`
 * callbacks ready by then run; then every task made during the run and still
 * pending is cancelled and awaited, and every `callLater`/`callAt` callback
 * the run scheduled that has not run is cancelled, before `run` settles. Same
 * as `asyncio.run`. A task that was pending before `run` began (made by other
 * code, outside this run) is not the run's to cancel and runs on: what a run
 * owns is told by a snapshot of `allTasks()` taken as it starts. It may be called again once it has returned, but not while
 * it runs: inside a running program, `await` the function instead.
 *
 * @throws {InvalidStateError} (as a rejection) if a `run` is already active.
 *
 * @example
 * ```ts
 * import { run, sleep } from 'tsaio';
 * await run(async () => {
 *   console.log('Start');
 *   await sleep(100);
 *   console.log('Done');
 * });
 * ```
 */
export async function run<T>(main: TaskBody<T>, opts?: RunOptions): Promise<Awaited<T>> {
  checkFunction(main, 'run', 'main');
  if (running !== null) {
    throw new InvalidStateError(
      'run() cannot be called while another run() is active; await the function instead',
    );
  }
  const trace = opts?.trace;
  if (trace !== undefined && (typeof trace !== 'string' || trace === '')) {
    throw new TypeError(`run: trace must be the path of a file to write, received ${describe(trace)}`);
  }
  if (trace !== undefined) startTrace(trace); // a file that cannot be opened fails here, before anything runs
  const debugBefore = debugState.enabled;
  if (opts?.debug !== undefined) setDebug(Boolean(opts.debug));
  // What was pending before the run is not the run's: it cancels only what was made while it ran.
  const tasksBefore = allTasks();
  const failuresBefore = failuresSoFar();
  const handlesBefore = new Set(scheduledHandles());
  const task = createTask(main, { name: 'main' });
  running = task;
  const stopSignals = cancelOnSignals(task);
  try {
    await whenDone(task);
    await runReadyCallbacks();
    const pending = tasksMadeSince(tasksBefore);
    reportPendingAtRunEnd(pending);
    await cancelPending(pending);
    // As asyncio.run closes its loop: callbacks the run scheduled and never ran are dropped.
    for (const handle of [...scheduledHandles()]) if (!handlesBefore.has(handle)) handle.cancel();
    return task.result();
  } finally {
    stopSignals();
    // As asyncio reports them when the loop's tasks are collected: failures of the run nobody read.
    reportUnreadFailures(failuresBefore, tasksBefore);
    if (debugState.enabled !== debugBefore) setDebug(debugBefore);
    if (trace !== undefined) stopTrace();
    if (running === task) running = null;
  }
}

/**
 * Cancels `task` on SIGINT/SIGTERM; a second signal gets Node's default
 * action. Where there is no `process` (a browser) there are no signals.
 */
function cancelOnSignals(task: Task<unknown>): () => void {
  const process = hostProcess;
  if (typeof process?.on !== 'function') return () => {};
  const handlers = new Map<NodeJS.Signals, () => void>();
  const remove = (): void => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    handlers.clear();
  };
  for (const signal of SIGNALS) {
    const handler = (): void => {
      if (task.cancelling() > 0 || task.done()) {
        remove();
        stopTrace(); // the process ends now: the trace is completed first
        process.kill(process.pid, signal);
        return;
      }
      task.cancel(`${signal} received`);
      // The shell's convention for a program ended by a signal, if main ends cancelled by it.
      task.addDoneCallback((t) => {
        if (t.cancelled()) process.exitCode ??= 128 + SIGNAL_NUMBERS[signal];
      });
    };
    handlers.set(signal, handler);
    process.on(signal, handler);
  }
  return remove;
}

/** The tasks pending now that were not pending in `before`: those made during the run. */
function tasksMadeSince(before: Set<Task<any>>): Set<Task<any>> {
  const pending = allTasks();
  if (before.size > 0) for (const task of before) pending.delete(task);
  return pending;
}

/**
 * Lets what is ready when `main` ends take its turn (one turn of the loop)
 * before the tasks left are cancelled, as `asyncio.run` does: its loop stops
 * only after the callbacks queued before `main`'s done callback have run —
 * a `callSoon` callback, a task resuming from `sleep(0)`. Timers not yet due
 * are left to be dropped.
 */
async function runReadyCallbacks(): Promise<void> {
  // Queued after every ready entry: it resolves once they have run.
  if (readyPending()) await new Promise<void>((resolve) => scheduleReady(resolve));
}

/** Cancels the tasks in `pending` and waits for all of them. */
async function cancelPending(pending: Set<Task<any>>): Promise<void> {
  if (pending.size === 0) return;
  for (const task of pending) task.cancel();
  await Promise.all([...pending].map(whenDone));
  for (const task of pending) {
    if (!task.cancelled() && task.exception() !== null) {
      reportError({
        message: 'unhandled exception during run() shutdown',
        exception: task.exception(),
        task,
      });
    }
  }
}
