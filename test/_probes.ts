// Shared test helpers for waits: loop turns, promise probes, signal checks.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { CancelledError } from '../src/index.ts';
import { _hookCount } from '../src/_cancel.ts';

/** One full turn of the Node event loop: every pending microtask runs. */
export function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A few turns, for chains of hand-offs. */
export async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

export type Outcome<T> =
  { status: 'pending' } | { status: 'fulfilled'; value: T } | { status: 'rejected'; reason: unknown };

/** Watches a promise without awaiting it (and marks its rejection handled). */
export class Probe<T> {
  outcome: Outcome<T> = { status: 'pending' };
  constructor(readonly promise: Promise<T>) {
    void promise.then(
      (value) => void (this.outcome = { status: 'fulfilled', value }),
      (reason: unknown) => void (this.outcome = { status: 'rejected', reason }),
    );
  }
  get pending(): boolean {
    return this.outcome.status === 'pending';
  }
  get fulfilled(): boolean {
    return this.outcome.status === 'fulfilled';
  }
  get value(): T {
    assert.equal(this.outcome.status, 'fulfilled', `expected fulfilled, got ${this.describe()}`);
    return (this.outcome as { value: T }).value;
  }
  get reason(): unknown {
    assert.equal(this.outcome.status, 'rejected', `expected rejected, got ${this.describe()}`);
    return (this.outcome as { reason: unknown }).reason;
  }
  describe(): string {
    const o = this.outcome;
    return o.status === 'rejected' ? `rejected(${String(o.reason)})` : o.status;
  }
}

export function probe<T>(p: Promise<T>): Probe<T> {
  return new Probe(p);
}

/** Asserts the probe rejected with a CancelledError and returns it. */
export function assertCancelled(p: Probe<unknown>): CancelledError {
  const e = p.reason;
  assert.ok(e instanceof CancelledError, `expected CancelledError, got ${String(e)}`);
  return e;
}

/** Asserts tsaio holds no hook or listener on `signal` any more. */
export function assertUnlinked(signal: AbortSignal): void {
  assert.ok(_hookCount(signal) <= 0, `hooks left on the signal: ${_hookCount(signal)}`);
  assert.equal(getEventListeners(signal, 'abort').length, 0, 'abort listeners left on the signal');
}

/** Polls `pred` every millisecond or so until it holds (or fails after `ms`). */
export async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const start = performance.now();
  while (!pred()) {
    if (performance.now() - start > ms) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Runs `fn` and returns what it threw, or fails. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

/** An acquire (or wait) with its own controller. */
export function cancellable<T>(start: (opts: { signal: AbortSignal }) => Promise<T>): {
  ac: AbortController;
  p: Probe<T>;
} {
  const ac = new AbortController();
  return { ac, p: probe(start({ signal: ac.signal })) };
}
