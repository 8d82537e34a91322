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
 *
 * @module
 */

import { CANCELLED, REJECTED } from './futures.js';
import type { Task } from './tasks.js';
import { setFlags, setTraceHooks, type DebugHooks } from './_debug.js';
import { runningTask } from './_tracker.js';
import { now } from './_timers.js';
import { hostProcess, nodeModule } from './_host.js';

/** One event of the trace-event format (times in µs). */
export interface TraceEvent {
  name: string;
  ph: 'X' | 'i' | 'M';
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  cat?: string;
  s?: 't';
  args?: Record<string, unknown>;
}

interface Span {
  name: string;
  cat: string;
  start: number;
  end: number;
  args?: Record<string, unknown>;
}

/** A task's track: its name, its life and its waits; once written out, only how many lanes it used. */
interface Track {
  tid: number;
  name: string;
  start: number;
  spans: Span[];
  instants: TraceEvent[];
  /** Set once the task ended and its events were written: the number of lanes they took. */
  lanes: number;
  /** The recording it belongs to (a task may outlive one and be seen in the next). */
  trace: number;
}

let pid = 0;
/** `node:fs`, while a trace is being written. */
let fs: typeof import('node:fs') | null = null;
/** Written out in pieces of about this many characters: a trace of a million tasks never sits in one string. */
const CHUNK = 1 << 20;
// A task's track rides on the task itself (in trace mode only): no map lookup per event.
const kTrack = Symbol('tsaio.trackOf');
type Tracked = { [kTrack]?: Track };

/** Tracks of tasks not yet ended, and the track of waits made outside any task. */
let live = new Set<Track>();
let outside: Track | null = null;
let nextTid = 1;
let traceNumber = 0;
let fd: number | null = null;
let pending: string[] = [];
let pendingLength = 0;
let count = 0;

const us = (ms: number): number => Math.round(ms * 1000);

function newTrack(tid: number, name: string): Track {
  const track: Track = { tid, name, start: -1, spans: [], instants: [], lanes: -1, trace: traceNumber };
  live.add(track);
  return track;
}

function trackOf(task: object | null): Track {
  if (task === null) return (outside ??= newTrack(0, '(outside any task)'));
  const t = task as Tracked;
  const track = t[kTrack];
  if (track !== undefined && track.trace === traceNumber) return track;
  return (t[kTrack] = newTrack(nextTid++, (task as Task<any>).getName()));
}

function instant(task: object, name: string, args?: Record<string, unknown>): void {
  const track = trackOf(task);
  track.instants.push({ name, ph: 'i', s: 't', pid, tid: track.tid, ts: us(now()), cat: 'task', args });
}

/** One event as JSON, written out by hand (several times faster than `JSON.stringify` of the object). */
function json(e: TraceEvent): string {
  let text = `{"name":${JSON.stringify(e.name)},"ph":"${e.ph}","pid":${e.pid},"tid":${e.tid},"ts":${e.ts}`;
  if (e.dur !== undefined) text += `,"dur":${e.dur}`;
  if (e.cat !== undefined) text += `,"cat":"${e.cat}"`;
  if (e.s !== undefined) text += `,"s":"${e.s}"`;
  if (e.args !== undefined) text += `,"args":${JSON.stringify(e.args)}`;
  return `${text}}`;
}

/** Queues one event for the file; writes the queue out once it is big. */
function emit(event: TraceEvent): void {
  const text = json(event);
  pending.push(count++ === 0 ? text : `,\n${text}`);
  pendingLength += text.length + 2;
  if (pendingLength >= CHUNK) flush();
}

function flush(): void {
  if (fd !== null && pending.length > 0) fs!.writeSync(fd, pending.join(''));
  pending = [];
  pendingLength = 0;
}

/** Writes `spans` and `instants` of `track`, the spans spread over properly nested lanes from lane `first`. */
function writeTrack(track: Track, spans: Span[], instants: TraceEvent[], first: number): number {
  const lanes = nest(spans);
  lanes.forEach((lane, i) => {
    const n = first + i;
    const tid = n === 0 ? track.tid : track.tid + 1_000_000 * n;
    const name = n === 0 ? track.name : `${track.name} (${n + 1})`;
    emit({ name: 'thread_name', ph: 'M', pid, tid, ts: 0, args: { name } });
    emit({ name: 'thread_sort_index', ph: 'M', pid, tid, ts: 0, args: { sort_index: tid } });
    for (const s of lane) {
      const dur = Math.max(0, us(s.end) - us(s.start));
      emit({ name: s.name, cat: s.cat, ph: 'X', pid, tid, ts: us(s.start), dur, args: s.args });
    }
  });
  for (const e of instants) emit(e);
  return lanes.length;
}

/** A task ended: its track is complete, so it is written out and its events let go. */
function retire(track: Track): void {
  live.delete(track);
  track.lanes = writeTrack(track, track.spans, track.instants, 0);
  track.spans = [];
  track.instants = [];
}

const traceHooks: DebugHooks = {
  taskCreated(task) {
    trackOf(task);
  },
  taskStarted(task, _result, took) {
    trackOf(task).start = now() - took;
  },
  taskCancelled(task) {
    instant(task, 'cancel requested');
  },
  taskDone(task, state, value) {
    const track = trackOf(task);
    const end = now();
    track.name = (task as Task<any>).getName();
    if (track.start < 0) track.start = end; // cancelled before it started
    const outcome = state === REJECTED ? 'failed' : state === CANCELLED ? 'cancelled' : 'done';
    track.spans.push({ name: track.name, cat: 'task', start: track.start, end, args: { outcome } });
    if (state === REJECTED) {
      const error = value instanceof Error ? `${value.name}: ${value.message}` : String(value);
      instant(task, 'error', { error });
    }
    retire(track);
  },
  awaited() {},
  wait(promise, name, cat) {
    const track = trackOf(runningTask());
    const span: Span = { name, cat, start: now(), end: -1 };
    const end = (): void => {
      if (fd === null) return;
      span.end = now();
      // A wait that outlived its task (nobody awaited it) goes on lanes of its own.
      if (track.lanes < 0) track.spans.push(span);
      else track.lanes += writeTrack(track, [span], [], track.lanes);
    };
    promise.then(end, end);
  },
};

setTraceHooks(traceHooks);

/** Starts recording into `path` (`run` calls it when given `trace`); a file that cannot be opened fails at once. */
export function startTrace(path: string): void {
  const files = nodeModule('node:fs');
  if (files === undefined) throw new Error(`cannot write the trace ${path}: this runtime has no node:fs`);
  fd = files.openSync(path, 'w');
  fs = files;
  pid = hostProcess?.pid ?? 0;
  traceNumber++;
  live = new Set();
  outside = null;
  nextTid = 1;
  count = 0;
  fs.writeSync(fd, '{"displayTimeUnit":"ms","traceEvents":[\n');
  emit({ name: 'process_name', ph: 'M', pid, tid: 0, ts: 0, args: { name: `tsaio (pid ${pid})` } });
  setFlags({ tracing: true });
}

/** Stops recording: writes what is left (tasks still pending, waits outside tasks) and closes the file. */
export function stopTrace(): void {
  setFlags({ tracing: false });
  if (fd === null) return;
  for (const track of live) writeTrack(track, track.spans, track.instants, 0);
  flush();
  fs!.writeSync(fd, '\n]}\n');
  fs!.closeSync(fd);
  fd = null;
  fs = null;
  live = new Set();
  outside = null;
}

/**
 * Splits spans into lanes in which every two spans are either disjoint or
 * one inside the other, as the format requires of one thread.
 */
function nest(spans: Span[]): Span[][] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
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
