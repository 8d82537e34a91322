// The built core (`tsaio`, `tsaio/testing`) loads no Node module when it is
// imported: its static import graph, walked from dist/index.js and
// dist/testing.js, holds only its own files. What needs Node (tracing's file,
// debug mode's promise hooks) is asked of the host when it is turned on
// (`src/_host.ts`), which is what lets the core run in Deno, Bun and a browser.
// Needs `npm run build` first (npm test builds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

// `import x from '...'`, `import { a } from '...'`, `export * from '...'`, `import '...'` (tsc's output, one per line).
const STATIC = /^(?:import|export)\s*(?:[\w*{}\s,$]+?\s*from\s*)?['"]([^'"]+)['"]/gm;

/** Every module the file at `entry` loads statically, transitively: files of dist/ and other specifiers. */
function staticGraph(entry: string): { files: string[]; external: string[] } {
  const seen = new Set<string>();
  const external = new Set<string>();
  const walk = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(STATIC)) {
      if (spec!.startsWith('.')) walk(join(dirname(file), spec!));
      else external.add(`${relative(dist, file)} -> ${spec}`);
    }
  };
  walk(join(dist, entry));
  return { files: [...seen].map((f) => relative(dist, f)), external: [...external] };
}

const isBuiltin = (spec: string): boolean =>
  spec.startsWith('node:') || builtinModules.includes(spec) || builtinModules.includes(spec.split('/')[0]!);

for (const entry of ['index.js', 'testing.js']) {
  void test(`dist/${entry} and its static imports load no Node built-in module`, () => {
    const { files, external } = staticGraph(entry);
    assert.ok(files.length > 10, `the walk found the core's files (${files.length})`);
    const builtins = external.filter((edge) => isBuiltin(edge.split(' -> ')[1]!));
    assert.deepEqual(builtins, [], `Node modules imported at load time:\n  ${builtins.join('\n  ')}`);
    assert.deepEqual(external, [], 'the core imports nothing outside its own files');
  });
}

void test('the walk sees a Node import where there is one (dist/fs/index.js)', () => {
  const { external } = staticGraph('fs/index.js');
  assert.ok(
    external.some((edge) => isBuiltin(edge.split(' -> ')[1]!)),
    external.join('\n'),
  );
});
