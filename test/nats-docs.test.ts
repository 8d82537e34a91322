// Every public name of 'tsaio/nats' has JSDoc with a runnable `@example`, and
// every example runs against the machine's NATS server (imported from the
// built package, as a user would). Streams the examples leave are deleted.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as nats from '../src/nats/index.ts';
import { NATS_URL, ROOT, natsTest } from './_nats.ts';

const dir = `${ROOT}/src/nats`;
const sources = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_') && f !== 'index.ts')
  .map((f) => ({ file: f, text: readFileSync(`${dir}/${f}`, 'utf8') }));

function examplesIn(file: string, text: string): { where: string; code: string }[] {
  const block = /@example([^\n]*)\n((?:\s*\*.*\n)*?)\s*\*\s*```ts\n([\s\S]*?)\n\s*\*\s*```/g;
  return [...text.matchAll(block)].map((m) => ({
    where: `${file}:${text.slice(0, m.index).split('\n').length}`,
    code: m[3]!
      .split('\n')
      .map((line) => line.replace(/^\s*\* ?/, ''))
      .join('\n'),
  }));
}

natsTest('every public name of tsaio/nats has a JSDoc @example', async () => {
  const names = Object.keys(nats).filter((n) => typeof (nats as Record<string, unknown>)[n] === 'function');
  const missing = names.filter((name) => {
    const decl = new RegExp(`\\*/\\s*export (?:async )?(?:function|class) ${name}\\b`);
    return !sources.some(({ text }) => {
      const m = decl.exec(text);
      return m !== null && text.slice(text.lastIndexOf('/**', m.index), m.index).includes('@example');
    });
  });
  assert.deepEqual(missing, []);
});

for (const [i, ex] of sources.flatMap((s) => examplesIn(s.file, s.text)).entries()) {
  natsTest(`example runs: ${ex.where}`, async () => {
    const file = `${ROOT}/.nats-doc-example-${process.pid}-${i}.ts`;
    writeFileSync(file, ex.code);
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, 0, `${ex.where} failed:\n${ex.code}\n--- stderr:\n${r.stderr}`);
    } finally {
      rmSync(file, { force: true });
    }
  });
}

after(async () => {
  const conn = await nats.connect(NATS_URL).catch(() => null);
  if (conn === null) return;
  for await (const name of conn.jsm.streams.names()) {
    if (/^TSAIO_Q_(exec-)?doc-/.test(name)) await conn.jsm.streams.delete(name).catch(() => {});
  }
  await conn.close();
});
