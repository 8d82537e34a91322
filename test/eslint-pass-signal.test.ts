// `tsaio/pass-signal` (src/eslint/passsignal.ts): inside a function with an
// AbortSignal in scope, a call that accepts one and is not given it is
// reported, with a suggestion that passes it. The fixtures are the cases:
// test/fixtures/pass-signal-reported.ts (one report per line marked
// `// reported`) and test/fixtures/pass-signal-ok.ts (none).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, type Rule } from 'eslint';
import tseslint from 'typescript-eslint';
import ts from 'typescript';
import tsaio, { recommended } from '../src/eslint/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPORTED = 'test/fixtures/pass-signal-reported.ts';
const OK = 'test/fixtures/pass-signal-ok.ts';

/**
 * The fixtures' TypeScript program, with `file` read as `text` when given.
 * The linter is handed this program (`parserOptions.programs`) rather than
 * building and caching one of its own, so that what other test files do to
 * the disk meanwhile cannot change the types the rule sees.
 */
function fixtureProgram(file?: string, text?: string): ts.Program {
  const config = ts.getParsedCommandLineOfConfigFile(
    `${ROOT}/test/fixtures/tsconfig.pass-signal.json`,
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  )!;
  const host = ts.createCompilerHost(config.options);
  const read = host.readFile;
  const target = file === undefined ? undefined : resolve(file);
  host.readFile = (name) => (resolve(name) === target ? text : read(name));
  return ts.createProgram(config.fileNames, config.options, host);
}

/** ESLint with the recommended config of `tsaio/eslint`, over a program of the two fixtures alone. */
function linter(program: ts.Program = fixtureProgram()): ESLint {
  return new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: {
          parser: tseslint.parser,
          parserOptions: { programs: [program] },
        },
        plugins: { '@typescript-eslint': tseslint.plugin as never, ...recommended.plugins },
        rules: { 'tsaio/pass-signal': 'error' },
      },
    ],
  });
}

/** `text` with the fix of one suggestion applied. */
function applyFix(text: string, fix: Rule.Fix): string {
  return text.slice(0, fix.range[0]) + fix.text + text.slice(fix.range[1]);
}

/** The type errors of the fixture's project with `file` read as `text`. */
function typeErrors(file: string, text: string): string[] {
  const program = fixtureProgram(file, text);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

// What each reported line becomes once its suggestion is applied (the comment dropped).
const FIXED = [
  'await sleep(1000, undefined, { signal });',
  'await delay(100, undefined, { signal });',
  'await fetch(url, { signal });',
  "await fetch(url, { method: 'POST', signal });",
  'await fetchOne(url, signal);',
  "await once(new EventEmitter(), 'ready', { signal });",
  'await request(url, { signal });',
  'await queue.get({ signal });',
  'await gather([() => sleep(1, undefined, { signal })], { ...options, signal });',
  'await Promise.all([url].map((u) => fetch(u, { signal })));',
  'await timeout(50, (inner) => sleep(10, undefined, { signal: inner }), { signal });',
  'await using group = new TaskGroup({ signal });',
  'await pipeline(source, sink, { signal });',
  'return (await fetch(url, { signal })).status;',
  'export const renamed = (s: AbortSignal): Promise<void> => sleep(5, undefined, { signal: s });',
];

void describe('tsaio/pass-signal', () => {
  void test('reports each call that accepts a signal and is not given the one in scope, and nothing else', async () => {
    const text = readFileSync(`${ROOT}/${REPORTED}`, 'utf8');
    const marked = text.split('\n').flatMap((line, i) => (line.endsWith('// reported') ? [i + 1] : []));
    assert.equal(marked.length, FIXED.length);
    const [result] = await linter().lintFiles([REPORTED]);
    const messages = result!.messages;
    assert.deepEqual(
      messages.map((m) => `${m.line}: ${m.ruleId}`),
      marked.map((line) => `${line}: tsaio/pass-signal`),
      messages.map((m) => `${m.line}: ${m.message}`).join('\n'),
    );
  });

  void test('each report suggests passing the signal, as `{ signal }` or in the position the function takes it', async () => {
    const text = readFileSync(`${ROOT}/${REPORTED}`, 'utf8');
    const [result] = await linter().lintFiles([REPORTED]);
    const fixed = result!.messages.map((m) => {
      assert.equal(m.suggestions?.length, 1, `one suggestion on line ${m.line}`);
      const after = applyFix(text, m.suggestions![0]!.fix).split('\n')[m.line - 1]!;
      return after.replace(/ \/\/ reported$/, '').trim();
    });
    assert.deepEqual(fixed, FIXED);
  });

  void test('with every suggestion applied, the file type-checks and nothing is left to report', async () => {
    const text = readFileSync(`${ROOT}/${REPORTED}`, 'utf8');
    const [result] = await linter().lintFiles([REPORTED]);
    // Applied from the end of the file back, so that earlier ranges stay where they were.
    const fixes = result!.messages.map((m) => m.suggestions![0]!.fix).sort((a, b) => b.range[0] - a.range[0]);
    const fixed = fixes.reduce(applyFix, text);
    const file = `${ROOT}/${REPORTED}`;
    const [again] = await linter(fixtureProgram(file, fixed)).lintText(fixed, { filePath: file });
    assert.deepEqual(
      again!.messages.map((m) => `${m.line}: ${m.message}`),
      [],
    );
    assert.deepEqual(typeErrors(`${ROOT}/${REPORTED}`, fixed), []);
  });

  void test('the message names the signal and says what is lost', async () => {
    const [result] = await linter().lintFiles([REPORTED]);
    const first = result!.messages[0]!;
    assert.equal(
      first.message,
      "sleep() accepts an AbortSignal but is not given 'signal': when 'signal' aborts, this call goes on, and a timeout waits for it to end.",
    );
    assert.equal(result!.messages.at(-1)!.message.includes("is not given 's'"), true);
    assert.equal(first.suggestions![0]!.desc, 'Pass { signal }.');
  });

  void test("leaves alone: no signal in scope, a signal passed in any form, explicit choices, the signal's own methods", async () => {
    const [result] = await linter().lintFiles([OK]);
    assert.deepEqual(
      result!.messages.map((m) => `${m.line}: ${m.ruleId}: ${m.message}`),
      [],
    );
  });

  void test('is part of the recommended config, with the plugin it needs', () => {
    assert.equal(recommended.rules['tsaio/pass-signal'], 'error');
    assert.equal((recommended.plugins as Record<string, unknown>)['tsaio'], tsaio);
    assert.equal(tsaio.rules['pass-signal'].meta.type, 'problem');
  });
});
