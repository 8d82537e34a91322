/**
 * Private: where errors that have no caller go (a throwing done-callback,
 * cancellation hook or `callSoon` callback, a failed task nobody read). The
 * loop facade installs its exception handler here; until then they are
 * printed.
 *
 * A task that fails with nobody to read its error is watched, as asyncio's
 * `Task.__del__` does ("Task exception was never retrieved"): reading it
 * (`await`, `result()`, `exception()`, `gather`, a `TaskGroup`, `shield`)
 * ends the watch; otherwise it is reported once, when the task is
 * garbage-collected, when the `run` it failed in ends, or when the process
 * exits, whichever comes first. Only failed tasks pay for this (a record and
 * a registration); a task that ends well or is awaited costs nothing.
 *
 * @module
 */

import { hostProcess } from './_host.js';

/** What an exception handler receives, as in `loop.call_exception_handler`. */
export interface ErrorContext {
  message: string;
  exception?: unknown;
  [key: string]: unknown;
}

let reporter: (context: ErrorContext) => void = (context) => {
  console.error(context.message, context.exception ?? '');
};

/** Hands `context` to the loop's exception handler. */
export function reportError(context: ErrorContext): void {
  reporter(context);
}

/** Sets the function `reportError` calls. */
export function setReporter(fn: (context: ErrorContext) => void): void {
  reporter = fn;
}

/** A failed task whose error nobody has read yet. It never holds the task itself. */
export interface Failure {
  readonly ref: WeakRef<object>;
  readonly error: unknown;
  /** Order of failure: `run` reports those that failed while it ran. */
  readonly seq: number;
  /** Where the task was made (debug mode), or ''. */
  readonly source: string;
  /** The task as it printed itself when it failed. */
  text: string;
  /** Read or reported: nothing more to do. */
  closed: boolean;
}

const failures = new WeakMap<object, Failure>();
const unread = new Set<Failure>();
let failureSeq = 0;
let exitWatched = false;

const collected = new FinalizationRegistry<Failure>((failure) => reportFailure(failure));

/** Where `task` was made, as debug mode knows it ('' outside debug mode). */
let creationSite: (task: object) => string = () => '';

/** Sets how a failure report learns where its task was made (debug mode). */
export function setCreationSites(fn: (task: object) => string): void {
  creationSite = fn;
}

/**
 * `task` failed with `error` and nobody is waiting for it: watch it until
 * its error is read. The caller fills `text` once the task is settled.
 */
export function watchFailure(task: object, error: unknown): Failure {
  const failure: Failure = {
    ref: new WeakRef(task),
    error,
    seq: ++failureSeq,
    source: creationSite(task),
    text: '',
    closed: false,
  };
  failures.set(task, failure);
  unread.add(failure);
  collected.register(task, failure, failure);
  // An error keeps its stack's frames, and with them the task, until the stack is read.
  if (error instanceof Error) void error.stack;
  if (!exitWatched) {
    exitWatched = true;
    // No `process` (a browser): no exit to report at; `run` still reports when it ends.
    hostProcess?.once?.('exit', () => reportUnreadFailures(0, null));
  }
  return failure;
}

/** The error of the failed task `task` was read: it will not be reported. */
export function markRetrieved(task: object): void {
  const failure = failures.get(task);
  if (failure !== undefined && !failure.closed) close(failure);
}

function close(failure: Failure): void {
  failure.closed = true;
  unread.delete(failure);
  collected.unregister(failure);
}

function reportFailure(failure: Failure): void {
  if (failure.closed) return;
  close(failure);
  const site = failure.source === '' ? '' : `\n${failure.source}`;
  reportError({
    message: `Task exception was never retrieved: ${failure.text}${site}`,
    exception: failure.error,
    task: failure.text,
    source: failure.source,
  });
}

/** The number of failures so far: a `run` notes it as it starts. */
export function failuresSoFar(): number {
  return failureSeq;
}

/**
 * Reports every failure after the `since`-th that nobody read, except those
 * of tasks in `skip` (a `run` skips the tasks that were not its own).
 */
export function reportUnreadFailures(since: number, skip: ReadonlySet<object> | null): void {
  for (const failure of [...unread]) {
    if (failure.seq <= since) continue;
    const task = failure.ref.deref();
    if (task !== undefined && skip !== null && skip.has(task)) continue;
    reportFailure(failure);
  }
}
