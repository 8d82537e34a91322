// Shared test helpers: leak checks and tolerant timing.
import assert from 'node:assert/strict';
import { getRunningLoop } from '../src/index.ts';
import { _timerStats } from '../src/_timers.ts';
import type { ErrorContext } from '../src/_report.ts';

/** Counts of Node handles of the kinds tsaio may create (timers, immediates). */
export function activeHandles(): { Timeout: number; Immediate: number } {
  const counts = { Timeout: 0, Immediate: 0 };
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'Timeout' || kind === 'Immediate') counts[kind]++;
  }
  return counts;
}

/**
 * Asserts that tsaio left nothing behind: no pending internal timer or
 * ready-queue entry, and no Node timer or immediate of its own. Waits a couple
 * of loop turns first so that callbacks already due can run.
 */
export async function assertNoLeaks(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  const stats = _timerStats();
  assert.equal(stats.timers, 0, `tsaio timer entries left behind: ${stats.timers}`);
  assert.equal(stats.ready, 0, `tsaio ready-queue entries left behind: ${stats.ready}`);
  assert.equal(stats.nodeTimerArmed, false, 'tsaio left a Node timer armed');
  assert.equal(stats.immediateArmed, false, 'tsaio left a Node immediate armed');
  const handles = activeHandles();
  assert.equal(handles.Timeout, 0, `Node timers left: ${JSON.stringify(process.getActiveResourcesInfo())}`);
}

/** Milliseconds elapsed since `start` (a `performance.now()` reading). */
export function since(start: number): number {
  return performance.now() - start;
}

/** Rejects if `p` resolves; resolves to the error it rejected with. */
export async function rejection(p: PromiseLike<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('expected a rejection');
}

/**
 * Where the servers must be there (`TSAIO_REQUIRE_SERVERS=1`, which `.ci/run`
 * sets once it has started them), a missing one fails the test file instead
 * of skipping its tests: CI never passes with tests that did not run.
 */
export function requireServer(reason: string | false | null): void {
  if (reason === false || reason === null || process.env['TSAIO_REQUIRE_SERVERS'] !== '1') return;
  throw new Error(`${reason} — and TSAIO_REQUIRE_SERVERS=1 says it must be there`);
}

/** Runs `fn` with the loop's exception handler collecting what it is given. */
export async function reported(fn: () => Promise<void> | void): Promise<ErrorContext[]> {
  const loop = getRunningLoop();
  const previous = loop.getExceptionHandler();
  const contexts: ErrorContext[] = [];
  loop.setExceptionHandler((_loop, context) => void contexts.push(context));
  try {
    await fn();
  } finally {
    loop.setExceptionHandler(previous);
  }
  return contexts;
}

/**
 * Headless Chromium's flags on these machines (as root, on a closed network),
 * with a fresh profile directory: without the background-networking flags
 * its connections to the outside are refused, many at a time.
 */
export function headlessChromium(profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
  ];
}
