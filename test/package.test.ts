// The package as npm publishes it (`npm pack` of the built tree; `npm test`
// builds first), and as a user installs it into a fresh project: what the
// tarball holds, that its sourcemaps and README links resolve inside it, and
// for each subpath a program that type-checks (strict, `skipLibCheck: false`,
// under `module: nodenext` and `moduleResolution: bundler`) and runs with
// only that subpath's driver installed. `npm i tsaio` alone builds nothing
// native, and a driver subpath without its driver throws an error that says
// what to install.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, posix } from 'node:path';
import {
  CORE,
  CORE_OUTPUT,
  MISSING_CJS,
  MISSING_MJS,
  NATS,
  PG,
  PLAIN_CJS,
  PLAIN_MJS,
  SQLITE,
} from './_consumer.ts';
import { requireServer } from './_helpers.ts';
import { SKIP as NATS_SKIP } from './_nats.ts';
import { sharedDsn, sharedServer } from './_postgres.ts';
import {
  ROOT,
  exec,
  explain,
  filesUnder,
  installSize,
  node,
  pack,
  project,
  typecheck,
  unpack,
  type Outcome,
} from './_package.ts';

const DRIVERS = ['pg', 'better-sqlite3', '@nats-io/transport-node', '@nats-io/jetstream'];
const MANIFEST = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
};

if (!existsSync(join(ROOT, 'dist', 'index.js'))) {
  throw new Error('test/package.test.ts packs dist/: run `npm run build` first (`npm test` does)');
}

const tmp = await mkdtemp(join(tmpdir(), 'tsaio-package-'));
const packed = await pack(tmp);
const pkg = await unpack(packed.tarball, join(tmp, 'unpacked'));

/** One project per driver, installed at once (better-sqlite3 compiles from source meanwhile). */
const projects = {
  core: project(join(tmp, 'core'), packed.tarball),
  pg: project(join(tmp, 'pg'), packed.tarball, [`pg@${MANIFEST.peerDependencies['pg']}`]),
  nats: project(
    join(tmp, 'nats'),
    packed.tarball,
    ['@nats-io/transport-node', '@nats-io/jetstream'].map((p) => `${p}@${MANIFEST.peerDependencies[p]}`),
  ),
  sqlite: project(join(tmp, 'sqlite'), packed.tarball, [
    `better-sqlite3@${MANIFEST.peerDependencies['better-sqlite3']}`,
  ]),
};
// A failed install fails the tests that wait for it, not the process.
for (const p of Object.values(projects)) p.catch(() => {});

after(async () => {
  await Promise.allSettled(Object.values(projects));
  await rm(tmp, { recursive: true, force: true });
});

function assertCompiled(outcome: { nodenext: Outcome; bundler: Outcome }): void {
  assert.equal(outcome.nodenext.code, 0, explain('tsc (module nodenext)', outcome.nodenext));
  assert.equal(outcome.bundler.code, 0, explain('tsc (moduleResolution bundler)', outcome.bundler));
}

async function runs(dir: string, file: string, expected: RegExp, env?: NodeJS.ProcessEnv): Promise<void> {
  const r = await node(dir, file, env);
  assert.equal(r.code, 0, explain(`node ${file}`, r));
  assert.match(r.stdout, expected, explain(`node ${file}`, r));
}

void describe('the tarball', () => {
  void test('holds dist/, src/, docs/*.md, examples/, LICENSE, README.md and package.json, and nothing else', () => {
    const allowed = [/^dist\/.+\.(js|d\.ts|js\.map|d\.ts\.map)$/, /^src\/.+\.ts$/, /^docs\/[^/]+\.md$/];
    allowed.push(/^examples\/.+\.(ts|md)$/, /^(LICENSE|README\.md|package\.json)$/);
    const stray = packed.files.filter((f) => !allowed.some((re) => re.test(f)));
    assert.deepEqual(stray, [], 'files the package must not ship');
    for (const junk of [/^test\//, /fixtures/, /tsbuildinfo/, /^docs\/api\//, /^\.ci\//, /node_modules/])
      assert.deepEqual(
        packed.files.filter((f) => junk.test(f)),
        [],
        String(junk),
      );
    for (const must of ['LICENSE', 'README.md', 'package.json']) assert.ok(packed.files.includes(must), must);
    for (const doc of readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')))
      assert.ok(packed.files.includes(`docs/${doc}`), `docs/${doc}`);
    const entries = Object.values(MANIFEST.exports).flatMap((e) =>
      typeof e === 'string' ? [e] : [e.types, e.default],
    );
    for (const entry of [...entries, ...Object.values(MANIFEST.bin)])
      assert.ok(packed.files.includes(posix.normalize(entry)), `${entry} (package.json names it)`);
    assert.match(
      readFileSync(join(pkg, 'LICENSE'), 'utf8'),
      /^MIT License\n\nCopyright \(c\) 2026 the tsaio authors\n/,
    );
  });

  void test('every sourcemap names sources that are in the tarball (or carries their content)', () => {
    const maps = packed.files.filter((f) => f.endsWith('.map'));
    assert.ok(maps.length > 100, `only ${maps.length} .map files`);
    const unresolved: string[] = [];
    for (const map of maps) {
      const m = JSON.parse(readFileSync(join(pkg, map), 'utf8')) as {
        sources: string[];
        sourceRoot?: string;
        sourcesContent?: (string | null)[];
      };
      assert.ok(m.sources.length > 0, `${map} names no source`);
      m.sources.forEach((source, i) => {
        if (typeof m.sourcesContent?.[i] === 'string') return;
        const path = normalize(join(pkg, dirname(map), m.sourceRoot ?? '', source));
        if (!path.startsWith(pkg + '/') || !existsSync(path)) unresolved.push(`${map}: ${source}`);
      });
    }
    assert.deepEqual(unresolved, []);
  });

  void test('every relative link of README.md, docs/*.md and examples/README.md names a file in the tarball', () => {
    const pages = packed.files.filter((f) => f.endsWith('.md'));
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(pkg, page), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const link = m[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('#')) continue;
        const target = normalize(join(pkg, dirname(page), decodeURIComponent(link.split('#')[0]!)));
        if (!target.startsWith(pkg + '/') || !existsSync(target)) broken.push(`${page}: ${link}`);
      }
    }
    assert.deepEqual(broken, []);
  });

  void test('the drivers are optional peer dependencies (and devDependencies), not dependencies', () => {
    for (const driver of DRIVERS) {
      assert.equal(MANIFEST.dependencies[driver], undefined, `${driver} is a dependency`);
      assert.ok(MANIFEST.peerDependencies[driver], `${driver} is no peer dependency`);
      assert.equal(MANIFEST.peerDependenciesMeta[driver]?.optional, true, `${driver} is not optional`);
      assert.ok(MANIFEST.devDependencies[driver], `${driver} is no devDependency (the tests use it)`);
    }
  });
});

void describe('installed alone (`npm i tsaio`)', { timeout: 600_000 }, () => {
  let dir = '';
  before(async () => {
    dir = await projects.core;
  });

  void test('installs no driver and nothing native', (t) => {
    const { packages, bytes } = installSize(dir);
    t.diagnostic(
      `npm i tsaio: ${packages.length} packages, ${(bytes / 1e6).toFixed(1)} MB (${packages.join(', ')})`,
    );
    for (const driver of DRIVERS) assert.ok(!packages.includes(driver), `${driver} was installed`);
    const native = filesUnder(join(dir, 'node_modules')).filter((f) => /\.node$|binding\.gyp$/.test(f));
    assert.deepEqual(native, []);
    assert.ok(packages.length <= 15, `${packages.length} packages`);
    assert.ok(bytes < 10e6, `${bytes} bytes`);
  });

  void test('tsaio, tsaio/http, fs, executor, testing and eslint type-check (nodenext, bundler) and run', async () => {
    assertCompiled(await typecheck(dir, CORE));
    for (const [name, expected] of Object.entries(CORE_OUTPUT)) await runs(dir, `out/${name}.js`, expected);
  });

  void test('plain JavaScript: an ES module imports it and CommonJS requires it', async () => {
    await writeFile(join(dir, 'plain.mjs'), PLAIN_MJS);
    await writeFile(join(dir, 'plain.cjs'), PLAIN_CJS);
    await runs(dir, 'plain.mjs', /^mjs function$/m);
    await runs(dir, 'plain.cjs', /^cjs function$/m);
  });

  void test('`npx tsaio --help` prints the usage; `tsaio worker` says to install the NATS client', async () => {
    const r = await exec('npx', ['--no', '--', 'tsaio', '--help'], { cwd: dir, timeout: 60_000 });
    assert.equal(r.code, 0, explain('npx tsaio --help', r));
    assert.match(r.stdout, /^Usage: tsaio/m);
    // Only `tsaio worker` needs a driver (tsaio/nats's): without it, it says what to install.
    const worker = await exec('npx', ['--no', '--', 'tsaio', 'worker', './jobs.mjs'], {
      cwd: dir,
      timeout: 60_000,
    });
    assert.notEqual(worker.code, 0, explain('npx tsaio worker', worker));
    assert.match(
      worker.stderr,
      /npm i @nats-io\/transport-node @nats-io\/jetstream/,
      explain('npx tsaio worker', worker),
    );
  });

  void test('tsaio/pg, tsaio/sqlite and tsaio/nats without their driver throw an error that says `npm i <driver>`', async () => {
    await writeFile(join(dir, 'missing.mjs'), MISSING_MJS);
    await writeFile(join(dir, 'missing.cjs'), MISSING_CJS);
    const install: Record<string, [string, string]> = {
      'tsaio/pg': ['pg', 'npm i pg'],
      'tsaio/sqlite': ['better-sqlite3', 'npm i better-sqlite3'],
      'tsaio/nats': ['@nats-io/transport-node', 'npm i @nats-io/transport-node @nats-io/jetstream'],
    };
    for (const file of ['missing.mjs', 'missing.cjs']) {
      const r = await node(dir, file);
      assert.equal(r.code, 0, explain(file, r));
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, string>);
      assert.equal(lines.length, 3, r.stdout);
      for (const { subpath, code, message } of lines) {
        const [name, command] = install[subpath!]!;
        assert.equal(code, 'ERR_MODULE_NOT_FOUND', `${file} ${subpath}`);
        assert.ok(message?.startsWith(`${subpath} needs the package '${name}'`), message);
        assert.ok(message.endsWith(`\`${command}\``), message);
      }
    }
  });
});

void describe('installed with one driver', { timeout: 600_000 }, () => {
  void test('tsaio/pg with pg: type-checks (nodenext, bundler) and queries PostgreSQL', async (t) => {
    const dir = await projects.pg;
    const { packages } = installSize(dir);
    for (const other of ['better-sqlite3', '@nats-io/transport-node', '@types/pg'])
      assert.ok(!packages.includes(other), other);
    assertCompiled(await typecheck(dir, { pg: PG }));
    const down = await sharedServer();
    requireServer(down);
    if (down !== null) return t.skip(down);
    await runs(dir, 'out/pg.js', /^tsaio\/pg 2 3$/m, { ...process.env, DATABASE_URL: sharedDsn() });
  });

  void test('tsaio/sqlite with better-sqlite3: type-checks (nodenext, bundler) and runs SQL on its worker', async () => {
    const dir = await projects.sqlite;
    const { packages } = installSize(dir);
    for (const other of ['pg', '@nats-io/transport-node']) assert.ok(!packages.includes(other), other);
    assertCompiled(await typecheck(dir, { sqlite: SQLITE }));
    await runs(dir, 'out/sqlite.js', /^tsaio\/sqlite \[\{"s":6\}\]$/m);
  });

  void test('tsaio/nats with @nats-io/*: type-checks (nodenext, bundler) and talks to NATS', async (t) => {
    const dir = await projects.nats;
    const { packages } = installSize(dir);
    for (const other of ['pg', 'better-sqlite3']) assert.ok(!packages.includes(other), other);
    assertCompiled(await typecheck(dir, { nats: NATS }));
    if (NATS_SKIP !== false) return t.skip(NATS_SKIP);
    await runs(dir, 'out/nats.js', /^tsaio\/nats true$/m);
  });
});
