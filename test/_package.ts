// The package as a user gets it, for test/package.test.ts: `npm pack` of the
// built tree into a temporary directory, the tarball unpacked, fresh projects
// that install it (with one driver each, or none), the repository's
// TypeScript run on a project's programs, and what an install weighs.
import { spawn } from 'node:child_process';
import { readdirSync, lstatSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The repository's TypeScript compiler. */
export const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

export interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` to its end (killed after `timeout` ms) and resolves with what it wrote. */
export function exec(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; timeout?: number; env?: NodeJS.ProcessEnv },
): Promise<Outcome> {
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env), NO_COLOR: '1' };
  delete env['FORCE_COLOR'];
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: opts.timeout ?? 120_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `outcome` as a failure message: the command's exit code and output. */
export function explain(what: string, outcome: Outcome): string {
  return `${what} exited ${outcome.code}\n--- stdout\n${outcome.stdout}\n--- stderr\n${outcome.stderr}`;
}

/** Packs the built tree (`npm run build` first) into `dir`, without running scripts; the tarball's path and its files. */
export async function pack(dir: string): Promise<{ tarball: string; files: string[] }> {
  const r = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: ROOT,
  });
  if (r.code !== 0) throw new Error(explain('npm pack', r));
  const [info] = JSON.parse(r.stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dir, info!.filename), files: info!.files.map((f) => f.path).sort() };
}

/** Unpacks `tarball` into `dir`; the package's root (`dir/package`). */
export async function unpack(tarball: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const r = await exec('tar', ['-xzf', tarball, '-C', dir], { cwd: dir });
  if (r.code !== 0) throw new Error(explain('tar -xzf', r));
  return join(dir, 'package');
}

/**
 * A fresh ES-module project in `dir` with `tarball` and `extra` packages
 * installed (from npm's cache where it can: `--prefer-offline`), the way a
 * user runs `npm i tsaio pg`: install scripts run (better-sqlite3 compiles).
 */
export async function project(dir: string, tarball: string, extra: readonly string[] = []): Promise<string> {
  await mkdir(dir, { recursive: true });
  const manifest = { name: 'consumer', version: '1.0.0', private: true, type: 'module' };
  await writeFile(join(dir, 'package.json'), JSON.stringify(manifest, null, 2) + '\n');
  const r = await exec(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, ...extra],
    { cwd: dir, timeout: 600_000 },
  );
  if (r.code !== 0) throw new Error(explain(`npm install ${[tarball, ...extra].join(' ')}`, r));
  return dir;
}

/** The consumer's tsconfig for `mode`: strict, `skipLibCheck: false`, Node's types from the repository. */
export function tsconfig(mode: 'nodenext' | 'bundler', files: readonly string[]): string {
  const compilerOptions = {
    target: 'ES2022',
    lib: ['ES2023', 'ESNext.Disposable'],
    strict: true,
    skipLibCheck: false,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    ...(mode === 'nodenext'
      ? { module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out' }
      : { module: 'preserve', moduleResolution: 'bundler', noEmit: true }),
  };
  return JSON.stringify({ compilerOptions, files }, null, 2) + '\n';
}

/**
 * Writes `programs` (name to TypeScript source) into `dir/src`, type-checks
 * them under `nodenext` (emitting `dir/out/<name>.js`) and under `bundler`,
 * and resolves with what each compiler said.
 */
export async function typecheck(
  dir: string,
  programs: Readonly<Record<string, string>>,
): Promise<{ nodenext: Outcome; bundler: Outcome }> {
  await mkdir(join(dir, 'src'), { recursive: true });
  const files = Object.keys(programs).map((name) => `src/${name}.ts`);
  for (const [name, source] of Object.entries(programs))
    await writeFile(join(dir, 'src', `${name}.ts`), source);
  await writeFile(join(dir, 'tsconfig.nodenext.json'), tsconfig('nodenext', files));
  await writeFile(join(dir, 'tsconfig.bundler.json'), tsconfig('bundler', files));
  const tsc = (config: string) =>
    exec(process.execPath, [TSC, '-p', config, '--pretty', 'false'], { cwd: dir, timeout: 180_000 });
  const nodenext = await tsc('tsconfig.nodenext.json');
  const bundler = await tsc('tsconfig.bundler.json');
  return { nodenext, bundler };
}

/** Runs `node file` in `dir`. */
export function node(dir: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> {
  return exec(process.execPath, [file], { cwd: dir, env, timeout: 60_000 });
}

/** The installed packages of a project (from its lockfile) and the bytes of its node_modules. */
export function installSize(dir: string): { packages: string[]; bytes: number } {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, unknown>;
  };
  const packages = Object.keys(lock.packages)
    .filter((p) => p !== '')
    .map((p) => p.replace(/^.*node_modules\//, ''));
  return { packages, bytes: bytesUnder(join(dir, 'node_modules')) };
}

function bytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const st = lstatSync(path);
    total += st.isDirectory() ? bytesUnder(path) : st.size;
  }
  return total;
}

/** Every file under `dir`, as paths relative to it with `/`. */
export function filesUnder(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(dir, prefix))) {
    const rel = prefix === '' ? entry : `${prefix}/${entry}`;
    if (lstatSync(join(dir, rel)).isDirectory()) out.push(...filesUnder(dir, rel));
    else out.push(rel);
  }
  return out;
}
