// Tests of the `tsaio` command (SPEC "the seed's experiments"): the built CLI
// (dist/cli/main.js, from `npm run build`) runs as a child process.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { startTestServer, type TestServer } from '../src/http/index.ts';
import { MODE_COLORS } from '../src/cli/report.ts';
import { headlessChromium } from './_helpers.ts';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
/** util-linux's `script`, which runs a command on a pseudo-terminal (Debian's bsdutils, always installed). */
const SCRIPT = '/usr/bin/script';

/** The environment of every child: no colours, whatever the CI sets. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env['FORCE_COLOR'];
  return env;
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Resolves once `child` exited, with what it wrote. */
function finished(child: ChildProcess): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs the CLI with `args` (and `input` on stdin) and waits for it to end. */
async function cli(
  args: string[],
  opts: { input?: string; timeout?: number; cwd?: string } = {},
): Promise<Outcome> {
  assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [CLI, ...args], {
    env: childEnv(),
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: opts.timeout ?? 60_000,
  });
  const done = finished(child);
  child.stdin!.end(opts.input ?? '');
  return done;
}

/** Runs `cmd` and waits for it, with a time limit. */
async function runProgram(
  cmd: string,
  args: string[],
  timeout = 120_000,
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Outcome> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout, ...opts });
  return finished(child);
}

/** A TCP port nothing listens on (it was free a moment ago). */
function freePort(): Promise<number> {
  const server = createNetServer();
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `read()` passes `check`, or fails after `ms`. */
async function until(what: string, read: () => string, check: (text: string) => boolean, ms = 30_000) {
  const deadline = performance.now() + ms;
  while (!check(read())) {
    if (performance.now() > deadline) assert.fail(`timed out waiting for ${what}; got:\n${read()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The `| Method | Expected | Measured |` rows of `bench`'s output, in seconds. */
function tableRows(stdout: string): Map<string, { expected: number; measured: number }> {
  const rows = new Map<string, { expected: number; measured: number }>();
  for (const line of stdout.split('\n')) {
    const m = /^\| (.+?)\s*\| ≈ ([\d.]+)s\s*\| ([\d.]+)s\s*\|$/.exec(line);
    if (m) rows.set(m[1]!, { expected: Number(m[2]), measured: Number(m[3]) });
  }
  return rows;
}

/** Decodes an 8-bit, non-interlaced PNG (what Chromium writes) into raw pixels. */
function decodePng(png: Buffer): { width: number; height: number; channels: number; pixels: Buffer } {
  assert.ok(png.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])), 'not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let pos = 8; pos < png.length;) {
    const length = png.readUInt32BE(pos);
    const type = png.toString('ascii', pos + 4, pos + 8);
    const data = png.subarray(pos + 8, pos + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'PNG bit depth');
      assert.equal(data[12], 0, 'PNG interlace');
      channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[data[9]!] ?? 0;
      assert.ok(channels > 0, `PNG colour type ${data[9]}`);
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = y * (stride + 1) + 1;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      let predicted = 0;
      if (filter === 1) predicted = a;
      else if (filter === 2) predicted = b;
      else if (filter === 3) predicted = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + x] = (raw[line + x]! + predicted) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** How many pixels of `image` are within a small distance of `hex`. */
function countColor(image: ReturnType<typeof decodePng>, hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < image.pixels.length; i += image.channels) {
    const d =
      Math.abs(image.pixels[i]! - r!) +
      Math.abs(image.pixels[i + 1]! - g!) +
      Math.abs(image.pixels[i + 2]! - b!);
    if (d <= 24) n++;
  }
  return n;
}

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tsaio-cli-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

void describe('tsaio: arguments', () => {
  void test('--help of the program and of every command exits 0', async () => {
    const top = await cli(['--help']);
    assert.equal(top.code, 0, top.stderr);
    for (const name of ['bench', 'fetch', 'serve', 'worker'])
      assert.match(top.stdout, new RegExp(`^  ${name}\\b`, 'm'));
    const expected: Record<string, RegExp[]> = {
      bench: [/--requests/, /--delay/, /--limit/, /--url/, /--html/, /--json/, /--no-progress/],
      fetch: [
        /--concurrency/,
        /--rate/,
        /--timeout/,
        /--retries/,
        /--method/,
        /--header/,
        /--out/,
        /--max-body-size/,
        /-d, --data/,
        /--json/,
        /--fail/,
      ],
      serve: [/--port/, /--host/, /--quiet/, /\/ip/, /\/uuid/],
      worker: [/--servers/, /--executor/, /--concurrency/, /--replicas/, /--quiet/, /tsx/],
    };
    for (const [name, options] of Object.entries(expected)) {
      const r = await cli([name, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: tsaio ${name}`, 'm'));
      for (const option of options) assert.match(r.stdout, option, `${name} --help lists ${option}`);
    }
  });

  void test("the help names the concurrency experiment, never 'the seed' (a word users cannot know)", async () => {
    const texts = [(await cli(['--help'])).stdout];
    for (const name of ['bench', 'fetch', 'serve', 'worker'])
      texts.push((await cli([name, '--help'])).stdout);
    for (const text of texts) assert.doesNotMatch(text, /\bseed\b/i);
    assert.match(texts[1]!, /concurrency experiment/);
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    assert.doesNotMatch(readme, /\bthe seed\b/i);
  });

  void test(
    'installed from its tarball, `npx tsaio --help` works and `tsaio/http` imports',
    { timeout: 300_000 },
    async () => {
      // dist/ is built (npm test builds first): pack it as npm publishes it, without running `prepare`.
      const pack = await runProgram(
        'npm',
        ['pack', '--ignore-scripts', '--silent', '--pack-destination', tmp],
        120_000,
        { cwd: ROOT },
      );
      assert.equal(pack.code, 0, pack.stderr);
      const tarball = join(tmp, pack.stdout.trim().split('\n').pop()!);
      assert.ok(existsSync(tarball), `npm pack wrote no ${tarball}`);
      const app = join(tmp, 'app');
      await mkdir(app);
      await writeFile(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
      const npm = (args: string[]): Promise<Outcome> =>
        runProgram('npm', args, 240_000, { cwd: app, env: childEnv() });
      // --ignore-scripts: what is checked needs no native addon, and better-sqlite3's would be
      // compiled from source here (its prebuilt download is refused), minutes on a busy machine.
      const install = await npm([
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        '--ignore-scripts',
        tarball,
      ]);
      assert.equal(install.code, 0, `npm install ${tarball}:\n${install.stderr}`);
      const help = await npm(['exec', '--no', '--', 'tsaio', '--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^Usage: tsaio/m);
      for (const name of ['bench', 'fetch', 'serve'])
        assert.match(help.stdout, new RegExp(`^  ${name}\\b`, 'm'));
      const imported = await runProgram(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "const m = await import('tsaio/http'); console.log(typeof m.ClientSession)",
        ],
        60_000,
        { cwd: app },
      );
      assert.equal(imported.stdout.trim(), 'function', imported.stderr);
    },
  );

  void test('--version prints the package version', async () => {
    const r = await cli(['--version']);
    assert.equal(r.code, 0);
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.equal(r.stdout.trim(), pkg.version);
  });

  void test('bad arguments exit 2 with a message on stderr', async () => {
    for (const args of [
      ['bench', '--requests', '0'],
      ['bench', '--delay', 'soon'],
      ['bench', '--url', 'ftp://example.com'],
      ['fetch', '--concurrency', '-1'],
      ['fetch', '--header', 'no colon'],
      ['serve', '--port', '70000'],
      ['nosuchcommand'],
      ['bench', '--nosuchoption'],
      [],
    ]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `tsaio ${args.join(' ')}: ${r.stderr}`);
      assert.notEqual(r.stderr.trim(), '', `tsaio ${args.join(' ')} explains on stderr`);
      assert.equal(r.stdout, '');
    }
  });
});

void describe('tsaio bench', () => {
  void test('prints the seed table: async < limited < sequential (6 × /delay/0.3, limit 3)', async () => {
    const r = await cli(['bench', '--requests', '6', '--delay', '0.3', '--limit', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\| Method\s+\| Expected \| Measured \|$/m);
    assert.match(r.stdout, /^Sync elapsed: [\d.]+s$/m);
    const rows = tableRows(r.stdout);
    const sync = rows.get('Sync');
    const all = rows.get('Async (unlimited)');
    const limited = rows.get('Async (rate-limited 3)');
    assert.ok(sync && all && limited, `the three rows of the table:\n${r.stdout}`);
    assert.deepEqual([sync.expected, all.expected, limited.expected], [1.8, 0.3, 0.6]);
    // Each can only be slower than the server's delays allow, never faster.
    assert.ok(sync.measured >= 1.75, `sync ${sync.measured}s >= 1.8s`);
    assert.ok(all.measured >= 0.29, `async ${all.measured}s >= 0.3s`);
    assert.ok(limited.measured >= 0.59, `limited ${limited.measured}s >= 0.6s`);
    // And the point of the experiment, with room for a loaded machine.
    assert.ok(all.measured < limited.measured, `async ${all.measured}s < limited ${limited.measured}s`);
    assert.ok(limited.measured < sync.measured, `limited ${limited.measured}s < sync ${sync.measured}s`);
    assert.ok(all.measured < sync.measured / 2, `async ${all.measured}s well under sync ${sync.measured}s`);
  });

  void test('--url aims at another server', async () => {
    await using server = await startTestServer();
    const r = await cli(['bench', '-n', '2', '-d', '0.05', '-l', '1', '--url', server.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`${server.url}/delay/0.05`), r.stdout);
    assert.equal(server.requests, 6);
    assert.equal(tableRows(r.stdout).size, 3);
  });

  void test('failed requests are shown and exit 1', async () => {
    await using server = await startTestServer();
    const r = await cli(['bench', '-n', '2', '-d', '0', '--url', `${server.url}/status/500`]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\(2 failed\)/);
    assert.match(r.stderr, /HTTP 500/);
  });

  void test('progress on stderr while it runs: one line per mode when stderr is not a terminal', async () => {
    await using server = await startTestServer();
    const child = spawn(
      process.execPath,
      [CLI, 'bench', '-n', '2', '-d', '0.6', '-l', '1', '--url', server.url],
      { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
    );
    const done = finished(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: string) => (stdout += d));
    child.stderr.on('data', (d: string) => (stderr += d));
    // The first mode takes 1.2 s: its line comes before it ends.
    await until(
      'the first progress line',
      () => stderr,
      (text) => /Sync/.test(text),
    );
    assert.doesNotMatch(stdout, /Sync elapsed/, 'progress is shown while the mode runs, not after');
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 3, `one line per mode, no more:\n${r.stderr}`);
    assert.match(lines[0]!, /^Sync: 2 requests one after another, expected ≈ 1\.2s/);
    assert.match(lines[1]!, /^Async \(unlimited\): 2 requests at once, expected ≈ 0\.6s/);
    assert.match(lines[2]!, /^Async \(rate-limited 1\): 2 requests, at most 1 at once, expected ≈ 1\.2s/);
    assert.ok(!r.stderr.includes('\r') && !r.stderr.includes('\u001b'), 'no terminal codes off a terminal');
    // --no-progress: none.
    const quiet = await cli(['bench', '-n', '1', '-d', '0', '--no-progress', '--url', server.url]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stderr, '');
  });

  void test('a live progress line on a terminal, cleared when each mode ends', async () => {
    assert.ok(
      existsSync(SCRIPT),
      `${SCRIPT} is missing: this test needs util-linux's script (Debian's bsdutils)`,
    );
    await using server = await startTestServer();
    const command = [process.execPath, CLI, 'bench', '-n', '3', '-d', '0.3', '-l', '1', '--url', server.url]
      .map((a) => `'${a}'`)
      .join(' ');
    const r = await runProgram(SCRIPT, ['-q', '-e', '-c', command, '/dev/null'], 60_000, { env: childEnv() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Sync: [0-3]\/3 done, [\d.]+s \(expected ≈ 0\.9s\)/, r.stdout);
    assert.ok(r.stdout.includes('\r\u001b[K'), 'the line is rewritten in place');
    assert.equal(tableRows(r.stdout.replace(/\r/g, '\n')).size, 3);
  });

  void test('--json writes one JSON document for machines on stdout (and the progress on stderr)', async () => {
    await using server = await startTestServer();
    const r = await cli(['bench', '-n', '2', '-d', '0.05', '-l', '1', '--url', server.url, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as {
      url: string;
      requests: number;
      delay: number;
      limit: number;
      embedded: boolean;
      interrupted: boolean;
      ok: boolean;
      startedAt: string;
      modes: {
        mode: string;
        label: string;
        expectedMs: number;
        elapsedMs: number;
        failed: number;
        requests: {
          index: number;
          startMs: number;
          endMs: number;
          status: number | null;
          error: string | null;
        }[];
      }[];
    };
    assert.equal(doc.url, `${server.url}/delay/0.05`);
    assert.deepEqual([doc.requests, doc.delay, doc.limit, doc.embedded], [2, 0.05, 1, false]);
    assert.deepEqual([doc.interrupted, doc.ok], [false, true]);
    assert.ok(!Number.isNaN(Date.parse(doc.startedAt)));
    assert.deepEqual(
      doc.modes.map((m) => [m.mode, m.label, m.expectedMs, m.failed, m.requests.length]),
      [
        ['sync', 'Sync', 100, 0, 2],
        ['async', 'Async (unlimited)', 50, 0, 2],
        ['limited', 'Async (rate-limited 1)', 100, 0, 2],
      ],
    );
    for (const m of doc.modes) {
      assert.ok(m.elapsedMs >= 45, `${m.mode} ${m.elapsedMs} ms`);
      for (const q of m.requests) {
        assert.equal(q.status, 200);
        assert.ok(q.endMs - q.startMs >= 45);
      }
    }
    assert.doesNotMatch(r.stderr, /^\|/m, 'no table anywhere');
  });

  void test('--html and --trace in a missing directory fail at once, before any request', async () => {
    await using server = await startTestServer();
    for (const flag of ['--html', '--trace']) {
      const target = join(tmp, 'no', 'such', 'dir', 'r.out');
      const r = await cli(['bench', '-n', '2', '-d', '1', '--url', server.url, flag, target]);
      assert.equal(r.code, 2, `${flag}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${flag} .*r\\.out.*no such directory`));
      assert.equal(r.stdout, '');
      assert.equal(server.requests, 0, `${flag}: no request was made`);
    }
    const dir = await cli(['bench', '-n', '1', '-d', '0', '--url', server.url, '--html', tmp]);
    assert.equal(dir.code, 2);
    assert.match(dir.stderr, /is a directory/);
    assert.equal(server.requests, 0);
  });

  void test('Ctrl-C prints what was measured so far, says it was interrupted, and exits 130', async () => {
    await using server = await startTestServer();
    const child = spawn(
      process.execPath,
      // 2 s, 1 s and 2 s: Ctrl-C comes in the second or third mode.
      [CLI, 'bench', '-n', '2', '-d', '1', '-l', '1', '--url', server.url, '--html', join(tmp, 'never.html')],
      { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
    );
    const done = finished(child);
    let stdout = '';
    child.stdout.on('data', (d: string) => (stdout += d));
    await until(
      'the sync mode to end',
      () => stdout,
      (text) => /Sync elapsed/.test(text),
    );
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /interrupted/);
    const rows = tableRows(r.stdout);
    assert.ok(rows.has('Sync'), `the modes measured so far:\n${r.stdout}`);
    assert.ok(!rows.has('Async (rate-limited 1)'));
    assert.ok(!existsSync(join(tmp, 'never.html')), 'no report of an unfinished run');
  });

  void test(
    '--html writes a timeline that Chromium draws: one bar per request per mode',
    { timeout: 240_000 },
    async () => {
      assert.ok(
        existsSync(CHROMIUM),
        `${CHROMIUM} is missing: this test needs Debian's chromium (apt-get install chromium); CI installs it`,
      );
      const html = join(tmp, 'report.html');
      const requests = 4;
      const r = await cli(['bench', '-n', String(requests), '-d', '0.2', '-l', '2', '--html', html]);
      assert.equal(r.code, 0, r.stderr);
      const page = await readFile(html, 'utf8');
      assert.doesNotMatch(page, /(src|href)=["']?(https?:)?\/\//, 'the page loads nothing from the network');

      const chromium = async (extra: string[]): Promise<Outcome> => {
        const profile = await mkdtemp(join(tmp, 'chromium-'));
        const out = await runProgram(CHROMIUM, [
          ...headlessChromium(profile),
          '--window-size=1200,900',
          ...extra,
          `file://${html}`,
        ]);
        assert.equal(out.code, 0, `chromium ${extra.join(' ')} failed:\n${out.stderr.slice(-2000)}`);
        return out;
      };

      // The rendered DOM: every bar laid out with a width.
      const dom = (await chromium(['--dump-dom'])).stdout;
      const bars = [...dom.matchAll(/<div class="bar [^"]*"[^>]*>/g)].map((m) => m[0]);
      assert.equal(bars.length, 3 * requests, 'one bar per request per mode');
      assert.match(dom, new RegExp(`data-bars-drawn="${3 * requests}"`), 'every bar drawn with a width');
      for (const mode of ['sync', 'async', 'limited']) {
        const own = bars.filter((b) => b.includes(`data-mode="${mode}"`));
        assert.equal(own.length, requests, `${mode} bars`);
        const indexes = own.map((b) => Number(/data-index="(\d+)"/.exec(b)![1])).sort((a, b) => a - b);
        assert.deepEqual(indexes, [0, 1, 2, 3]);
        for (const bar of own) {
          const start = Number(/data-start-ms="([\d.]+)"/.exec(bar)![1]);
          const end = Number(/data-end-ms="([\d.]+)"/.exec(bar)![1]);
          const width = Number(/data-drawn-width="([\d.]+)"/.exec(bar)![1]);
          assert.ok(end - start >= 150, `${mode} bar spans the 200 ms delay: ${start}..${end}`);
          assert.ok(width > 5, `${mode} bar drawn ${width}px wide`);
        }
      }
      // Sequential bars follow each other; concurrent ones overlap.
      const starts = (mode: string): number[] =>
        bars
          .filter((b) => b.includes(`data-mode="${mode}"`))
          .map((b) => Number(/data-start-ms="([\d.]+)"/.exec(b)![1]))
          .sort((a, b) => a - b);
      assert.ok(starts('sync')[3]! > 500, 'the 4th sequential request starts after the first three');
      assert.ok(starts('async')[3]! < 150, 'every concurrent request starts at once');

      // The screenshot: a real PNG with the bars' colours on it.
      const png = join(tmp, 'report.png');
      await chromium([`--screenshot=${png}`]);
      assert.ok((await stat(png)).size > 5_000, 'the screenshot is not trivial');
      const image = decodePng(await readFile(png));
      assert.deepEqual([image.width, image.height], [1200, 900]);
      for (const [mode, color] of Object.entries(MODE_COLORS)) {
        const n = countColor(image, color);
        assert.ok(n > requests * 11 * 30, `${mode} bars drawn in ${color}: ${n} pixels`);
      }
      const white = countColor(image, '#ffffff');
      assert.ok(white < image.width * image.height * 0.97, 'the page is not blank');
    },
  );
});

void describe('tsaio fetch', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  const urlFile = (): string =>
    [
      `${server.url}/get`,
      `${server.url}/status/404`,
      '',
      '# a comment',
      `${server.url}/bytes/100`,
      'not a url',
      `${server.url}/delay/0.1`,
    ].join('\n');

  type Line = { url: string; status: number | null; bytes: number; ms: number; error: string | null };

  function parseLines(stdout: string): Line[] {
    const lines = stdout.split('\n').filter((l) => l !== '');
    return lines.map((l) => {
      const record = JSON.parse(l) as Line;
      assert.deepEqual(Object.keys(record), ['url', 'status', 'bytes', 'ms', 'error']);
      return record;
    });
  }

  function checkResults(records: Line[]): void {
    assert.equal(records.length, 5);
    const by = new Map(records.map((r) => [r.url.replace(server.url, ''), r]));
    assert.deepEqual([by.get('/get')?.status, by.get('/get')?.error], [200, null]);
    assert.ok(by.get('/get')!.bytes > 0);
    assert.equal(by.get('/status/404')?.status, 404);
    assert.deepEqual([by.get('/bytes/100')?.status, by.get('/bytes/100')?.bytes], [200, 100]);
    assert.ok(by.get('/delay/0.1')!.ms >= 90, 'ms counts the delay');
    const bad = by.get('not a url');
    assert.equal(bad?.status, null);
    assert.equal(bad?.error, 'invalid URL: not a url');
    for (const r of records) assert.ok(typeof r.ms === 'number' && r.ms >= 0);
  }

  function checkSummary(stderr: string): void {
    assert.match(stderr, /5 URLs in [\d.]+s, [\d.]+ requests\/s/);
    assert.match(stderr, /1 of 5 failed/);
    assert.match(stderr, /status\s+200: 3\s+404: 1\s+error: 1/);
    assert.match(stderr, /p50 [\d.]+ ms\s+p90 [\d.]+ ms\s+p99 [\d.]+ ms/);
  }

  void test('a file of URLs: one JSON line each on stdout, a summary on stderr', async () => {
    const file = join(tmp, 'urls.txt');
    await writeFile(file, urlFile());
    const r = await cli(['fetch', file, '--concurrency', '3']);
    assert.equal(r.code, 1, `'not a url' failed:\n${r.stderr}`);
    checkResults(parseLines(r.stdout));
    checkSummary(r.stderr);
  });

  void test('a progress bar on stderr when it is a terminal (and none when it is not)', async () => {
    assert.ok(
      existsSync(SCRIPT),
      `${SCRIPT} is missing: this test needs util-linux's script (Debian's bsdutils)`,
    );
    const file = join(tmp, 'slow-urls.txt');
    await writeFile(file, Array.from({ length: 6 }, (_, i) => `${server.url}/delay/0.2?i=${i}`).join('\n'));
    const out = join(tmp, 'progress.jsonl');
    // script runs the command on a pseudo-terminal and copies what it shows to its stdout.
    const command = [process.execPath, CLI, 'fetch', file, '-c', '2', '--out', out]
      .map((a) => `'${a}'`)
      .join(' ');
    const r = await runProgram(SCRIPT, ['-q', '-e', '-c', command, '/dev/null'], 60_000, { env: childEnv() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /[█░]+ \d\/6 URLs \| 0 errors \| [\d.]+ req\/s/,
      `no progress bar in:\n${r.stdout}`,
    );
    assert.match(r.stdout, /6 URLs in [\d.]+s/);
    assert.equal(parseLines(await readFile(out, 'utf8')).length, 6);
    // Without a terminal (the other tests), stderr has the summary only.
    const piped = await cli(['fetch', file, '-c', '2', '--out', out]);
    assert.doesNotMatch(piped.stderr, /[█░]/);
  });

  void test('URLs on stdin, with --method, --header, --rate, --retries, --timeout', async () => {
    const r = await cli(
      ['fetch', '-X', 'get', '-H', 'X-Test: yes', '--rate', '100', '--retries', '1', '--timeout', '5'],
      { input: urlFile() },
    );
    assert.equal(r.code, 1, r.stderr);
    checkResults(parseLines(r.stdout));
    checkSummary(r.stderr);
    const echo = await cli(['fetch', '-H', 'X-Test: yes', '-X', 'POST'], {
      input: `${server.url}/anything\n`,
    });
    const [line] = parseLines(echo.stdout);
    assert.equal(line?.status, 200);
  });

  void test('--timeout turns a slow URL into an error record', async () => {
    const r = await cli(['fetch', '--timeout', '0.2'], {
      input: `${server.url}/delay/3\n${server.url}/get\n`,
    });
    assert.equal(r.code, 1, r.stderr);
    const records = parseLines(r.stdout);
    const slow = records.find((x) => x.url.endsWith('/delay/3'));
    assert.equal(slow?.status, null);
    assert.equal(slow?.error, 'timed out after 0.2 s (--timeout)');
    assert.ok(slow!.ms < 2_000);
  });

  void test('--max-body-size: a larger body is an error record; an endless one stops at the 100 MiB default', async () => {
    const r = await cli(['fetch', '--max-body-size', '1k'], {
      input: `${server.url}/bytes/1024\n${server.url}/bytes/1025\n${server.url}/drip?numbytes=2000&duration=0\n`,
    });
    assert.equal(r.code, 1, r.stderr);
    const by = new Map(parseLines(r.stdout).map((x) => [x.url.replace(server.url, ''), x]));
    assert.deepEqual([by.get('/bytes/1024')?.bytes, by.get('/bytes/1024')?.error], [1024, null]);
    assert.match(by.get('/bytes/1025')?.error ?? '', /^body larger than --max-body-size \(1024 bytes\)/);
    assert.match(by.get('/drip?numbytes=2000&duration=0')?.error ?? '', /^body larger than --max-body-size/);
    const bad = await cli(['fetch', '--max-body-size', 'lots']);
    assert.equal(bad.code, 2);
    // An endless body from a server of our own: the default limit ends it.
    const endless = createNetServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
        const piece = Buffer.concat([
          Buffer.from('10000\r\n'),
          Buffer.alloc(0x10000, 0x61),
          Buffer.from('\r\n'),
        ]);
        const pump = (): void => {
          while (!socket.destroyed && socket.write(piece)) {
            // until the socket's buffer is full
          }
          if (!socket.destroyed) socket.once('drain', pump);
        };
        pump();
      });
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    try {
      const port = (endless.address() as AddressInfo).port;
      const e = await cli(['fetch', '--timeout', '20'], { input: `http://127.0.0.1:${port}/\n` });
      assert.equal(e.code, 1, e.stderr);
      const [line] = parseLines(e.stdout);
      assert.match(line?.error ?? '', /^body larger than --max-body-size \(104857600 bytes\)/);
      assert.ok(line!.bytes <= 104_857_600, `read ${line!.bytes} bytes`);
    } finally {
      endless.close();
    }
  });

  void test('--out writes the lines to a file, not stdout', async () => {
    const out = join(tmp, 'out.jsonl');
    const r = await cli(['fetch', '-', '--out', out], { input: urlFile() });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    checkResults(parseLines(await readFile(out, 'utf8')));
    checkSummary(r.stderr);
  });

  void test('a missing file exits 1', async () => {
    const r = await cli(['fetch', join(tmp, 'no-such-file.txt')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read/);
  });

  void test('exit code: 0 when every URL got a response, 1 when any failed (all of them too); --fail counts HTTP >= 400', async () => {
    const closed = `http://127.0.0.1:${await freePort()}/`;
    const allFailed = await cli(['fetch'], { input: `${closed}a\n${closed}b\n` });
    assert.equal(allFailed.code, 1, `every request failed:\n${allFailed.stderr}`);
    assert.match(allFailed.stderr, /2 of 2 failed/);
    const someFailed = await cli(['fetch'], { input: `${server.url}/get\n${closed}\n` });
    assert.equal(someFailed.code, 1, someFailed.stderr);
    assert.match(someFailed.stderr, /1 of 2 failed/);
    // As curl: a 404 is a response; with --fail it is a failure.
    const statuses = `${server.url}/get\n${server.url}/status/404\n${server.url}/status/503\n`;
    const plain = await cli(['fetch'], { input: statuses });
    assert.equal(plain.code, 0, plain.stderr);
    assert.deepEqual(
      parseLines(plain.stdout).map((r) => r.error),
      [null, null, null],
    );
    const failing = await cli(['fetch', '--fail'], { input: statuses });
    assert.equal(failing.code, 1, failing.stderr);
    const by = new Map(parseLines(failing.stdout).map((r) => [r.url.replace(server.url, ''), r]));
    assert.deepEqual([by.get('/status/404')?.status, by.get('/status/404')?.error], [404, 'HTTP 404']);
    assert.deepEqual([by.get('/status/503')?.status, by.get('/status/503')?.error], [503, 'HTTP 503']);
    assert.equal(by.get('/get')?.error, null);
    assert.match(failing.stderr, /2 of 3 failed/);
    const fine = await cli(['fetch', '--fail'], { input: `${server.url}/get\n${server.url}/bytes/3\n` });
    assert.equal(fine.code, 0, fine.stderr);
    assert.doesNotMatch(fine.stderr, /failed/);
    // The rule is in the help.
    const help = await cli(['fetch', '--help']);
    assert.match(help.stdout, /--fail/);
    assert.match(help.stdout, /Exit status: 0 .*\n?.*1 .*failed/);
  });

  void test('-d/--data (text, @file, @-) and --json send a body, POST unless -X says otherwise', async () => {
    const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
    const echo = createHttpServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
    const last = () => seen.at(-1)!;
    try {
      const form = await cli(['fetch', '-d', 'a=1', '--data', 'b=2'], { input: `${base}/form\n` });
      assert.equal(form.code, 0, form.stderr);
      assert.deepEqual([last().method, last().body], ['POST', 'a=1&b=2']);
      assert.equal(last().headers['content-type'], 'application/x-www-form-urlencoded');

      const json = await cli(['fetch', '--json', '{"x":1}'], { input: `${base}/json\n` });
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual([last().method, last().body], ['POST', '{"x":1}']);
      assert.equal(last().headers['content-type'], 'application/json');
      assert.equal(last().headers['accept'], 'application/json');

      const file = join(tmp, 'body.bin');
      await writeFile(file, 'line 1\nline 2\n');
      const fromFile = await cli(['fetch', '-X', 'PUT', '-d', `@${file}`, '-H', 'Content-Type: text/plain'], {
        input: `${base}/file\n`,
      });
      assert.equal(fromFile.code, 0, fromFile.stderr);
      assert.deepEqual([last().method, last().body], ['PUT', 'line 1\nline 2\n']);
      assert.equal(last().headers['content-type'], 'text/plain', 'an explicit -H Content-Type wins');

      // @-: the body from stdin, the URLs from a file; every URL gets the same body.
      const urls = join(tmp, 'post-urls.txt');
      await writeFile(urls, `${base}/one\n${base}/two\n`);
      const fromStdin = await cli(['fetch', urls, '--json', '@-'], { input: '{"from":"stdin"}' });
      assert.equal(fromStdin.code, 0, fromStdin.stderr);
      const two = seen.slice(-2).sort((a, b) => a.url.localeCompare(b.url));
      assert.deepEqual(
        two.map((r) => [r.url, r.method, r.body]),
        [
          ['/one', 'POST', '{"from":"stdin"}'],
          ['/two', 'POST', '{"from":"stdin"}'],
        ],
      );

      // Without a body, GET as before.
      await cli(['fetch'], { input: `${base}/plain\n` });
      assert.deepEqual([last().method, last().body], ['GET', '']);

      // What cannot work is said before any request.
      const before = seen.length;
      const both = await cli(['fetch', '-d', '@-'], { input: `${base}/x\n` });
      assert.equal(both.code, 2);
      assert.match(both.stderr, /@-.*stdin/);
      const twice = await cli(['fetch', urls, '-d', 'a', '--json', '{}']);
      assert.equal(twice.code, 2);
      assert.match(twice.stderr, /either/);
      const missing = await cli(['fetch', urls, '-d', `@${join(tmp, 'no-such-body')}`]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /cannot read .*no-such-body/);
      assert.equal(seen.length, before);
    } finally {
      echo.close();
    }
  });

  void test('a bare host:port/path gets http://; errors are said in user terms, without class names', async () => {
    const host = server.url.replace('http://', '');
    const closed = `127.0.0.1:${await freePort()}`;
    const r = await cli(['fetch', '--timeout', '0.3', '--max-body-size', '10'], {
      input: [
        `${host}/bytes/5`,
        'not a url',
        'ftp://example.com/file',
        `${closed}/refused`,
        `${server.url}/delay/3`,
        `${server.url}/bytes/11`,
      ].join('\n'),
    });
    assert.equal(r.code, 1, r.stderr);
    const records = parseLines(r.stdout);
    const bare = records.find((x) => x.url.endsWith('/bytes/5'));
    assert.deepEqual(
      [bare?.url, bare?.status, bare?.bytes, bare?.error],
      [`${server.url}/bytes/5`, 200, 5, null],
    );
    const error = (end: string): string => records.find((x) => x.url.endsWith(end))?.error ?? '';
    assert.equal(error('not a url'), 'invalid URL: not a url');
    assert.match(error('/file'), /^unsupported URL scheme 'ftp:'/);
    assert.match(error('/refused'), /^connection refused/);
    assert.match(error('/delay/3'), /^timed out after 0\.3 s/);
    assert.match(error('/bytes/11'), /^body larger than --max-body-size/);
    for (const record of records) {
      assert.doesNotMatch(record.error ?? '', /[A-Z][a-z]+Error|ClientSession|TypeError/, record.error ?? '');
    }
  });

  for (const toFile of [false, true]) {
    void test(`Ctrl-C stops promptly with exit 130 and keeps the lines written (${toFile ? '--out' : 'stdout, stdin left open'})`, async () => {
      const out = join(tmp, `interrupted-${String(toFile)}.jsonl`);
      const urls = [
        ...Array.from({ length: 3 }, (_, i) => `${server.url}/get?i=${i}`),
        ...Array.from({ length: 5 }, () => `${server.url}/delay/5`),
      ];
      const child = spawn(process.execPath, [CLI, 'fetch', '-c', '10', ...(toFile ? ['--out', out] : [])], {
        env: childEnv(),
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: 60_000,
      });
      const done = finished(child);
      // On stdout, the input stays open: each line must be written as soon as its URL is done.
      if (toFile) child.stdin.end(urls.join('\n'));
      else child.stdin.write(`${urls.join('\n')}\n`);
      let stdout = '';
      child.stdout.on('data', (d: string) => (stdout += d));
      const written = async (): Promise<string> =>
        toFile && existsSync(out) ? readFile(out, 'utf8') : stdout;
      // Poll the file or stdout until the three fast results are there.
      const deadline = performance.now() + 30_000;
      for (;;) {
        const seen = await written();
        if (seen.split('\n').filter(Boolean).length >= 3) break;
        assert.ok(performance.now() < deadline, `timed out waiting for 3 lines; got:\n${seen}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      const sent = performance.now();
      child.kill('SIGINT');
      const r = await done;
      const took = performance.now() - sent;
      assert.equal(r.code, 130, `exit code (signal ${r.signal}):\n${r.stderr}`);
      assert.ok(took < 3_000, `stopped ${took.toFixed(0)} ms after SIGINT, before the 5 s delays`);
      const records = parseLines(toFile ? await readFile(out, 'utf8') : r.stdout);
      assert.equal(records.length, 3, 'the fast URLs, none of the cancelled ones');
      for (const record of records) assert.equal(record.status, 200);
      assert.match(r.stderr, /interrupted/);
    });
  }
});

void describe('tsaio serve', () => {
  void test('--port 0 prints its URL, answers /get, and stops on Ctrl-C with 130', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    const done = finished(child);
    let stdout = '';
    child.stdout.on('data', (d: string) => (stdout += d));
    await until(
      'the URL',
      () => stdout,
      (s) => /http:\/\/127\.0\.0\.1:\d+/.test(s),
    );
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout)![0];
    assert.notEqual(url, 'http://127.0.0.1:0');
    const res = await fetch(`${url}/get?x=1`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { args: Record<string, string> };
    assert.deepEqual(body.args, { x: '1' });
    assert.equal((await fetch(`${url}/status/abc`)).status, 400);
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    // The access log, on stderr: one line a request.
    assert.match(r.stderr, /^127\.0\.0\.1 "GET \/get\?x=1 HTTP\/1\.1" 200 \d+ [\d.]+ ms$/m);
    assert.match(r.stderr, /^127\.0\.0\.1 "GET \/status\/abc HTTP\/1\.1" 400 \d+ [\d.]+ ms$/m);
  });

  void test('--quiet: no access log', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--quiet'], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    const done = finished(child);
    let stdout = '';
    child.stdout.on('data', (d: string) => (stdout += d));
    await until(
      'the URL',
      () => stdout,
      (s) => /http:\/\/127\.0\.0\.1:\d+/.test(s),
    );
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout)![0];
    assert.equal((await fetch(`${url}/get`)).status, 200);
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.doesNotMatch(r.stderr, /GET \/get/);
  });

  void test('-H is --header everywhere (as curl): serve takes --host, and says so when given -H', async () => {
    const r = await cli(['serve', '-H', '127.0.0.1', '--port', '0'], { timeout: 15_000 });
    assert.equal(r.code, 2, `exit code (signal ${r.signal}):\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /-H is --header .*tsaio fetch.*--host/s);
    assert.equal(r.stdout, '');
    const help = await cli(['serve', '--help']);
    assert.match(help.stdout, /^\s+--host <address>/m);
    assert.doesNotMatch(help.stdout, /-H\b/);
    // --host still works.
    const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--quiet'], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    const done = finished(child);
    let stdout = '';
    child.stdout.on('data', (d: string) => (stdout += d));
    await until(
      'the URL',
      () => stdout,
      (text) => /http:\/\/127\.0\.0\.1:\d+/.test(text),
    );
    child.kill('SIGINT');
    assert.equal((await done).code, 130);
  });

  void test('/ip and /uuid answer as httpbin', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    const done = finished(child);
    let stdout = '';
    child.stdout.on('data', (d: string) => (stdout += d));
    await until(
      'the URL',
      () => stdout,
      (text) => /http:\/\/127\.0\.0\.1:\d+/.test(text),
    );
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout)![0];
    const ip = await fetch(`${url}/ip`);
    assert.equal(ip.status, 200);
    assert.match(ip.headers.get('content-type') ?? '', /application\/json/);
    assert.deepEqual(await ip.json(), { origin: '127.0.0.1' });
    const uuids = await Promise.all(
      [1, 2].map(async () => ((await (await fetch(`${url}/uuid`)).json()) as { uuid: string }).uuid),
    );
    const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const uuid of uuids) assert.match(uuid, v4);
    assert.notEqual(uuids[0], uuids[1]);
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /"GET \/ip HTTP\/1\.1" 200/);
    assert.match(r.stderr, /"GET \/uuid HTTP\/1\.1" 200/);
  });
});

void describe('tsaio worker: loading the module', () => {
  // No NATS here: a module that loads ends at the connection (exit 1, NoServerError);
  // one that does not load ends before it (exit 2, a usage error).
  let project = '';
  let servers = '';
  before(async () => {
    project = await mkdtemp(join(tmp, 'project-'));
    await writeFile(join(project, 'jobs.js'), 'export function add(a, b) { return a + b; }\n');
    await writeFile(
      join(project, 'jobs.ts'),
      'export function add(a: number, b: number): number {\n  return a + b;\n}\n',
    );
    await mkdir(join(project, 'node_modules', 'my-jobs'), { recursive: true });
    await writeFile(
      join(project, 'node_modules', 'my-jobs', 'package.json'),
      '{ "name": "my-jobs", "type": "module", "exports": "./index.js" }\n',
    );
    await writeFile(
      join(project, 'node_modules', 'my-jobs', 'index.js'),
      'export const double = (n) => 2 * n;\n',
    );
    servers = `127.0.0.1:${await freePort()}`;
  });

  /** Runs `tsaio worker MODULE` in `cwd` against a port nobody listens on. */
  const worker = (module: string, cwd: string): Promise<Outcome> =>
    cli(['worker', module, '--servers', servers], { cwd, timeout: 30_000 });

  const loaded = (r: Outcome): void => {
    assert.equal(r.code, 1, `the module loaded, then no server:\n${r.stderr}`);
    assert.match(r.stderr, /no NATS server answered/);
  };

  void test('./jobs.js, jobs.js and a package name resolve from the current directory', async () => {
    loaded(await worker('./jobs.js', project));
    loaded(await worker('jobs.js', project));
    loaded(await worker('my-jobs', project));
  });

  void test('a missing module names the file looked for in the current directory', async () => {
    const r = await worker('./missing.js', project);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(join(project, 'missing.js')), r.stderr);
    assert.doesNotMatch(r.stderr, /dist[\\/]cli/);
  });

  void test('./jobs.ts runs through tsx when the project has it, and says how when it has not', async () => {
    // A project with tsx installed (a link to ours).
    const withTsx = await mkdtemp(join(tmp, 'with-tsx-'));
    await writeFile(join(withTsx, 'jobs.ts'), await readFile(join(project, 'jobs.ts')));
    await mkdir(join(withTsx, 'node_modules'));
    await symlink(join(ROOT, 'node_modules', 'tsx'), join(withTsx, 'node_modules', 'tsx'));
    loaded(await worker('./jobs.ts', withTsx));
    // The project without tsx.
    const r = await worker('./jobs.ts', project);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /npm i -D tsx/);
    assert.match(r.stderr, /node --import tsx/);
    assert.doesNotMatch(r.stderr, /Unknown file extension/);
  });
});
