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
 * @module
 */

import { writeFileSync } from 'node:fs';
import { CANCELLED, REJECTED } from './futures.js';
import type { Task } from './tasks.js';
import { setFlags, setTraceHooks, type DebugHooks } from './_debug.js';
import { runningTask } from './_tracker.js';
import { now } from './_timers.js';

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

/** A task's track: its name, its life and its waits. */
interface Track {
  tid: number;
  name: string;
  start: number;
  spans: Span[];
  instants: TraceEvent[];
}

const pid = process.pid;
let tracks = new Map<object | null, Track>();
let nextTid = 1;
let recording = false;

const us = (ms: number): number => Math.round(ms * 1000);

function trackOf(task: object | null): Track {
  let track = tracks.get(task);
  if (track === undefined) {
    const tid = task === null ? 0 : nextTid++;
    const name = task === null ? '(outside any task)' : (task as Task<any>).getName();
    track = { tid, name, start: -1, spans: [], instants: [] };
    tracks.set(task, track);
  }
  return track;
}

function instant(task: object, name: string, args?: Record<string, unknown>): void {
  const track = trackOf(task);
  track.instants.push({ name, ph: 'i', s: 't', pid, tid: track.tid, ts: us(now()), cat: 'task', args });
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
  },
  taskRetrieved() {},
  awaited() {},
  wait(promise, name, cat) {
    const track = trackOf(runningTask());
    const span: Span = { name, cat, start: now(), end: -1 };
    const end = (): void => {
      span.end = now();
      if (recording) track.spans.push(span);
    };
    promise.then(end, end);
  },
};

setTraceHooks(traceHooks);

/** Starts recording (`run` calls it when given `trace`). */
export function startTrace(): void {
  tracks = new Map();
  nextTid = 1;
  recording = true;
  setFlags({ tracing: true });
}

/** Stops recording and writes the trace to `path` (JSON). Returns the events written. */
export function stopTrace(path: string): TraceEvent[] {
  recording = false;
  setFlags({ tracing: false });
  const events = traceEvents();
  writeFileSync(path, JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms' }));
  return events;
}

/** The recorded tracks as trace events: metadata, spans in properly nested lanes, instants. */
function traceEvents(): TraceEvent[] {
  const events: TraceEvent[] = [
    { name: 'process_name', ph: 'M', pid, tid: 0, ts: 0, args: { name: `tsaio (pid ${pid})` } },
  ];
  for (const track of tracks.values()) {
    if (track.spans.length === 0 && track.instants.length === 0) continue;
    const lanes = nest(track.spans);
    lanes.forEach((lane, i) => {
      const tid = i === 0 ? track.tid : track.tid + 1_000_000 * i;
      const name = i === 0 ? track.name : `${track.name} (${i + 1})`;
      events.push({ name: 'thread_name', ph: 'M', pid, tid, ts: 0, args: { name } });
      events.push({ name: 'thread_sort_index', ph: 'M', pid, tid, ts: 0, args: { sort_index: tid } });
      for (const s of lane) {
        const dur = Math.max(0, us(s.end) - us(s.start));
        events.push({ name: s.name, cat: s.cat, ph: 'X', pid, tid, ts: us(s.start), dur, args: s.args });
      }
    });
    events.push(...track.instants);
  }
  return events;
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
