// The core runs unchanged in Node, Deno 2, Bun and a browser: the portable
// checks (test/portable/: tasks, run, gather, waitFor/timeout, cancellation,
// sleep, task groups, shield, the locks, the queues, wait/asCompleted/map,
// debug mode and tracing, runVirtual) run here in Node one test each, then in
// Deno, Bun and headless Chromium against the built dist/ (npm test builds).
// A runtime that is not installed is skipped on a dev machine; where
// TSAIO_REQUIRE_RUNTIMES=1 or CI is set (.ci/run installs them) it fails.
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { checks, runCheck, type Outcome } from './portable/checks.ts';
import { binaries, distUrl, runBrowser, runScript, type RuntimeRun } from './_runtimes.ts';

const required = process.env['TSAIO_REQUIRE_RUNTIMES'] === '1' || (process.env['CI'] ?? '') !== '';

void describe('portable checks in Node', () => {
  for (const check of checks) {
    void test(check.name, async () => {
      const outcome = await runCheck(check);
      assert.ok(outcome.ok, outcome.error);
    });
  }
});

void test('the portable checks leave no Node timer or immediate behind', async () => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  const left = process.getActiveResourcesInfo().filter((k) => k === 'Timeout' || k === 'Immediate');
  assert.deepEqual(left, [], JSON.stringify(process.getActiveResourcesInfo()));
});

/** Every check passed in `run`: one failure names them all, with their errors. */
function assertAllPassed(t: TestContext, runtime: string, run: RuntimeRun): void {
  t.diagnostic(`${runtime}: ${run.outcomes.length} checks in ${(run.ms / 1000).toFixed(1)} s`);
  const failed = run.outcomes.filter((o: Outcome) => !o.ok);
  const names = run.outcomes.map((o) => o.name);
  assert.deepEqual(failed, [], `${runtime}: ${failed.length} checks failed`);
  assert.deepEqual(
    names,
    checks.map((c) => c.name),
    `${runtime} ran every check`,
  );
}

/** The binary of `runtime`, or `null` after skipping `t` (failing instead where runtimes are required). */
function binaryOr(t: TestContext, runtime: keyof typeof binaries): string | null {
  const bin = binaries[runtime]();
  if (bin !== null) return bin;
  const why = `${runtime} is not installed (set TSAIO_${runtime.toUpperCase()}, or see .ci/run)`;
  if (required) assert.fail(`${why}, and CI / TSAIO_REQUIRE_RUNTIMES says it must be there`);
  t.skip(why);
  return null;
}

void test('the portable checks pass in Deno', { timeout: 180_000 }, async (t) => {
  const deno = binaryOr(t, 'deno');
  if (deno === null) return;
  assertAllPassed(t, 'deno', await runScript(deno, ['run', '-A', '--no-config', '--no-lock']));
});

void test('the core loads and runs in Deno with no permission granted', { timeout: 60_000 }, async (t) => {
  const deno = binaryOr(t, 'deno');
  if (deno === null) return;
  // Debug mode on, with TSAIO_DEBUG in an environment Deno does not let the core read.
  const script = `import { createTask, run, sleep } from ${JSON.stringify(distUrl('index.js'))};
console.log(await run(async () => { await createTask(() => sleep(5, 'ran')); return 'ran'; }, { debug: true }));`;
  const { output } = await runScript(deno, ['run', '--no-config', '--no-lock', '--no-prompt'], script);
  assert.equal(output.trim(), 'ran');
});

void test('the portable checks pass in Bun', { timeout: 180_000 }, async (t) => {
  const bun = binaryOr(t, 'bun');
  if (bun === null) return;
  assertAllPassed(t, 'bun', await runScript(bun, ['run']));
});

void test('the portable checks pass in headless Chromium', { timeout: 180_000 }, async (t) => {
  const chromium = binaryOr(t, 'chromium');
  if (chromium === null) return;
  assertAllPassed(t, 'chromium', await runBrowser(chromium));
});
