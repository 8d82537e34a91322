// The core stays free of runtime dependencies, and the import graph is a
// clean stack: the I/O parts import the core, never the reverse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/', import.meta.url));
const imports = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^'";]*from '([^']+)'/gm)].map((m) => m[1]!);

void test('the core (src/*.ts) imports only its own files and Node built-ins: no package, no I/O part', () => {
  const files = readdirSync(src).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('index.ts') && files.length > 10);
  for (const name of files) {
    for (const spec of imports(`${src}${name}`)) {
      assert.match(spec, /^(\.\/[\w.-]+\.js|node:[\w/]+)$/, `src/${name} imports ${spec}`);
    }
  }
});
