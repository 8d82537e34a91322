// The import graph of src/ is a clean stack: the core (src/*.ts) imports only
// itself and Node, the I/O parts (src/<part>/) import the core, and never the
// reverse. Each rule below fails with the list of the edges that break it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src/', import.meta.url));

/** One `import`/`export ... from` of a file: the specifier, and whether it is erased (`import type`). */
interface Edge {
  from: string;
  spec: string;
  /** The file imported, relative to src/ (`pg/_queryable.ts`), or `null` for a package or built-in. */
  to: string | null;
  typeOnly: boolean;
}

// `import x, { a } from '...'`, `import type { a } from '...'`, `export * from '...'`, `import '...'`.
const STATEMENT =
  /^(import|export)(\s+type)?\s*(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*\{[^}]*\})?)\s*from\s*'([^']+)'|^import\s*'([^']+)'/gm;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? filesUnder(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [relative(src, join(dir, entry.name)).split(sep).join('/')]
        : [],
  );
}

function edgesOf(file: string): Edge[] {
  const text = readFileSync(join(src, file), 'utf8');
  return [...text.matchAll(STATEMENT)].map((m) => {
    const spec = (m[3] ?? m[4])!;
    const to = spec.startsWith('.')
      ? posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts')
      : null;
    return { from: file, spec, to, typeOnly: m[2] !== undefined };
  });
}

const files = filesUnder(src);
const edges = files.flatMap(edgesOf);

/** The part a file belongs to (`pg`), or `null` for the core. */
const partOf = (file: string): string | null => (file.includes('/') ? file.split('/')[0]! : null);
/** A private file: its name starts with `_`. */
const isPrivate = (file: string): boolean => posix.basename(file).startsWith('_');
const show = (list: Edge[]): string =>
  list.map((e) => `  src/${e.from} -> ${e.to === null ? e.spec : `src/${e.to}`}`).join('\n');

void test('the graph is read: every relative import names a file of src/', () => {
  assert.ok(files.includes('index.ts') && files.includes('pg/index.ts') && files.length > 50);
  const known = new Set(files);
  const dangling = edges.filter((e) => e.to !== null && !known.has(e.to));
  assert.ok(dangling.length === 0, `imports of files that do not exist:\n${show(dangling)}`);
});

void test('the core (src/*.ts) imports only its own files and Node built-ins: no package, no I/O part', () => {
  const bad = edges.filter(
    (e) => partOf(e.from) === null && (e.to === null ? !e.spec.startsWith('node:') : partOf(e.to) !== null),
  );
  assert.ok(bad.length === 0, `the core imports outside itself:\n${show(bad)}`);
});

void test('no part imports the private (_-prefixed) files of another part', () => {
  const bad = edges.filter((e) => {
    const [from, to] = [partOf(e.from), e.to === null ? null : partOf(e.to)];
    return from !== null && to !== null && to !== from && isPrivate(e.to!);
  });
  assert.ok(bad.length === 0, `imports of another part's private files:\n${show(bad)}`);
});

void test("parts reach the core's private machinery only through src/_lowlevel.ts", () => {
  const bad = edges.filter(
    (e) =>
      partOf(e.from) !== null &&
      e.to !== null &&
      partOf(e.to) === null &&
      isPrivate(e.to) &&
      e.to !== '_lowlevel.ts',
  );
  assert.ok(
    bad.length === 0,
    `parts importing private core files (import them from '../_lowlevel.js'):\n${show(bad)}`,
  );
});

void test('src/_lowlevel.ts only re-exports', () => {
  const text = readFileSync(join(src, '_lowlevel.ts'), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  const statements = text
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const other = statements.filter(
    (s) => !/^export\s+(type\s+)?(\{[^}]*\}|\*)\s*from\s*'\.\/_[\w]+\.js'$/.test(s),
  );
  assert.ok(
    other.length === 0,
    `src/_lowlevel.ts may only re-export core private files; it also has:\n${other.join('\n')}`,
  );
});

/** The runtime graph: type-only imports are erased, so they cannot close a cycle. */
function runtimeGraph(): Map<string, string[]> {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) if (!e.typeOnly && e.to !== null && next.has(e.to)) next.get(e.from)!.push(e.to);
  return next;
}

/** One cycle per strongly connected component of `next` (Tarjan), each as a path back to its start. */
function cycles(next: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = new Set<string>();
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.add(w);
    } while (w !== v);
    if (component.size > 1 || next.get(v)!.includes(v)) found.push(pathBack(v, component, next));
  };
  for (const f of next.keys()) if (!index.has(f)) visit(f);
  return found;
}

/** A shortest path from `start` back to itself inside `component`. */
function pathBack(start: string, component: Set<string>, next: Map<string, string[]>): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of next.get(v)!) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let at = v; at !== start; at = parent.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

void test('the runtime import graph of src/ has no cycle', () => {
  const found = cycles(runtimeGraph()).map((path) => `  ${path.map((f) => `src/${f}`).join(' -> ')}`);
  assert.ok(
    found.length === 0,
    `import cycles (break each; an 'import type' is erased):\n${found.join('\n')}`,
  );
});

void test('the checks see what they check: a type import is erased, cycles are found', () => {
  const parsed = [...`import { a } from './a.js';\nimport type { B } from './b.js';\n`.matchAll(STATEMENT)];
  assert.deepEqual(
    parsed.map((m) => [m[3], m[2] !== undefined]),
    [
      ['./a.js', false],
      ['./b.js', true],
    ],
  );
  assert.ok(edges.some((e) => e.from === 'pg/_queryable.ts' && e.to === '_lowlevel.ts' && !e.typeOnly));
  const planted = new Map([
    ['a', ['b']],
    ['b', ['c', 'd']],
    ['c', ['a']],
    ['d', []],
    ['e', ['e']],
  ]);
  assert.deepEqual(
    cycles(planted).map((path) => path.join(' ')),
    ['a b c a', 'e e'],
  );
});
