// The flags a worker gets from its parent's command line (`execArgv`).
// Worker threads and child processes used to inherit them all: under
// `node --input-type=module -e '…'` every thread died ("--input-type can
// only be used with string input") and a process pool's children ran the
// `-e` script again instead of the worker program (each one forking the
// next). Here real `node -e` processes run every executor and tsaio/sqlite,
// from the build and from the sources under tsx, and report the flags their
// workers saw; then `workerExecArgv`'s rules, case by case.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workerExecArgv } from '../src/executor/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The `-e` program: runs each executor and sqlite, and prints what each gave (or its error) as JSON. */
function program(from: 'dist' | 'src'): string {
  const ext = from === 'dist' ? 'js' : 'ts';
  const url = (part: string) => new URL(`../${from}/${part}/index.${ext}`, import.meta.url).href;
  return `
if (process.argv.length > 1) { console.log('RE-RUN'); process.exit(0); } // a child ran this script again
console.log('STARTED');
const ex = await import(${JSON.stringify(url('executor'))});
const { connect } = await import(${JSON.stringify(url('sqlite'))});
const out = {};
const attempt = async (name, fn) => {
  try { out[name] = await fn(); } catch (e) { out[name] = 'ERROR ' + e.message; }
};
await attempt('toThread', () => ex.toThread(() => process.execArgv));
await attempt('threadPool', async () => {
  const pool = new ex.ThreadPoolExecutor({ maxWorkers: 1 });
  try { return await pool.submit((a, b) => a + b, 1, 2); } finally { await pool.shutdown(); }
});
await attempt('processPool', async () => {
  const pool = new ex.ProcessPoolExecutor({ maxWorkers: 1 });
  try { return await pool.submit(() => process.execArgv); } finally { await pool.shutdown(); }
});
await attempt('runSync', () => ex.runSync(async (x) => x * 2, 21));
await attempt('createSyncFn', () => {
  const fn = ex.createSyncFn(async () => process.execArgv);
  try { return fn(); } finally { fn.close(); }
});
await attempt('sqlite', async () => {
  const db = await connect(':memory:');
  try { return (await (await db.execute('SELECT 6 * 7 AS n')).fetchone()).n; } finally { await db.close(); }
});
ex.closeRunSync();
await ex.shutdownDefaultExecutor();
console.log(JSON.stringify(out));
`;
}

/** Runs `node <flags> -e <program>` and returns the JSON it printed, after checking it ran once. */
function runUnder(flags: string[], from: 'dist' | 'src'): Record<string, unknown> {
  const r = spawnSync(process.execPath, [...flags, '-e', program(from)], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.signal, null, `node ${flags.join(' ')} -e … was killed: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.filter((l) => l === 'RE-RUN').length, 0, 'a child process ran the -e script again');
  assert.equal(lines[0], 'STARTED', r.stderr);
  return JSON.parse(lines.at(-1)!) as Record<string, unknown>;
}

void test('under node --input-type=module -e, every executor and tsaio/sqlite work (the build)', () => {
  assert.ok(existsSync(new URL('../dist/executor/index.js', import.meta.url)), 'run npm run build first');
  // `--no-lazy-feedback-allocation`: a V8 flag that workerExecArgv does not list; Node refuses it in a
  // thread, and the thread is started without it.
  const out = runUnder(
    ['--conditions=tsaio-probe', '--no-warnings', '--no-lazy-feedback-allocation', '--input-type=module'],
    'dist',
  );
  const kept = ['--conditions=tsaio-probe', '--no-warnings'];
  assert.deepEqual(out, {
    toThread: kept,
    threadPool: 3,
    processPool: [...kept, '--no-lazy-feedback-allocation'],
    runSync: 42,
    createSyncFn: kept,
    sqlite: 42,
  });
});

void test('under node --import tsx --input-type=module -e, from the TypeScript sources', () => {
  const out = runUnder(['--import', 'tsx', '--input-type=module'], 'src');
  // tsx's flags are kept: a thread sees how its process runs (and a pool or sync function it starts
  // registers tsx in turn); a child process running tsaio's TypeScript program needs them.
  const tsx = ['--import', 'tsx'];
  assert.deepEqual(out, {
    toThread: tsx,
    threadPool: 3,
    processPool: tsx,
    runSync: 42,
    createSyncFn: tsx,
    sqlite: 42,
  });
});

void test('workerExecArgv: what a thread and a process get of the parent’s flags', () => {
  const cases: [string[], string[], string[]][] = [
    // parent's execArgv, a thread's, a process's
    [['--input-type=module', '-e', 'code'], [], []],
    [['--input-type', 'module', '--eval', 'code'], [], []],
    [['-p', '1 + 1'], [], []],
    [['--print', '1 + 1'], [], []],
    [['-pe', '1 + 1'], [], []],
    [['--check', '-i', '--interactive'], [], []],
    [['--test', '--test-reporter=spec', '--test-name-pattern', 'x', '--test-only'], [], []],
    [['--experimental-test-coverage', '--test-timeout', '5'], [], []],
    [['--watch', '--watch-path', 'src', '--watch-preserve-output'], [], []],
    [['--inspect', '--inspect-brk=0', '--inspect-port', '9230', '--debug-port=1'], [], []],
    [
      ['--conditions', 'dev', '-C', 'node', '--require', './pre.cjs', '-r', 'x'],
      ['--conditions', 'dev', '-C', 'node', '--require', './pre.cjs', '-r', 'x'],
      ['--conditions', 'dev', '-C', 'node', '--require', './pre.cjs', '-r', 'x'],
    ],
    [
      ['--import', './hooks.mjs', '--experimental-loader=./l.mjs', '--enable-source-maps'],
      ['--import', './hooks.mjs', '--experimental-loader=./l.mjs', '--enable-source-maps'],
      ['--import', './hooks.mjs', '--experimental-loader=./l.mjs', '--enable-source-maps'],
    ],
    [
      ['--no-warnings', '--disable-warning=DEP0040', '--trace-warnings', '--unhandled-rejections=warn'],
      ['--no-warnings', '--disable-warning=DEP0040', '--trace-warnings', '--unhandled-rejections=warn'],
      ['--no-warnings', '--disable-warning=DEP0040', '--trace-warnings', '--unhandled-rejections=warn'],
    ],
    [
      ['--experimental-default-type=module', '--experimental-vm-modules', '--no-experimental-fetch'],
      ['--experimental-default-type=module', '--experimental-vm-modules', '--no-experimental-fetch'],
      ['--experimental-default-type=module', '--experimental-vm-modules', '--no-experimental-fetch'],
    ],
    // The process's own settings: a thread shares them (Node refuses them per thread); a process gets them.
    [
      ['--max-old-space-size=4096', '--expose-gc', '--title', 'app', '--abort-on-uncaught-exception'],
      [],
      ['--max-old-space-size=4096', '--expose-gc', '--title', 'app', '--abort-on-uncaught-exception'],
    ],
    // tsx: kept (a process pool drops it for its JavaScript program itself).
    [
      ['--import', 'tsx', '--no-warnings'],
      ['--import', 'tsx', '--no-warnings'],
      ['--import', 'tsx', '--no-warnings'],
    ],
    [
      ['--import=tsx/esm', '--loader', 'tsx'],
      ['--import=tsx/esm', '--loader', 'tsx'],
      ['--import=tsx/esm', '--loader', 'tsx'],
    ],
  ];
  for (const [parent, thread, child] of cases) {
    assert.deepEqual(workerExecArgv('thread', parent), thread, `a thread, from ${parent.join(' ')}`);
    assert.deepEqual(workerExecArgv('process', parent), child, `a process, from ${parent.join(' ')}`);
  }
  assert.deepEqual(workerExecArgv('thread'), workerExecArgv('thread', process.execArgv));
  assert.throws(() => workerExecArgv('fiber' as never), RangeError);
});
