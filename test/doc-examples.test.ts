// Every public name of 'tsaio' and of each part ('tsaio/http', 'tsaio/fs',
// 'tsaio/executor', 'tsaio/pg', 'tsaio/sqlite', 'tsaio/nats', 'tsaio/eslint')
// has JSDoc with a runnable `@example`, and every such example runs (imported
// from the built package, as a user would). The pg and NATS examples need
// their servers: without one they are skipped, and named as skipped.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tsaio from '../src/index.ts';
import * as fs from '../src/fs/index.ts';
import * as executor from '../src/executor/index.ts';
import * as http from '../src/http/index.ts';
import * as pg from '../src/pg/index.ts';
import * as sqlite from '../src/sqlite/index.ts';
import * as nats from '../src/nats/index.ts';
import * as eslint from '../src/eslint/index.ts';
import * as testing from '../src/testing.ts';
import { NATS_URL, natsSkip } from './_nats.ts';
import { sharedDsn, sharedServer, skipBanner } from './_postgres.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
// Asked before any test is registered: the examples run with spawnSync, which blocks this
// process's loop for as long as each runs, and would time a later probe out.
const pgReason = await sharedServer();
/** The public source files of a part (`''`: the core), by their path under src/. */
function sourcesOf(part: string): { file: string; text: string }[] {
  const dir = `${root}/src${part === '' ? '' : `/${part}`}`;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.startsWith('_') && f !== 'index.ts')
    .map((f) => ({ file: part === '' ? f : `${part}/${f}`, text: readFileSync(`${dir}/${f}`, 'utf8') }));
}

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

/** Why the examples of a part cannot run here, for each test name (`false`: they can). */
type Skip = (name: string) => string | false;
const never: Skip = () => false;

/** The check for one part: its runtime names and their examples. */
function checkPart(title: string, part: string, names: string[], concurrency: number, skip = never): void {
  const sources = sourcesOf(part);
  void describe(`JSDoc examples: ${title}`, { concurrency }, () => {
    void test('every public name has a JSDoc @example', () => {
      const missing = names.filter((name) => {
        const doc = sources.map((s) => docOf(s.text, name)).find((d) => d !== undefined);
        return doc === undefined || !doc.includes('@example');
      });
      assert.deepEqual(missing, [], `public names without a JSDoc @example: ${missing.join(', ')}`);
    });

    const all = sources.flatMap((s) => examplesIn(s.file, s.text));
    void test('there are examples to run', () => assert.ok(all.length >= names.length / 2));

    for (const [i, ex] of all.entries()) {
      const name = `example runs: ${ex.where}`;
      void test(name, { skip: skip(name) }, () => runExample(ex, `${part || 'core'}-${i}`));
    }
  });
}

function runExample(ex: Example, tag: string): void {
  const file = `${root}/.doc-example-${process.pid}-${tag}.ts`;
  writeFileSync(file, ex.code);
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      // The pg examples read DATABASE_URL: the same server the pg tests use, with its user.
      env: { ...process.env, DATABASE_URL: sharedDsn() },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `${ex.where} failed:\n${ex.code}\n--- stderr:\n${r.stderr}`);
  } finally {
    rmSync(file, { force: true });
  }
}

checkPart("'tsaio'", '', Object.keys(tsaio).sort(), 1);
// The parts' examples start workers and touch files: two at a time keeps the file quick.
checkPart(
  "'tsaio/fs'",
  'fs',
  Object.keys(fs)
    .filter((n) => n !== 'os')
    .concat(Object.keys(fs.os).filter((n) => n !== 'unlink'))
    .sort(),
  2,
);
checkPart("'tsaio/executor'", 'executor', Object.keys(executor).sort(), 2);
checkPart("'tsaio/http'", 'http', Object.keys(http).sort(), 2);
checkPart("'tsaio/sqlite'", 'sqlite', Object.keys(sqlite).sort(), 2);
checkPart(
  "'tsaio/eslint'",
  'eslint',
  Object.keys(eslint).filter((n) => n !== 'default'),
  1,
);

// tsaio/testing lives in the core's folder: its examples ran above; its names are checked here.
void test("JSDoc examples: 'tsaio/testing': every public name has a JSDoc @example", () => {
  const text = readFileSync(`${root}/src/testing.ts`, 'utf8');
  const missing = Object.keys(testing).filter((name) => !(docOf(text, name) ?? '').includes('@example'));
  assert.deepEqual(missing, []);
  assert.ok(Object.keys(testing).includes('runVirtual'));
});

const pgSkipped: string[] = [];
checkPart("'tsaio/pg'", 'pg', Object.keys(pg).filter(isClassOrFunction(pg)).sort(), 2, (name) => {
  if (pgReason === null) return false;
  pgSkipped.push(name);
  return pgReason;
});
if (pgReason !== null) after(() => skipBanner('test/doc-examples.test.ts', pgReason, pgSkipped));

checkPart("'tsaio/nats'", 'nats', Object.keys(nats).filter(isClassOrFunction(nats)).sort(), 2, natsSkip);
// The NATS examples make streams named `TSAIO_Q_doc-...`: deleted here.
after(async () => {
  const conn = await nats.connect(NATS_URL).catch(() => null);
  if (conn === null) return;
  for await (const name of conn.jsm.streams.names()) {
    if (/^TSAIO_Q_(exec-)?doc-/.test(name)) await conn.jsm.streams.delete(name).catch(() => {});
  }
  await conn.close();
});

/** Names of classes and functions only (a part's constants, such as its SQLSTATE error table, have one-line docs). */
function isClassOrFunction(part: Record<string, unknown>): (name: string) => boolean {
  return (name) => typeof part[name] === 'function';
}
