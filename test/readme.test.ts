// The README's example must run and print what its comments say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

void test('the README example runs and prints what it promises', () => {
  const readme = readFileSync(`${root}/README.md`, 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  assert.ok(code, 'README.md has a ```ts block');
  const file = `${root}/.readme-example-${process.pid}.ts`;
  writeFileSync(file, code);
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\[ 'Data from url1', 'Data from url2', 'Data from url3' \]/);
    assert.match(r.stdout, /Timed out! true/);
  } finally {
    rmSync(file, { force: true });
  }
});

void test('the quick start names the commands CI runs', () => {
  const readme = readFileSync(`${root}/README.md`, 'utf8');
  assert.match(readme, /^npm ci && npm run tsaio -- bench$/m);
  assert.match(readme, /^npm test$/m);
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts['tsaio'], 'node dist/cli/main.js');
});
