/**
 * Private: `run(main, { trace: 'trace.json' })` — a record of the run in the
 * Chrome trace-event format (JSON), which Perfetto (ui.perfetto.dev) and
 * chrome://tracing open.
 *
 * - One track (a "thread", `tid`) per task, named after the task; its first
 *   span is the task's life, from the start of its body to its end.
 * - A span for every wait the task makes (sleep, lock, semaphore, condition,
 *   event, barrier, queue get/put/join, rate limiter, and the I/O parts'
 *   HTTP requests, queries and executor jobs), nested in the task's span.
 * - An instant event for each cancel request and each failure.
 *
 * Waits made outside any task go on track 0. Two waits of one task that
 * overlap without nesting (`Promise.all` of two sleeps) cannot share a track
 * in this format: the later one goes on a second track of the same task,
 * named `<task> (2)`.
 *
 * The file is written with `node:fs`, asked of the runtime when a trace
 * starts (Node, Deno and Bun have it; in a browser `trace` fails at once).
 * Events are written as JSON text straight away (no event objects) and in
 * pieces of about 64 kB; the file is completed when the run ends, also
 * when it fails, and when the process exits before that (`process.exit`, a
 * second SIGINT).
 *
 * @module
 */

import { CANCELLED, REJECTED } from './futures.js';
import { allTasks, type Task } from './tasks.js';
import { setFlags, setTraceHooks, type DebugHooks } from './_debug.js';
import { runningTask } from './_tracker.js';
import { now } from './_timers.js';
import { hostProcess, nodeModule } from './_host.js';

/** A span; times in µs. */
interface Span {
  name: string;
  cat: string;
  start: number;
  end: number;
  /** The span's `args`, as JSON ('' for none). */
  args: string;
}

/**
 * A task's track: its life and its waits; once written out, only how many
 * lanes it used. Its name is read from the task when it is written.
 */
interface Track {
  tid: number;
  /** Set for the track of waits outside tasks and of a task seen only after it ended. */
  name: string;
  /** When the task started (µs), or -1. */
  start: number;
  /**
   * The start of the first wait made in the body's first stretch (before
   * `start` is known), or -1: the task's life is made to start no later, so
   * that a pause between the stretch and its hook cannot un-nest the wait.
   */
  firstWait: number;
  /**
   * The latest end of the waits already written on the track's first lane
   * (a wait that ends while its task runs and starts after the ones written
   * before it is written at once), or -1 for none.
   */
  high: number;
  /** Waits over so far and not yet written (made on the first). */
  spans: Span[] | null;
  /** Instants so far, as JSON text without `sep` (made on the first). */
  instants: string[] | null;
  /** Set once the task ended and its events were written: the number of lanes they took. */
  lanes: number;
  /** The recording it belongs to (a task may outlive one and be seen in the next). */
  trace: number;
}

let pid = 0;
/** `,"pid":<pid>,"tid":`, the middle of every event. */
let pidTid = '';
/** `node:fs`, while a trace is being written. */
let fs: typeof import('node:fs') | null = null;
/**
 * Written out in pieces of about this many characters: a trace of a million tasks
 * never sits in one string, and the piece being built, which every collection of
 * the young generation copies, stays small.
 */
const CHUNK = 1 << 16;
// A task's track rides on the task itself, in a field kept for it (a property added
// to each task costs a slow lookup per event): no map lookup per event.
type Tracked = { _track?: Track };

/**
 * Tracks not found among the pending tasks when the trace stops: that of the
 * waits outside any task, and those of tasks first seen after they ended.
 * The tracks of pending tasks are found through `allTasks()`.
 */
let others = new Set<Track>();
let outside: Track | null = null;
let nextTid = 1;
let traceNumber = 0;
let fd: number | null = null;
/** Events not yet written, as JSON text. */
let pending = '';
let stopOnExit: (() => void) | null = null;

/** Now in whole µs (times are kept so: small integers, stored without a box of their own). */
const clock = (): number => Math.round(now() * 1000);

function newTrack(tid: number, name: string): Track {
  return {
    tid,
    name,
    start: -1,
    firstWait: -1,
    high: -1,
    spans: null,
    instants: null,
    lanes: -1,
    trace: traceNumber,
  };
}

function trackOf(task: object | null): Track {
  if (task === null) {
    if (outside === null) others.add((outside = newTrack(0, '(outside any task)')));
    return outside;
  }
  const t = task as Tracked;
  const track = t._track;
  if (track !== undefined && track.trace === traceNumber) return track;
  const made = (t._track = newTrack(nextTid++, ''));
  if ((task as Task<any>).done()) {
    made.name = (task as Task<any>).getName();
    others.add(made);
  }
  return made;
}

function instant(task: object, name: string, args: string): void {
  const track = trackOf(task);
  (track.instants ??= []).push(
    `{"name":${JSON.stringify(name)},"ph":"i","pid":${pid},"tid":${track.tid},"ts":${clock()},"cat":"task","s":"t"${args === '' ? '' : `,"args":${args}`}}`,
  );
}

/** What goes before the next event: nothing before the first. */
let sep = '';

/** Queues one event (JSON text, `sep` first) for the file; writes the queue out once it is big. */
function emit(text: string): void {
  pending += text;
  sep = ',\n';
  if (pending.length >= CHUNK) flush();
}

function flush(): void {
  if (fd !== null && pending.length > 0) fs!.writeSync(fd, pending);
  pending = '';
}

/** The JSON of the last few wait names: most waits are named alike (`sleep 0 ms`). */
let lastName = '';
let lastNameJson = '""';

function nameJson(name: string): string {
  if (name !== lastName) {
    lastName = name;
    lastNameJson = JSON.stringify(name);
  }
  return lastNameJson;
}

function emitSpan(s: Span, tid: number): void {
  emitSpanAt(s.name, s.cat, s.start, s.end, s.args, tid);
}

// The events are joined with `+` from few pieces, the constant ones made once per trace
// (`pidTid`): a trace of a million tasks writes four million events.

function emitSpanAt(name: string, cat: string, start: number, end: number, args: string, tid: number): void {
  emit(spanText(nameJson(name), cat, start, end, args, tid));
}

/** A complete event (`ph` X), `sep` first; `nameText` is the name as JSON. */
function spanText(
  nameText: string,
  cat: string,
  start: number,
  end: number,
  args: string,
  tid: number,
): string {
  const dur = end > start ? end - start : 0;
  const tail = args === '' ? '"}' : '","args":' + args + '}';
  return (
    sep +
    '{"name":' +
    nameText +
    ',"ph":"X"' +
    pidTid +
    tid +
    ',"ts":' +
    start +
    ',"dur":' +
    dur +
    ',"cat":"' +
    cat +
    tail
  );
}

/** The two metadata events of a lane (its name and its place), `sep` first; `nameText` is JSON. */
function laneText(tid: number, nameText: string): string {
  return (
    sep +
    '{"name":"thread_name","ph":"M"' +
    pidTid +
    tid +
    ',"ts":0,"args":{"name":' +
    nameText +
    '}},\n{"name":"thread_sort_index","ph":"M"' +
    pidTid +
    tid +
    ',"ts":0,"args":{"sort_index":' +
    tid +
    '}}'
  );
}

/** Writes `spans` and `instants` of `track`, the spans spread over properly nested lanes from lane `first`. */
function writeTrack(
  track: Track,
  name: string,
  spans: Span[],
  instants: string[] | null,
  first: number,
): number {
  const lanes = spans.length === 0 ? [] : spans.length === 1 ? [spans] : nest(spans);
  for (let i = 0; i < lanes.length; i++) {
    const n = first + i;
    const tid = n === 0 ? track.tid : track.tid + 1_000_000 * n;
    emit(laneText(tid, JSON.stringify(n === 0 ? name : `${name} (${n + 1})`)));
    for (const s of lanes[i]!) emitSpan(s, tid);
  }
  if (instants !== null) for (const e of instants) emit(sep + e);
  return lanes.length;
}

/** The task span's `args` for each outcome. */
const OUTCOME = {
  done: '{"outcome":"done"}',
  failed: '{"outcome":"failed"}',
  cancelled: '{"outcome":"cancelled"}',
  pending: '{"outcome":"pending"}',
};

const traceHooks: DebugHooks = {
  taskCreated(task) {
    trackOf(task);
  },
  taskStarted(task, _result, took) {
    const track = trackOf(task);
    const start = clock() - Math.round(took * 1000);
    track.start = track.firstWait >= 0 && track.firstWait < start ? track.firstWait : start;
  },
  taskCancelled(task) {
    instant(task, 'cancel requested', '');
  },
  taskDone(task, state, value) {
    const track = trackOf(task);
    const end = clock();
    const name = (track.name = (task as Task<any>).getName());
    if (track.start < 0) track.start = end; // cancelled before it started
    const outcome = OUTCOME[state === REJECTED ? 'failed' : state === CANCELLED ? 'cancelled' : 'done'];
    if (state === REJECTED) {
      const error = value instanceof Error ? `${value.name}: ${value.message}` : String(value);
      instant(task, 'error', JSON.stringify({ error }));
    }
    // The task ended: its track is complete, so it is written out and its events let go.
    if (track.spans === null) {
      // No wait left to place (the common case): one lane, its events in one piece.
      const nameText = JSON.stringify(name);
      emit(laneText(track.tid, nameText));
      emit(spanText(nameText, 'task', track.start, end, outcome, track.tid));
      if (track.instants !== null) for (const e of track.instants) emit(sep + e);
      track.lanes = 1;
    } else {
      track.lanes = writeLife(track, name, { name, cat: 'task', start: track.start, end, args: outcome });
    }
    track.spans = null;
    track.instants = null;
    others.delete(track);
  },
  awaited() {},
  wait(promise, name, cat) {
    const track = trackOf(runningTask());
    const start = clock();
    if (track.start < 0 && track.firstWait < 0) track.firstWait = start;
    if (promise === lastWait && name === lastWaitName && cat === lastWaitCat) {
      // Another wait on the promise of the last one (the sleep(0)s of a turn share theirs): it
      // joins the group of the waits after the first, ended by one reaction.
      let group = lastGroup;
      if (group === null) {
        const made: WaitGroup = (group = lastGroup = { name, cat, waits: [] });
        const end = (): void => endGroup(made);
        promise.then(end, end);
      }
      group.waits.push(track, start);
      return;
    }
    lastWait = promise;
    lastWaitName = name;
    lastWaitCat = cat;
    lastGroup = null;
    // The wait is what the closure holds: no object of its own while it lasts.
    const end = (): void => {
      if (lastWait === promise) forgetLastWait();
      endWait(track, name, cat, start, fd === null ? 0 : clock());
    };
    promise.then(end, end);
  },
};

/** Waits on one promise, after the first: their tracks and starts, in pairs. */
interface WaitGroup {
  name: string;
  cat: string;
  waits: (Track | number)[];
}

/**
 * The promise, name and category of the last wait, and the group of the
 * waits made on it after that one (`null` until a second): until the promise
 * settles, a wait on it joins the group, so that many waits on one promise
 * cost a pair of array slots each, not a reaction and a closure. The promise
 * is let go when it settles, at the next wait on another one, or when the
 * trace stops.
 */
let lastWait: Promise<unknown> | null = null;
let lastWaitName = '';
let lastWaitCat = '';
let lastGroup: WaitGroup | null = null;

function forgetLastWait(): void {
  lastWait = null;
  lastGroup = null;
}

/** The promise of a group settled: its waits end together, in the order they began. */
function endGroup(group: WaitGroup): void {
  if (lastGroup === group) forgetLastWait();
  if (fd === null) return;
  const end = clock();
  const waits = group.waits;
  for (let i = 0; i < waits.length; i += 2)
    endWait(waits[i] as Track, group.name, group.cat, waits[i + 1] as number, end);
}

function endWait(track: Track, name: string, cat: string, start: number, end: number): void {
  if (fd === null) return;
  if (track.lanes >= 0) {
    // A wait that outlived its task (nobody awaited it) goes on lanes of its own.
    track.lanes += writeTrack(track, track.name, [{ name, cat, start, end, args: '' }], null, track.lanes);
  } else if (track.start >= 0 && start >= track.high) {
    // After the waits written so far (the common case: one wait after another), inside the
    // task's life: written now on the first lane, where the task's span will enclose it.
    emitSpanAt(name, cat, start, end, '', track.tid);
    track.high = end;
  } else {
    (track.spans ??= []).push({ name, cat, start, end, args: '' });
  }
}

/**
 * Writes the task's life `life` with the waits of `track` not written yet:
 * all on properly nested lanes if none was written at once, else the life on
 * the first lane (around the waits written there) and the others on lanes
 * after it. Returns the number of lanes.
 */
function writeLife(track: Track, name: string, life: Span): number {
  const spans = track.spans;
  if (track.high < 0)
    return writeTrack(track, name, spans === null ? [life] : [...spans, life], track.instants, 0);
  const lanes = writeTrack(track, name, [life], track.instants, 0);
  return spans === null ? lanes : lanes + writeTrack(track, name, spans, null, lanes);
}

setTraceHooks(traceHooks);

/** Starts recording into `path` (`run` calls it when given `trace`); a file that cannot be opened fails at once. */
export function startTrace(path: string): void {
  const files = nodeModule('node:fs');
  if (files === undefined) throw new Error(`cannot write the trace ${path}: this runtime has no node:fs`);
  fd = files.openSync(path, 'w');
  fs = files;
  pid = hostProcess?.pid ?? 0;
  pidTid = `,"pid":${pid},"tid":`;
  traceNumber++;
  others = new Set();
  outside = null;
  nextTid = 1;
  sep = '';
  pending = '';
  fs.writeSync(fd, '{"displayTimeUnit":"ms","traceEvents":[\n');
  const title = JSON.stringify(`tsaio (pid ${pid})`);
  emit(`${sep}{"name":"process_name","ph":"M","pid":${pid},"tid":0,"ts":0,"args":{"name":${title}}}`);
  // A process that exits before the run ends (process.exit) still leaves a complete file.
  if (typeof hostProcess?.once === 'function') hostProcess.once('exit', (stopOnExit = stopTrace));
  setFlags({ tracing: true });
}

/**
 * Stops recording: writes what is left (tasks still pending, their life so
 * far with the outcome `pending`; waits outside tasks) and closes the file.
 */
export function stopTrace(): void {
  setFlags({ tracing: false });
  if (stopOnExit !== null) {
    hostProcess?.off?.('exit', stopOnExit);
    stopOnExit = null;
  }
  if (fd === null) return;
  // A task still pending (the process is exiting, or it was not the run's) shows its life so far.
  const end = clock();
  for (const task of allTasks()) {
    const track = (task as Tracked)._track;
    if (track === undefined || track.trace !== traceNumber || track.lanes >= 0) continue;
    const name = task.getName();
    const start = track.start < 0 ? end : track.start;
    writeLife(track, name, { name, cat: 'task', start, end, args: OUTCOME.pending });
  }
  for (const track of others) writeTrack(track, track.name, track.spans ?? [], track.instants, 0);
  flush();
  fs!.writeSync(fd, '\n]}\n');
  fs!.closeSync(fd);
  fd = null;
  fs = null;
  others = new Set();
  outside = null;
  forgetLastWait();
}

/**
 * Splits spans into lanes in which every two spans are either disjoint or
 * one inside the other, as the format requires of one thread.
 */
function nest(spans: Span[]): Span[][] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  if (sorted.length === 2 && (sorted[1]!.end <= sorted[0]!.end || sorted[0]!.end <= sorted[1]!.start)) {
    return [sorted]; // the common case: a task and its one wait
  }
  const lanes: { spans: Span[]; open: Span[] }[] = [];
  for (const span of sorted) {
    let lane = lanes.find((l) => fits(l.open, span));
    if (lane === undefined) lanes.push((lane = { spans: [], open: [] }));
    while (lane.open.length > 0 && lane.open[lane.open.length - 1]!.end <= span.start) lane.open.pop();
    lane.spans.push(span);
    lane.open.push(span);
  }
  return lanes.map((l) => l.spans);
}

/** True if `span` can go into a lane whose open spans are `open` (innermost last). */
function fits(open: Span[], span: Span): boolean {
  for (let i = open.length - 1; i >= 0; i--) {
    const outer = open[i]!;
    if (outer.end <= span.start) continue; // closed before it starts
    return span.end <= outer.end; // inside the innermost span still open
  }
  return true;
}
