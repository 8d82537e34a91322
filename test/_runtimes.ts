// Runs the portable checks (test/portable/) in another runtime: Deno, Bun or
// headless Chromium. The checks are bundled with esbuild into one module that
// imports the built core (dist/index.js, dist/testing.js) as it is: Deno and
// Bun load it from its file: URL, the browser from a small HTTP server that
// serves dist/ and takes the results back.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { Outcome } from './portable/checks.ts';
import { headlessChromium } from './_helpers.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = join(root, 'dist');
const MARK = 'TSAIO-PORTABLE ';
/** Where .ci/run installs the npm packages `deno` and `bun`. */
const cache = join(homedir(), '.cache', 'tsaio-runtimes', 'node_modules', '.bin');

/** One runtime's run: the outcomes, what it printed, and how long it took (ms). */
export interface RuntimeRun {
  outcomes: Outcome[];
  output: string;
  ms: number;
}

/**
 * The runtime's binary: `$TSAIO_<NAME>` if set, else the first of `fallbacks`
 * that answers `--version`; `null` if none does.
 */
export function findBinary(name: 'deno' | 'bun' | 'chromium', fallbacks: string[]): string | null {
  const fromEnv = process.env[`TSAIO_${name.toUpperCase()}`];
  const candidates = fromEnv !== undefined && fromEnv !== '' ? [fromEnv] : fallbacks;
  for (const bin of candidates) {
    const r = spawnSync(bin, ['--version'], { stdio: 'ignore', timeout: 30_000 });
    if (r.status === 0) return bin;
  }
  return null;
}

export const binaries = {
  deno: () => findBinary('deno', ['deno', join(cache, 'deno')]),
  bun: () => findBinary('bun', ['bun', join(cache, 'bun')]),
  chromium: () => findBinary('chromium', ['chromium', '/usr/bin/chromium', 'chromium-browser']),
};

/** The portable checks as one ES module whose `tsaio` imports point at `core` and `testing`. */
export async function bundle(core: string, testing: string): Promise<string> {
  const result = await build({
    entryPoints: [join(root, 'test', 'portable', 'main.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    // package.json's "sideEffects" would drop the checks' bare imports (each registers checks).
    ignoreAnnotations: true,
    plugins: [
      {
        name: 'tsaio-dist',
        setup(b) {
          b.onResolve({ filter: /^tsaio(\/testing)?$/ }, (args) => ({
            path: args.path === 'tsaio' ? core : testing,
            external: true,
          }));
        },
      },
    ],
  });
  return result.outputFiles[0]!.text;
}

function parse(output: string): Outcome[] {
  const line = output.split('\n').find((l) => l.startsWith(MARK));
  if (line === undefined) throw new Error(`no results in the output:\n${output.slice(-4000)}`);
  return JSON.parse(line.slice(MARK.length)) as Outcome[];
}

/** The file: URL of `dist/<path>`. */
export const distUrl = (path: string): string => pathToFileURL(join(dist, path)).href;

/**
 * Runs `bin args... <script>` and waits for it to exit on its own (it must:
 * nothing may be left pending); `script` defaults to the portable checks.
 */
export async function runScript(
  bin: string,
  args: string[],
  script?: string,
  limit = 120_000,
): Promise<RuntimeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'tsaio-portable-'));
  try {
    const file = join(dir, 'portable.mjs');
    writeFileSync(file, script ?? (await bundle(distUrl('index.js'), distUrl('testing.js'))));
    const start = performance.now();
    const child = spawn(bin, [...args, file], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DO_NOT_TRACK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), limit);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    const ms = performance.now() - start;
    if (code !== 0)
      throw new Error(`${bin} exited with ${code} after ${ms.toFixed(0)} ms:\n${output.slice(-4000)}`);
    return { outcomes: script === undefined ? parse(output) : [], output, ms };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>tsaio portable checks</title>
<script>
  const fail = (what) => fetch('/results', { method: 'POST', body: JSON.stringify([{ name: 'page', ok: false, error: String(what), ms: 0 }]) });
  addEventListener('error', (e) => fail(e.error && e.error.stack || e.message));
  addEventListener('unhandledrejection', (e) => fail(e.reason && e.reason.stack || e.reason));
</script>
<script type="module" src="/portable.js"></script>`;

/** Serves the page, the bundle and dist/ on 127.0.0.1; resolves with the results the page posts. */
async function serve(): Promise<{ url: string; results: Promise<string>; close: () => void }> {
  const script = await bundle('/dist/index.js', '/dist/testing.js');
  let deliver!: (text: string) => void;
  const results = new Promise<string>((resolve) => (deliver = resolve));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'POST' && path === '/results') {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => (res.end('ok'), deliver(body)));
      return;
    }
    const js = { 'content-type': 'text/javascript; charset=utf-8' };
    if (path === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (path === '/portable.js') return void res.writeHead(200, js).end(script);
    const file = normalize(join(root, path));
    if (path.startsWith('/dist/') && file.startsWith(dist + sep) && existsSync(file)) {
      return void res.writeHead(200, js).end(readFileSync(file));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  server.unref();
  return { url: `http://127.0.0.1:${port}/`, results, close: () => server.close() };
}

/** Opens the checks' page in headless Chromium; kills it once the results arrive (or after `limit` ms). */
export async function runBrowser(bin: string, limit = 120_000): Promise<RuntimeRun> {
  const profile = mkdtempSync(join(tmpdir(), 'tsaio-chromium-'));
  const page = await serve();
  const start = performance.now();
  const flags = headlessChromium(profile);
  // Its own process group, so that the browser's helpers end with it.
  const child = spawn(bin, [...flags, page.url], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  try {
    const text = await Promise.race([
      page.results,
      exited.then(() =>
        Promise.reject(new Error(`chromium exited before the results came:\n${output.slice(-4000)}`)),
      ),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no results within ${limit} ms:\n${output.slice(-4000)}`)),
          limit,
        );
      }),
    ]);
    return { outcomes: JSON.parse(text) as Outcome[], output, ms: performance.now() - start };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await exited;
    page.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
