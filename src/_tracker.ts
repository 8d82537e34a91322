/**
 * Private: which task is running, across its `await`s — for debug mode and
 * tracing only.
 *
 * `currentTask()` sees a body only up to its first `await` (tsaio uses no
 * `AsyncLocalStorage`). While debug mode or tracing is on, V8's promise hooks
 * fill the gap: a promise made while a task runs belongs to that task, and so
 * does every promise chained from it; when a promise reaction starts, the
 * task it belongs to is the running one until the reaction ends. The hooks
 * are installed only while a flag is on: with both off, promises cost what
 * they cost without tsaio.
 *
 * `node:v8` is asked of the runtime when a flag first turns on. Where it has
 * no promise hooks (Bun, a browser), `runningTask()` is `currentTask()`: a
 * task is seen up to its first `await`, and debug mode's per-stretch timing
 * and the trace's placing of later waits go without.
 *
 * @module
 */

import { currentTask, type Task } from './tasks.js';
import { debugState, onFlagsChange } from './_debug.js';
import { now } from './_timers.js';
import { nodeModule } from './_host.js';

// A promise's task rides on the promise itself (a WeakMap entry per promise costs
// several times more, and ephemerons slow every collection down).
const kOwner = Symbol('tsaio.owner');
type Owned = Promise<unknown> & { [kOwner]?: Task<any> };
let running: Task<any> | null = null;
let startedAt = 0;
let stopHooks: (() => void) | null = null;

/** Called when one stretch of a task (a promise reaction) ran for `took` ms (set by debug mode). */
let onStretch: ((task: Task<any>, took: number) => void) | null = null;

/** Sets what is told of each stretch a task runs; `null` for nothing. */
export function setStretchListener(listener: ((task: Task<any>, took: number) => void) | null): void {
  onStretch = listener;
}

/** The task whose code is running now, also after its first `await` (while a flag is on). */
export function runningTask(): Task<any> | null {
  return currentTask() ?? running;
}

function init(promise: Owned, parent: Owned | undefined): void {
  // The promise of a task's reaction to its body's end: what runs then is the task's end, tsaio's
  // code, neither timed as a stretch of the task nor worth an owner (a property) per task.
  if (debugState.untracked) return;
  const task = currentTask() ?? running ?? parent?.[kOwner];
  if (task != null) promise[kOwner] = task;
}

// A stretch is timed only for debug mode (`startedAt` is -1 when it is not): tracing alone
// reads no clock per promise reaction.
function before(promise: Owned): void {
  running = promise[kOwner] ?? null;
  startedAt = running !== null && debugState.enabled ? now() : -1;
}

function after(): void {
  const task = running;
  running = null;
  if (task !== null && startedAt >= 0 && onStretch !== null) onStretch(task, now() - startedAt);
}

/** Installs the promise hooks, if the runtime has them; else a no-op to stop. */
function install(): () => void {
  try {
    const v8 = nodeModule('node:v8');
    if (v8?.promiseHooks !== undefined)
      return v8.promiseHooks.createHook({ init, before, after }) as () => void;
  } catch {
    // Bun has node:v8 but throws "not yet implemented" here.
  }
  return () => {};
}

function follow(): void {
  if (debugState.watching && stopHooks === null) {
    stopHooks = install();
  } else if (!debugState.watching && stopHooks !== null) {
    stopHooks();
    stopHooks = null;
    running = null;
  }
}

onFlagsChange(follow);
follow();
