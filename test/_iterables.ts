// Helpers shared by the tests of the async-iterable helpers (map, filter,
// take, batch, merge, buffer, toArray, timeoutEach): counting sources that
// record their pulls and their close, gates, and a concurrency gauge.
import assert from 'node:assert/strict';
import { sleep } from '../src/index.ts';

/** One full turn of the Node event loop. */
export function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

export async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

/** What a counting source saw: how many items were pulled, whether it was closed. */
export interface Log {
  pulled: number;
  closed: boolean;
}

export function newLog(): Log {
  return { pulled: 0, closed: false };
}

/** An async generator over `items` (endless with `null`) that counts pulls and records its `finally`. */
export async function* counting<T = number>(items: T[] | null, log: Log, delay = 0): AsyncGenerator<T> {
  try {
    for (let i = 0; items === null || i < items.length; i++) {
      if (delay > 0) await sleep(delay);
      log.pulled++;
      yield (items === null ? i : items[i]) as T;
    }
  } finally {
    log.closed = true;
  }
}

/** A sync generator that counts pulls and records its `finally`. */
export function* countingSync(n: number, log: Log): Generator<number> {
  try {
    for (let i = 0; i < n; i++) {
      log.pulled++;
      yield i;
    }
  } finally {
    log.closed = true;
  }
}

/**
 * A promise the test releases; a Node timer releases it after `fallbackMs`
 * so that a wrong implementation makes a test fail on timing, never hang.
 * `release()` clears that timer.
 */
export function gate(fallbackMs: number): { promise: Promise<void>; release: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  const timer = setTimeout(() => open(), fallbackMs);
  return {
    promise,
    release: () => {
      clearTimeout(timer);
      open();
    },
  };
}

/** Yields 1, then waits for `g` before yielding 2; marks `log.closed` when it is closed. */
export async function* stuckAfterOne(g: { promise: Promise<void> }, log: Log): AsyncGenerator<number> {
  try {
    yield 1;
    await g.promise;
    yield 2;
  } finally {
    log.closed = true;
  }
}

/**
 * Waits (up to 1 s) until the source's `finally` ran. A source in the middle
 * of a read when the iteration ends is closed once that read finishes (an
 * async generator queues `return()` behind its pending `next()`), so the
 * close may come a moment after the loop exits — never much later.
 */
export async function closedSoon(log: Log): Promise<void> {
  const t0 = performance.now();
  while (!log.closed && performance.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 1));
  assert.equal(log.closed, true, 'the source was not closed');
}

/** A promise with its resolve function. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The error that creating and first pulling `make()` raises, sync or async. */
export async function firstPullError(make: () => AsyncIterator<unknown>): Promise<unknown> {
  try {
    await make().next();
  } catch (e) {
    return e;
  }
  assert.fail('expected the first pull to fail');
}

/** Tracks how many calls run at once. */
export class Gauge {
  running = 0;
  max = 0;
  enter(): void {
    this.running++;
    this.max = Math.max(this.max, this.running);
  }
  leave(): void {
    this.running--;
  }
}

export const LONG = 10_000;
