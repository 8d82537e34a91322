/**
 * Private: debug mode's warnings, after asyncio's debug mode. Each names the
 * task and where it was created (a short stack, taken when the task was made):
 *
 * - a task running one synchronous stretch longer than
 *   `loop.slowCallbackDuration` (it blocks the loop: the seed's pitfall 1);
 * - where a failed task nobody read was made (the report itself is not
 *   debug mode's: `_report.ts` makes it, in debug mode or not);
 * - a task whose body was garbage-collected while the task was pending: the
 *   body waits on a promise nothing can settle any more, so the task can
 *   never finish (tsaio holds pending tasks strongly, so this is what
 *   asyncio's "Task was destroyed but it is pending!" becomes);
 * - tasks still pending when `run` ends (`run` then cancels them);
 * - a task awaiting itself (it can never finish);
 * - a task still running `loop.slowCallbackDuration` after it was cancelled:
 *   its body does not stop on its signal (a `timeout` or `waitFor` then waits
 *   for it to end on its own);
 * - a call that blocks the loop's thread (`runSync` on the loop's thread).
 *
 * The ones asyncio sends to the loop's exception handler go there too; the
 * others are printed with `console.warn`. Nothing here runs while debug mode
 * is off: the hot paths test one flag.
 *
 * @module
 */

import { Task, createTask } from './tasks.js';
import { debugState, setDebugHooks, setFlags, type DebugHooks } from './_debug.js';
import { reportError, setCreationSites } from './_report.js';
import { runningTask, setStretchListener } from './_tracker.js';
import { nodeModule, unref } from './_host.js';

/**
 * Where a task was made, as the engine captured it (debug mode knows nothing
 * else of a task). `stack` is formatted the first time a warning or report
 * reads it (`siteText`), then let go for the text.
 */
interface TaskRecord {
  stack?: string;
  /** The creation site as text, once read. */
  text?: string;
}

// A task's record rides on the task itself (a WeakMap entry per task costs more,
// and ephemerons slow every collection down). It never holds the task; the tasks
// made by one call (a gather's bodies) share one record.
const kRecord = Symbol('tsaio.createdAt');
type Recorded = { [kRecord]?: TaskRecord | undefined };

function recordOf(task: object): TaskRecord | undefined {
  return (task as Recorded)[kRecord];
}

// The held value is the task, and so is the unregister token: it is alive anyway
// while pending (tasks are held until done), and once done it is unregistered.
const bodyCollected = new FinalizationRegistry<Task<any>>((task) => {
  const record = recordOf(task);
  if (task.done() || record === undefined) return;
  reportError({
    message:
      `Task was destroyed but it is pending! The body of ${String(task)} waits on a promise ` +
      `that nothing can settle any more, so the task can never finish.\n${createdAt(record)}`,
    task,
    source: siteText(record),
  });
});

// tsaio's own frames: files under the folder of this one (the core and the I/O parts),
// named by path (Node's file: frames) or by URL (a browser's, Deno's remote modules).
const ownUrl = new URL('.', import.meta.url).href;
let ownDir: string | null = null;
// Three frames of tsaio's (say waitFor -> ensureFuture) and three of the caller's:
// each frame captured costs time and memory for as long as the task is pending.
const FRAMES = 6;

/** This folder as a path, found when debug mode first needs it ('' where there is no node:url). */
function ownPath(): string {
  if (ownDir !== null) return ownDir;
  const url = nodeModule('node:url');
  ownDir = url !== undefined && ownUrl.startsWith('file:') ? url.fileURLToPath(ownUrl) : '';
  return ownDir;
}

/**
 * Where a task is being made, captured but not yet formatted: V8 and
 * JavaScriptCore record the frames above `cut` (`createTask`, or the
 * `gather` whose bodies share the capture: the stack is cut there) and make
 * the text only when `stack` is read, which a task that never appears in a
 * warning or report never does. Formatting frames was most of what debug
 * mode cost per task; the capture itself (several µs and about 500 bytes
 * while the task is pending) is what is left, once per `createTask` call and
 * once per `gather`.
 */
function captureSite(cut: (...args: any[]) => unknown): TaskRecord {
  const holder: TaskRecord = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = FRAMES;
  if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(holder, cut);
  else holder.stack = new Error().stack; // elsewhere tsaio's frames are filtered out by `siteText`
  Error.stackTraceLimit = limit;
  return holder;
}

/**
 * Where a task was made: up to three frames of the code that called
 * `createTask` (or `gather`, a task group ...), tsaio's and Node's own frames
 * left out. Formats the captured stack on first call and keeps the text.
 */
function siteText(holder: TaskRecord): string {
  if (holder.text !== undefined) return holder.text;
  const dir = ownPath();
  const text = (holder.stack ?? '')
    .split('\n')
    .slice(1)
    .filter(
      (line) =>
        (dir === '' || !line.includes(dir)) && !line.includes(ownUrl) && !/\(node:|at node:/.test(line),
    )
    .slice(0, 3)
    .map((line) => line.trim())
    .join('\n');
  holder.text = text;
  holder.stack = undefined; // the frames are let go once formatted
  return text;
}

function createdAt(record: TaskRecord): string {
  const source = siteText(record);
  const site = source === '' ? '(unknown)' : source.split('\n').join('\n    ');
  return `  created at:\n    ${site}`;
}

/** `${task} ${what}`, then where the task was made (unknown for a task made before debug mode was on). */
export function describeTask(task: object, what: string): string {
  const record = recordOf(task);
  const site = record === undefined ? '  created at: (before debug mode was on)' : createdAt(record);
  return `${String(task)} ${what}\n${site}`;
}

function warn(text: string): void {
  console.warn(text);
}

function slow(task: Task<any>, took: number): void {
  if (took <= debugState.slowCallbackDuration) return;
  warn(`Executing ${describeTask(task, `took ${(took / 1000).toFixed(3)} seconds`)}`);
}

/**
 * Tasks cancelled and not yet done, in the order they were first cancelled,
 * with when (`performance.now()`). One Node timer, unref'd, is armed for the
 * oldest while any is left; a task that ends takes itself off at once.
 */
const cancelledAt = new Map<Task<any>, number>();
let deafTimer: ReturnType<typeof setTimeout> | null = null;

function watchCancelled(task: Task<any>): void {
  if (task.done() || cancelledAt.has(task)) return;
  cancelledAt.set(task, performance.now());
  if (deafTimer === null) armDeafTimer();
}

function unwatchCancelled(task: Task<any>): void {
  if (!cancelledAt.delete(task) || cancelledAt.size > 0 || deafTimer === null) return;
  clearTimeout(deafTimer);
  deafTimer = null;
}

function armDeafTimer(): void {
  const oldest = cancelledAt.values().next().value!;
  const delay = Math.max(0, oldest + debugState.slowCallbackDuration - performance.now());
  deafTimer = setTimeout(checkCancelled, Math.ceil(delay));
  unref(deafTimer);
}

/** Warns of each task still running past the threshold since its cancellation (once per task). */
function checkCancelled(): void {
  deafTimer = null;
  const now = performance.now();
  for (const [task, at] of cancelledAt) {
    const after = now - at;
    if (!task.done() && after < debugState.slowCallbackDuration) break;
    cancelledAt.delete(task);
    // Done, or its cancellation taken back with `uncancel()`: nothing to say.
    if (task.done() || task.cancelling() === 0 || !debugState.enabled) continue;
    warn(
      describeTask(
        task,
        `is still running ${(after / 1000).toFixed(3)} seconds after it was cancelled: its body does not ` +
          'stop on its signal (pass the signal on to what it awaits; a timeout waits for it to end)',
      ),
    );
  }
  if (cancelledAt.size > 0) armDeafTimer();
}

/** For tests: how many cancelled tasks are watched, and whether the timer is armed. */
export function _cancelWatchStats(): { tasks: number; timerArmed: boolean } {
  return { tasks: cancelledAt.size, timerArmed: deafTimer !== null };
}

const debugHooks: DebugHooks = {
  taskCreated(task, shared) {
    // The tasks of one call (a gather's bodies) were made at one place: one capture for them all.
    (task as Recorded)[kRecord] =
      shared === null ? captureSite(createTask) : ((shared.site ??= captureSite(shared.cut)) as TaskRecord);
  },
  taskStarted(task, result, took) {
    if (recordOf(task) !== undefined && result !== null && typeof result === 'object') {
      bodyCollected.register(result, task as Task<any>, task);
    }
    slow(task as Task<any>, took);
  },
  taskCancelled(task) {
    watchCancelled(task as Task<any>);
  },
  taskDone(task) {
    unwatchCancelled(task as Task<any>);
    const t = task as Recorded;
    if (t[kRecord] === undefined) return;
    // A done task's body can strand it no more: the registry lets go of it now, not in
    // a finalization callback after the next collection. Its creation site is needed
    // no more either (a failure report took it as the task failed), so the frames go too.
    bodyCollected.unregister(task);
    t[kRecord] = undefined;
  },
  awaited(future) {
    if (!(future instanceof Task) || runningTask() !== future || future.done()) return;
    warn(describeTask(future, 'awaits itself: it can never finish (a deadlock)'));
  },
  wait() {},
};

setDebugHooks(debugHooks);
// A failure report names where its task was made, when debug mode saw it made.
setCreationSites((task) => {
  const record = recordOf(task);
  return record === undefined ? '' : createdAt(record);
});
setStretchListener((task, took) => {
  if (debugState.enabled) slow(task, took);
});

/** Turns debug mode on or off (`loop.setDebug`, `run(main, { debug })`). */
export function setDebug(enabled: boolean): void {
  setFlags({ enabled });
}

/** `run` is ending: warns of the tasks it made that are still pending (which `run` then cancels). */
export function reportPendingAtRunEnd(pending: Iterable<Task<any>>): void {
  if (!debugState.enabled) return;
  for (const task of pending) warn(describeTask(task, 'was still pending when run() ended: cancelling it'));
}

/**
 * A call that blocks the loop's thread until other work finishes (`runSync`
 * on the loop's thread): in debug mode, a warning naming the running task.
 */
export function warnBlockingCall(what: string, took: number): void {
  if (!debugState.enabled) return;
  const task = runningTask();
  const blocked = `${what} blocked the event loop's thread for ${(took / 1000).toFixed(3)} seconds`;
  warn(task === null ? `${blocked}, outside any task` : `${blocked}, in ${describeTask(task, 'made it')}`);
}
