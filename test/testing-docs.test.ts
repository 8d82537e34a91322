// The code of docs/testing.md runs as it is written. Every ```ts block marked
// `// file: NAME.test.ts` is written to test/fixtures/testing-docs/ and run
// with `node --test` (importing 'tsaio' and 'tsaio/testing' from the built
// package, as a user would); it must pass, and its tests must take under 2 s
// of real time (the virtual clock is the point of the page; node's start-up
// and the loading of tsx are not counted). The one `// vitest: ...` block
// needs vitest, which is not a dependency: the page says how it was checked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const page = readFileSync(`${root}/docs/testing.md`, 'utf8');
const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);

interface FileBlock {
  name: string;
  code: string;
}

/** The blocks marked `// file: NAME.test.ts`, with their names. */
const files: FileBlock[] = blocks.flatMap((code) => {
  const m = /^\/\/ file: ([\w-]+\.test\.ts)\n/.exec(code);
  return m === null ? [] : [{ name: m[1]!, code }];
});

const dir = `${root}/test/fixtures/testing-docs/run-${process.pid}`;
before(() => {
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(`${dir}/${f.name}`, f.code);
});
after(() => rmSync(dir, { recursive: true, force: true }));

void test('every ts block of docs/testing.md is a node:test file, the vitest block, or a one-line import', () => {
  assert.ok(files.length >= 6, `found ${files.length} file blocks`);
  assert.equal(new Set(files.map((f) => f.name)).size, files.length, 'two blocks with the same file name');
  const vitest = blocks.filter((code) => /^\/\/ vitest: /.test(code));
  assert.equal(vitest.length, 1);
  assert.match(vitest[0]!, /^import \{ test, expect \} from 'vitest';$/m);
  const others = blocks.filter((code) => !/^\/\/ (file|vitest): /.test(code));
  for (const code of others) assert.match(code, /^import [^\n]+;\n$/, `a block that is not run:\n${code}`);
});

/** This process's environment, without the variable that makes a child `node --test` report to its parent. */
function withoutTestContext(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  return env;
}

/** The top-level tests of a TAP report, with their durations in ms. */
function tapTests(tap: string): { name: string; ms: number }[] {
  return [...tap.matchAll(/^ok \d+ - (.+)\n {2}---\n {2}duration_ms: ([\d.]+)/gm)].map((m) => ({
    name: m[1]!,
    ms: Number(m[2]),
  }));
}

for (const f of files) {
  void test(`docs/testing.md, ${f.name}: passes with node --test, its tests in under 2 s of real time`, () => {
    const t0 = performance.now();
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=tap', `${dir}/${f.name}`],
      // Without the parent's NODE_TEST_CONTEXT: the child reports as a test run of its own, in TAP.
      { cwd: root, env: withoutTestContext(), encoding: 'utf8', timeout: 60_000 },
    );
    const wall = performance.now() - t0;
    assert.equal(r.status, 0, `${f.name} failed:\n${r.stdout}\n--- stderr:\n${r.stderr}`);
    const ran = tapTests(r.stdout);
    const declared = [...f.code.matchAll(/^void test\('/gm)].length;
    assert.equal(ran.length, declared, `ran ${ran.length} of the ${declared} tests:\n${r.stdout}`);
    const total = ran.reduce((sum, t) => sum + t.ms, 0);
    assert.ok(total < 2000, `the tests took ${total.toFixed(0)} ms (${wall.toFixed(0)} ms with start-up)`);
  });
}
