// Regression tests for the defects the files oracle (oracle/files/) found in
// `tsaio/fs`: each is the oracle's shrunk scenario as a plain test, its
// expected values those CPython 3.13's `open()` gives (written down here, so
// no Python is needed). Real files in a fresh temporary directory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsupportedOperation, open } from '../src/fs/index.ts';

let dir = '';
const path = (name: string) => join(dir, name);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsaio-fs-oracle-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** The 10,000 lines of the file the 64 KiB defect was seen on (about 190 KB). */
function tenThousandLines(): string[] {
  return Array.from({ length: 10_000 }, (_, i) => `line ${i}: ${'x'.repeat(i % 23)}é\n`);
}

void describe('lines across a 64 KiB read', () => {
  void test('for await gives every line of a 10,000-line file', async () => {
    const lines = tenThousandLines();
    writeFileSync(path('10k.txt'), lines.join(''));
    await using f = await open(path('10k.txt'));
    const got: string[] = [];
    for await (const line of f) got.push(line);
    assert.equal(got.length, 10_000); // CPython: 10000
    assert.deepEqual(got, lines);
  });

  void test('readline() gives every line of a 10,000-line file', async () => {
    const lines = tenThousandLines();
    writeFileSync(path('10k-readline.txt'), lines.join(''));
    await using f = await open(path('10k-readline.txt'));
    const got: string[] = [];
    for (let line = await f.readline(); line !== ''; line = await f.readline()) got.push(line);
    assert.equal(got.length, 10_000);
    assert.deepEqual(got, lines);
    await f.seek(0);
    assert.deepEqual(await f.readlines(), lines);
  });

  void test('shrunk: a line that straddles 64 KiB, then one more', async () => {
    // oracle seed 34: "a"×65479 "\n", "a"×56 "\n", "a"; lines(2)
    writeFileSync(path('straddle.txt'), `${'a'.repeat(65_479)}\n${'a'.repeat(56)}\na`);
    await using f = await open(path('straddle.txt'));
    const got: string[] = [];
    for await (const line of f) {
      got.push(line);
      if (got.length === 2) break;
    }
    assert.deepEqual(got, [`${'a'.repeat(65_479)}\n`, `${'a'.repeat(56)}\n`]);
    assert.equal(await f.readline(), 'a');
  });
});

void describe('readlines(hint)', () => {
  void test('stops after the line that takes the total past the hint, not at it', async () => {
    writeFileSync(path('hint.txt'), 'ab\ncd\nef\n');
    await using f = await open(path('hint.txt'));
    assert.deepEqual(await f.readlines(3), ['ab\n', 'cd\n']); // CPython: 3 is not past 3
    await f.seek(0);
    assert.deepEqual(await f.readlines(2), ['ab\n']);
    await using b = await open(path('hint.txt'), 'rb');
    assert.deepEqual(
      (await b.readlines(6)).map((l) => Buffer.from(l).toString()),
      ['ab\n', 'cd\n', 'ef\n'],
    );
  });

  void test('counts characters, not UTF-16 units', async () => {
    writeFileSync(path('hint-emoji.txt'), '😀\nb\nc\n');
    await using f = await open(path('hint-emoji.txt'));
    assert.deepEqual(await f.readlines(2), ['😀\n', 'b\n']); // CPython: '😀\n' is 2 characters
  });
});

void describe('append mode', () => {
  void test('an empty write does not move the position to the end', async () => {
    // oracle seeds 178, 203, 262
    writeFileSync(path('append.bin'), 'a');
    {
      await using f = await open(path('append.bin'), 'ab');
      assert.equal(await f.seek(0), 0);
      assert.equal(await f.write(new Uint8Array(0)), 0);
      assert.equal(await f.tell(), 0); // CPython: 0
    }
    {
      await using f = await open(path('append.bin'), 'a+');
      await f.seek(0);
      await f.writelines([]);
      assert.equal(await f.read(1), 'a'); // CPython: 'a'
    }
    writeFileSync(path('append-empty.bin'), '');
    await using f = await open(path('append-empty.bin'), 'ab');
    assert.equal(await f.seek(1), 1);
    await f.writelines([]);
    assert.equal(await f.tell(), 1); // CPython: 1
  });
});

void describe('writelines', () => {
  void test('writelines([]) on a file not open for writing does nothing, as CPython', async () => {
    // oracle seeds 349, 615: CPython's writelines checks nothing until it writes a line
    writeFileSync(path('ro.txt'), 'abc');
    {
      await using f = await open(path('ro.txt'));
      await f.writelines([]);
      assert.equal(await f.read(), 'abc');
    }
    await using b = await open(path('ro.txt'), 'rb');
    await b.writelines([]);
  });
});

void describe('utf-16-le', () => {
  void test("errors: 'replace' reads a lone surrogate as U+FFFD", async () => {
    // oracle seeds 440, 737: b"=\xd8"
    writeFileSync(path('lone.txt'), Buffer.from([0x3d, 0xd8]));
    {
      await using f = await open(path('lone.txt'), 'r', { encoding: 'utf-16-le', errors: 'replace' });
      assert.equal(await f.read(), '\ufffd'); // CPython: '\ufffd'
    }
    writeFileSync(path('lone2.txt'), Buffer.from([0x00, 0xd8, 0x41, 0x00, 0x00, 0xdc, 0x0a, 0x00]));
    await using f = await open(path('lone2.txt'), 'r', { encoding: 'utf-16-le', errors: 'replace' });
    assert.equal(await f.readline(), '\ufffdA\ufffd\n'); // CPython: '\ufffdA\ufffd\n'
  });

  void test('a leading U+FEFF is a character, not a byte order mark to drop', async () => {
    writeFileSync(path('bom.txt'), Buffer.from([0xff, 0xfe, 0x41, 0x00]));
    for (const errors of ['strict', 'replace'] as const) {
      await using f = await open(path('bom.txt'), 'r', { encoding: 'utf-16-le', errors });
      assert.equal(await f.read(), '\ufeffA', errors); // CPython: '\ufeffA'
    }
  });
});

void describe('writelines that fails part way', () => {
  void test('the lines before the one that cannot be written are written, as CPython', async () => {
    // oracle seed 1474: CPython's writelines is write() for each line in turn
    {
      await using f = await open(path('wl.txt'), 'w', { encoding: 'latin-1' });
      const e = await f.writelines(['ab', '€', 'cd']).then(
        () => null,
        (error: unknown) => error,
      );
      assert.ok(e instanceof TypeError, 'UnicodeEncodeError in CPython');
    }
    assert.equal(readFileSync(path('wl.txt'), 'latin1'), 'ab'); // CPython: b'ab'
    {
      await using f = await open(path('wl.bin'), 'wb');
      const e = await f.writelines([Buffer.from('ab'), 'x' as never, Buffer.from('cd')]).then(
        () => null,
        (error: unknown) => error,
      );
      assert.ok(e instanceof TypeError);
    }
    assert.equal(readFileSync(path('wl.bin'), 'latin1'), 'ab'); // CPython: b'ab'
  });
});

void describe("tell() under errors: 'replace'", () => {
  /** read(1), tell(), read(), seek(tell), read() — with what CPython gives for each. */
  async function readBack(name: string, bytes: number[], encoding: string, expected: [string, string]) {
    writeFileSync(path(name), Buffer.from(bytes));
    await using f = await open(path(name), 'r', { encoding, errors: 'replace' });
    assert.equal(await f.read(1), expected[0]);
    const at = await f.tell();
    assert.equal(await f.read(), expected[1]);
    assert.equal(await f.seek(at), at);
    assert.equal(await f.read(), expected[1], 'read again from tell()');
  }

  void test('counts the bytes a U+FFFD stands for, not three', async () => {
    await readBack('rep1.txt', [0x61, 0xff, 0x62, 0x63], 'utf-8', ['a', '\ufffdbc']);
    await readBack('rep2.txt', [0x61, 0xe2, 0x82], 'utf-8', ['a', '\ufffd']);
    const mixed = [0x61, 0xe2, 0x82, 0x62, 0xf0, 0x9f, 0x98, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0x7a];
    await readBack('rep3.txt', mixed, 'utf-8', ['a', `\ufffdb${'\ufffd'.repeat(6)}z`]);
    await readBack('rep4.txt', [0x41, 0, 0, 0xd8, 0x42, 0], 'utf-16-le', ['A', '\ufffdB']);
    await readBack('rep5.txt', [0x41, 0, 0, 0xd8, 0x42], 'utf-16-le', ['A', '\ufffd']);
  });
});

void describe('a read-only file', () => {
  void test('writing a character the encoding lacks is UnsupportedOperation, not an encoding error', async () => {
    // oracle seed 502874: CPython checks that the file is writable before it encodes
    writeFileSync(path('ro-latin1.txt'), '');
    await using f = await open(path('ro-latin1.txt'), 'r', { encoding: 'latin-1' });
    const e = await f.write('\u05d0').then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(e instanceof UnsupportedOperation, `expected UnsupportedOperation, got ${String(e)}`);
    const e2 = await f.writelines(['\u05d0']).then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(e2 instanceof UnsupportedOperation, `expected UnsupportedOperation, got ${String(e2)}`);
  });
});
