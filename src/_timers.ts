/**
 * Private: the process's timers and ready queue, shared by `sleep`,
 * `timeout`, `callSoon`, `callLater` and `callAt`.
 *
 * Node's own timers cost an object each (about 200 bytes and a linked-list
 * insert). tsaio groups every timer due in the same millisecond into one
 * bucket and keeps the bucket keys in a min-heap, so the whole process needs
 * at most one Node `Timeout` and one `Immediate`, whatever the number of
 * pending sleeps. A deadline is rounded up to a whole millisecond and runs only
 * once `performance.now()` has reached it: timers never fire early. Buckets
 * run in deadline order, a deadline in the past included; entries of one
 * bucket run in the order they were added. A turn runs the buckets that were
 * due and existed when it began: one made by their callbacks waits for the
 * next turn even if its deadline has passed, so a callback that keeps
 * rescheduling itself in the past cannot starve I/O.
 *
 * @module
 */

import { setMacrotask, type Macrotask } from './_host.js';

/** Something the ready queue or a timer bucket can run. */
export interface Runnable {
  _fire(): void;
}

/** A plain function runs as is; an object runs through `_fire` (which checks its own cancelled flag). */
export type Entry = (() => void) | Runnable;

/** A timer bucket: everything due at one whole millisecond. */
export interface Bucket {
  /** Changes only when a virtual run ends and hands the bucket back to the real clock. */
  key: number;
  items: Entry[];
  live: number;
  /** The value of `turns` when the bucket was made: a turn never runs a bucket made during it. */
  readonly turn: number;
  /** The promise every plain `sleep` due in this millisecond shares. */
  shared: Promise<void> | null;
}

const MAX_NODE_DELAY = 2 ** 31 - 1;

let ready: Entry[] = [];
let immediate: Macrotask | null = null;
let nextTurn: Promise<void> | null = null;

const buckets = new Map<number, Bucket>();
const heap: number[] = [];
let liveTimers = 0;
let nodeTimer: NodeJS.Timeout | null = null;
let armedKey = Infinity;
/** How many times the timers fired; a bucket made while they fire belongs to the next turn. */
let turns = 0;

const realNow: () => number = performance.now.bind(performance);

/**
 * The loop's clock in milliseconds (same as `loop.time()`): monotonic real
 * time, or the virtual clock while `runVirtual` runs (`_virtual.ts`).
 */
export let now: () => number = realNow;

/**
 * Counts what goes through tsaio's queues (a callback made ready, a timer
 * set or cancelled): the virtual clock waits for it to stand still.
 */
export let activity = 0;

function run(entry: Entry): void {
  if (typeof entry === 'function') entry();
  else entry._fire();
}

/** Runs `entry` on the next turn of the event loop, after pending I/O callbacks. */
export function scheduleReady(entry: Entry): void {
  activity++;
  ready.push(entry);
  if (immediate === null) immediate = setMacrotask(flushReady);
}

/**
 * A promise that resolves on the next turn of the loop. Every caller in one
 * turn shares it: a million `sleep(0)` cost one promise, not a million.
 */
export function nextTurnPromise(): Promise<void> {
  if (nextTurn === null) nextTurn = new Promise<void>((resolve) => scheduleReady(resolve as () => void));
  return nextTurn;
}

/** A promise that resolves once the clock reaches `when`, shared by every caller due in the same ms. */
export function timerPromise(when: number): Promise<void> {
  const bucket = bucketFor(when);
  if (bucket.shared === null) {
    bucket.shared = new Promise<void>((resolve) => pushEntry(bucket, resolve as () => void));
  }
  return bucket.shared;
}

function flushReady(): void {
  immediate = null;
  nextTurn = null;
  const batch = ready;
  ready = [];
  for (let i = 0; i < batch.length; i++) run(batch[i]!);
}

/**
 * Schedules `entry` to run once the clock reaches `when` (ms). Returns the
 * bucket, which `cancelTimer` needs; the caller marks its own entry dead.
 */
export function addTimer(when: number, entry: Entry): Bucket {
  const bucket = bucketFor(when);
  pushEntry(bucket, entry);
  return bucket;
}

function bucketFor(when: number): Bucket {
  const key = Math.ceil(when);
  let bucket = buckets.get(key);
  if (bucket === undefined) {
    bucket = { key, items: [], live: 0, turn: turns, shared: null };
    buckets.set(key, bucket);
    heapPush(key);
  }
  return bucket;
}

function pushEntry(bucket: Bucket, entry: Entry): void {
  activity++;
  bucket.items.push(entry);
  bucket.live++;
  liveTimers++;
  if (bucket.key < armedKey) arm(bucket.key);
}

/** Tells the timer heap that one entry of `bucket` was cancelled. */
export function cancelTimer(bucket: Bucket): void {
  activity++;
  // A bucket that already fired (or is firing) no longer counts its entries.
  if (buckets.get(bucket.key) !== bucket) {
    if (virtual !== null && virtual.saved.get(bucket.key) === bucket && bucket.live > 0) {
      bucket.live--;
      virtual.savedLive--;
    }
    return;
  }
  bucket.live--;
  liveTimers--;
  if (bucket.live === 0) bucket.items = [];
  if (liveTimers === 0) {
    buckets.clear();
    heap.length = 0;
    disarm();
  } else if (bucket.live === 0 && bucket.key === armedKey) {
    rearm();
  }
}

function arm(key: number): void {
  if (nodeTimer !== null) clearTimeout(nodeTimer);
  armedKey = key;
  if (virtual !== null) {
    nodeTimer = null;
    virtual.wake();
    return;
  }
  const delay = Math.min(Math.max(0, Math.ceil(key - now())), MAX_NODE_DELAY);
  nodeTimer = setTimeout(fireTimers, delay);
}

function disarm(): void {
  if (nodeTimer !== null) clearTimeout(nodeTimer);
  nodeTimer = null;
  armedKey = Infinity;
  virtual?.wake();
}

/** Arms the Node timer for the earliest bucket that still has live entries. */
function rearm(): void {
  while (heap.length > 0) {
    const bucket = buckets.get(heap[0]!);
    if (bucket !== undefined && bucket.live > 0) break;
    if (bucket !== undefined) buckets.delete(bucket.key);
    heapPop();
  }
  if (heap.length === 0) disarm();
  else if (heap[0] !== armedKey || nodeTimer === null) arm(heap[0]!);
}

/** The earliest deadline with a live timer, or null when none is pending (arms nothing). */
export function nextDeadline(): number | null {
  while (heap.length > 0) {
    const bucket = buckets.get(heap[0]!);
    if (bucket !== undefined && bucket.live > 0) return bucket.key;
    if (bucket !== undefined) buckets.delete(bucket.key);
    heapPop();
  }
  return null;
}

/** True while a ready callback waits for its turn. */
export function readyPending(): boolean {
  return immediate !== null;
}

/** Runs the timers due at `now()`, as the Node timer would (for the virtual clock). */
export function fireDue(): void {
  if (nodeTimer !== null) clearTimeout(nodeTimer);
  fireTimers();
}

/** What the virtual clock needs from this module while it runs. */
export interface VirtualClock {
  /** Called whenever the earliest deadline may have changed. */
  wake(): void;
  /** The real clock's timers, set aside until the virtual run ends. */
  readonly saved: Map<number, Bucket>;
  savedLive: number;
}

let virtual: VirtualClock | null = null;

/**
 * Puts the process's timers on a virtual clock that reads `clock()`: the
 * pending real timers are set aside (they neither fire nor move until
 * `leaveVirtualTime`), and every timer made from now on waits for `clock()`
 * to reach it. Returns the state the caller passes to `leaveVirtualTime`.
 */
export function enterVirtualTime(clock: () => number, wake: () => void): VirtualClock {
  const saved = new Map(buckets);
  virtual = { wake, saved, savedLive: liveTimers };
  buckets.clear();
  heap.length = 0;
  liveTimers = 0;
  disarm();
  now = clock;
  return virtual;
}

/**
 * Back to the real clock: the timers set aside come back as they were, and
 * any timer still pending on the virtual clock (`end` is its last reading)
 * keeps its distance from now, on the real clock.
 */
export function leaveVirtualTime(state: VirtualClock, end: number): void {
  const left = [...buckets.values()].filter((bucket) => bucket.live > 0);
  virtual = null;
  now = realNow;
  buckets.clear();
  heap.length = 0;
  liveTimers = state.savedLive;
  for (const [key, bucket] of state.saved) {
    buckets.set(key, bucket);
    heapPush(key);
  }
  const base = Math.ceil(realNow());
  for (const bucket of left) {
    let key = base + Math.max(0, bucket.key - end);
    while (buckets.has(key)) key++;
    bucket.key = key;
    buckets.set(key, bucket);
    heapPush(key);
    liveTimers += bucket.live;
  }
  disarm();
  rearm();
}

function fireTimers(): void {
  nodeTimer = null;
  armedKey = Infinity;
  const t = now();
  const turn = ++turns;
  while (heap.length > 0 && heap[0]! <= t) {
    const bucket = buckets.get(heap[0]!);
    // Made by a callback of this turn: it and every later bucket wait for the next turn.
    if (bucket !== undefined && bucket.turn === turn) break;
    const key = heapPop();
    if (bucket === undefined) continue;
    buckets.delete(key);
    liveTimers -= bucket.live;
    bucket.live = 0;
    const items = bucket.items;
    for (let i = 0; i < items.length; i++) run(items[i]!);
  }
  rearm();
}

function heapPush(key: number): void {
  let i = heap.push(key) - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= key) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = key;
}

function heapPop(): number {
  const top = heap[0]!;
  const last = heap.pop()!;
  const n = heap.length;
  if (n > 0) {
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && heap[child + 1]! < heap[child]!) child++;
      if (heap[child]! >= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
  return top;
}

/** Internal counters for tests: what tsaio still holds in its queues. */
export function _timerStats(): {
  timers: number;
  ready: number;
  nodeTimerArmed: boolean;
  immediateArmed: boolean;
} {
  return {
    timers: liveTimers,
    ready: ready.length,
    nodeTimerArmed: nodeTimer !== null,
    immediateArmed: immediate !== null,
  };
}
