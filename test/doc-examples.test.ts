// Every public name of 'tsaio' has JSDoc with a runnable `@example`, and every
// such example runs (imported from the built package, as a user would).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tsaio from '../src/index.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const srcDir = `${root}/src`;
const sources = readdirSync(srcDir)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_') && f !== 'index.ts')
  .map((f) => ({ file: f, text: readFileSync(`${srcDir}/${f}`, 'utf8') }));

interface Example {
  where: string;
  code: string;
}

/** The JSDoc block that ends right before `export ... name`, if any. */
function docOf(text: string, name: string): string | undefined {
  const decl = new RegExp(`\\*/\\s*export (?:async )?(?:function\\*?|class|const|abstract class) ${name}\\b`);
  const m = decl.exec(text);
  if (!m) return undefined;
  const start = text.lastIndexOf('/**', m.index);
  return text.slice(start, m.index + 2);
}

function examplesIn(file: string, text: string): Example[] {
  const found: Example[] = [];
  const block = /@example([^\n]*)\n((?:\s*\*.*\n)*?)\s*\*\s*```ts\n([\s\S]*?)\n\s*\*\s*```/g;
  for (const m of text.matchAll(block)) {
    const code = m[3]!
      .split('\n')
      .map((line) => line.replace(/^\s*\* ?/, ''))
      .join('\n');
    const line = text.slice(0, m.index).split('\n').length;
    found.push({ where: `${file}:${line}${m[1]!.trim() ? ` (${m[1]!.trim()})` : ''}`, code });
  }
  return found;
}

void describe('JSDoc examples', () => {
  const runtimeNames = Object.keys(tsaio).sort();

  void test('every public name has a JSDoc @example', () => {
    const missing = runtimeNames.filter((name) => {
      const doc = sources.map((s) => docOf(s.text, name)).find((d) => d !== undefined);
      return doc === undefined || !doc.includes('@example');
    });
    assert.deepEqual(missing, [], `public names without a JSDoc @example: ${missing.join(', ')}`);
  });

  const all = sources.flatMap((s) => examplesIn(s.file, s.text));
  void test('there are examples to run', () => assert.ok(all.length >= runtimeNames.length / 2));

  for (const [i, ex] of all.entries()) {
    void test(`example runs: ${ex.where}`, () => {
      const file = `${root}/.doc-example-${process.pid}-${i}.ts`;
      writeFileSync(file, ex.code);
      try {
        const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
          cwd: root,
          encoding: 'utf8',
          timeout: 30_000,
        });
        assert.equal(r.status, 0, `${ex.where} failed:\n${ex.code}\n--- stderr:\n${r.stderr}`);
      } finally {
        rmSync(file, { force: true });
      }
    });
  }
});
