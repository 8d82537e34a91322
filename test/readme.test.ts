// The README's examples must run and print what their comments say: the
// TypeScript blocks through tsx, the plain-JavaScript ones with plain node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Runs one code block of the README as a program and returns what it printed:
 * TypeScript through tsx, JavaScript as an ES module with plain node (no
 * loader, as a user without a build step runs it; `tsaio` resolves to the
 * package's own `dist/`).
 */
function runBlock(code: string, tag: string, lang: 'ts' | 'js' = 'ts'): string {
  const file = `${root}/.readme-example-${process.pid}-${tag}.${lang === 'ts' ? 'ts' : 'mjs'}`;
  writeFileSync(file, code);
  try {
    const r = spawnSync(process.execPath, lang === 'ts' ? ['--import', 'tsx', file] : [file], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `README block ${tag} failed:\n${code}\n--- stderr:\n${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(file, { force: true });
  }
}

const readme = readFileSync(`${root}/README.md`, 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
// The plain-JavaScript programs: every js block but a config file (`export default`).
const jsBlocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)]
  .map((m) => m[1]!)
  .filter((code) => !/^export default/m.test(code));

/** Asserts that `out` has what each `console.log(...); // what` line of `code` promises (its first word). */
function printsWhatItSays(code: string, out: string, tag: string): void {
  for (const m of code.matchAll(/console\.log\(.*\); \/\/ ([^,\s]+)/g)) {
    assert.ok(out.includes(m[1]!), `block ${tag} prints ${m[1]}:\n${out}`);
  }
}

void test('the README example runs and prints what it promises', () => {
  assert.ok(blocks.length >= 2, 'README.md has its ```ts blocks');
  const out = runBlock(blocks[0]!, 'intro');
  assert.match(out, /\[ 'Data from url1', 'Data from url2', 'Data from url3' \]/);
  assert.match(out, /Timed out! true/);
});

void test('every other ts block of the README runs too, and prints what its comments say', () => {
  for (const [i, code] of blocks.slice(1).entries()) {
    const out = runBlock(code, String(i + 1));
    printsWhatItSays(code, out, String(i + 1));
  }
});

void test('the plain-JavaScript block runs with plain node (no await using, no loader)', () => {
  assert.equal(jsBlocks.length, 1, 'README.md has one plain-JavaScript program');
  const code = jsBlocks[0]!;
  assert.doesNotMatch(code.replace(/\/\/.*$/gm, ''), /await using/);
  const out = runBlock(code, 'plain-js', 'js');
  printsWhatItSays(code, out, 'plain-js');
});

void test("'Cancellation in one minute': a body not given the signal outlasts the timeout; given it, it stops", () => {
  const code = blocks.find((b) => b.includes('plainSleep'));
  assert.ok(code, 'the section has its example');
  const out = runBlock(code, 'cancellation');
  const ignored = Number(/^finished after (\d+\.\d) s$/m.exec(out)?.[1]);
  const stopped = Number(/^true after (\d+\.\d) s$/m.exec(out)?.[1]);
  assert.ok(ignored >= 0.9, `the 50 ms waitFor waited for the whole second:\n${out}`);
  assert.ok(stopped < 0.6, `given the signal, the wait stopped at the timeout:\n${out}`);
});

void test('the README says what is needed, how to install each part, and what to do when it fails', () => {
  assert.match(readme, /^npm i tsaio$/m);
  for (const driver of ['pg', 'better-sqlite3', '@nats-io/transport-node @nats-io/jetstream']) {
    assert.match(readme, new RegExp(`^npm i tsaio ${driver} +# tsaio/`, 'm'));
  }
  assert.match(readme, /Node\.js ≥ 20\.19/);
  assert.match(readme, /TypeScript ≥\s+5\.2/);
  const trouble = readme.slice(readme.indexOf('## Troubleshooting'));
  for (const symptom of ["SyntaxError: Unexpected identifier 'tg'", 'better-sqlite3', 'A missing driver']) {
    assert.ok(trouble.includes(symptom), `Troubleshooting covers ${symptom}`);
  }
});

void test('the quick start names the commands CI runs', () => {
  const readme = readFileSync(`${root}/README.md`, 'utf8');
  assert.match(readme, /^npm ci && npm run tsaio -- bench$/m);
  assert.match(readme, /^npm test$/m);
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts['tsaio'], 'node dist/cli/main.js');
});
