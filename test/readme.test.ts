// The README's example must run and print what its comments say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Runs one code block of the README as a program and returns what it printed. */
function runBlock(code: string, tag: string): string {
  const file = `${root}/.readme-example-${process.pid}-${tag}.ts`;
  writeFileSync(file, code);
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
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

const blocks = [...readFileSync(`${root}/README.md`, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map(
  (m) => m[1]!,
);

void test('the README example runs and prints what it promises', () => {
  assert.ok(blocks.length >= 2, 'README.md has its ```ts blocks');
  const out = runBlock(blocks[0]!, 'intro');
  assert.match(out, /\[ 'Data from url1', 'Data from url2', 'Data from url3' \]/);
  assert.match(out, /Timed out! true/);
});

void test('every other ts block of the README runs too, and prints what its comments say', () => {
  for (const [i, code] of blocks.slice(1).entries()) {
    const out = runBlock(code, String(i + 1));
    for (const m of code.matchAll(/console\.log\(.*\); \/\/ ([^,\s]+)/g)) {
      assert.ok(out.includes(m[1]!), `block ${i + 1} prints ${m[1]}:\n${out}`);
    }
  }
});

void test('the quick start names the commands CI runs', () => {
  const readme = readFileSync(`${root}/README.md`, 'utf8');
  assert.match(readme, /^npm ci && npm run tsaio -- bench$/m);
  assert.match(readme, /^npm test$/m);
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts['tsaio'], 'node dist/cli/main.js');
});
