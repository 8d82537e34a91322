// Behaviour tests for `tsaio/fs`: `open` with every Python mode, the
// `AsyncFile` methods in text and binary mode, the fine print of SPEC.md
// ("Fine print of the I/O parts": promises everywhere, `readline` keeps the
// '\n', '' / empty bytes at the end, `read(n)` counts characters and never
// splits one, `seek` resolves to the new position, `write` to the count,
// closing twice is harmless), the `os` namespace, bad input and cancellation.
// Real files in a fresh temporary directory. After every test: no tsaio or
// Node timer left (`assertNoLeaks`) and no file descriptor left open (the
// entries of /proc/self/fd are counted).
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CancelledError, InvalidStateError, gather } from '../src/index.ts';
import { AsyncFile, UnsupportedOperation, open, os } from '../src/fs/index.ts';
import { CHUNK } from '../src/fs/_buffered.ts';
import { assertNoLeaks, rejection } from './_helpers.ts';

let dir = '';
let fds = 0;
const openFds = () => readdirSync('/proc/self/fd').length;
const path = (name: string) => join(dir, name);
const bytes = (s: string) => new Uint8Array(Buffer.from(s));
const aborted = () => AbortSignal.abort(new Error('stop'));

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsaio-fs-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => {
  fds = openFds();
});
afterEach(async () => {
  await assertNoLeaks();
  assert.equal(openFds(), fds, 'a file descriptor was left open');
});

/** Asserts that `p` rejects with a `CancelledError`. */
async function assertCancelled(p: Promise<unknown>): Promise<void> {
  const e = await rejection(p);
  assert.ok(e instanceof CancelledError, `expected CancelledError, got ${String(e)}`);
}

void describe('open: modes', () => {
  void test("'r' is the default; a missing file is ENOENT", async () => {
    writeFileSync(path('r.txt'), 'hello');
    await using f = await open(path('r.txt'));
    assert.ok(f instanceof AsyncFile);
    assert.equal(f.mode, 'r');
    assert.equal(f.encoding, 'utf-8');
    assert.equal(await f.read(), 'hello');
    assert.equal(await f.read(), '', "'' at the end of the file");
    assert.equal(await f.readable(), true);
    assert.equal(await f.writable(), false);
    assert.equal(await f.seekable(), true);
    const e = (await rejection(open(path('missing.txt')))) as NodeJS.ErrnoException;
    assert.equal(e.code, 'ENOENT');
  });

  void test("'w' truncates or creates, 'x' creates only, 'a' appends", async () => {
    writeFileSync(path('w.txt'), 'old content');
    {
      await using f = await open(path('w.txt'), 'w');
      assert.equal(await f.write('new'), 3);
    }
    assert.equal(readFileSync(path('w.txt'), 'utf8'), 'new');
    {
      await using f = await open(path('x.txt'), 'x');
      await f.write('made');
    }
    assert.equal(((await rejection(open(path('x.txt'), 'x'))) as NodeJS.ErrnoException).code, 'EEXIST');
    {
      await using f = await open(path('w.txt'), 'a');
      assert.equal(await f.tell(), 3, 'append starts at the end');
      await f.seek(0);
      await f.write('+more');
      assert.equal(await f.tell(), 8, 'the write went to the end whatever the position');
    }
    assert.equal(readFileSync(path('w.txt'), 'utf8'), 'new+more');
  });

  void test("'+' adds the other direction: r+, w+, a+", async () => {
    writeFileSync(path('rp.txt'), 'abcdef');
    {
      await using f = await open(path('rp.txt'), 'r+');
      assert.equal(await f.read(2), 'ab');
      await f.write('XY'); // lands where the reader was, though the buffer read ahead
      assert.equal(await f.read(), 'ef');
      await f.seek(0);
      assert.equal(await f.read(), 'abXYef');
    }
    {
      await using f = await open(path('rp.txt'), 'w+');
      assert.equal(await f.read(), '', 'w+ truncated');
      await f.write('fresh');
      assert.equal(await f.seek(0), 0);
      assert.equal(await f.read(), 'fresh');
    }
    {
      await using f = await open(path('rp.txt'), 'a+');
      await f.write('!');
      await f.seek(0);
      assert.equal(await f.read(), 'fresh!');
    }
  });

  void test("'b' gives Uint8Array; the end of the file is an empty Uint8Array", async () => {
    writeFileSync(path('b.bin'), Buffer.from([1, 2, 3, 10, 4]));
    await using f = await open(path('b.bin'), 'rb');
    assert.equal(f.encoding, null);
    assert.deepEqual(await f.read(2), new Uint8Array([1, 2]));
    assert.deepEqual(await f.readline(), new Uint8Array([3, 10]));
    assert.deepEqual(await f.read(), new Uint8Array([4]));
    const end = await f.read();
    assert.ok(end instanceof Uint8Array && end.length === 0);
    for (const mode of ['wb', 'xb', 'ab', 'r+b', 'w+b', 'a+b', 'bw', 'br+']) {
      const name = path(`m-${mode}.bin`);
      if (mode.includes('r')) writeFileSync(name, '');
      await using g = (await open(name, mode)) as unknown as AsyncFile<true>;
      assert.equal(await g.write(bytes('ok')), 2, mode);
    }
  });

  void test("'t' is text, as the default", async () => {
    writeFileSync(path('t.txt'), 'text');
    await using f = await open(path('t.txt'), 'rt');
    assert.equal(await f.read(), 'text');
  });

  void test('a file: URL or a Buffer is a path too', async () => {
    writeFileSync(path('u.txt'), 'url');
    {
      await using f = await open(pathToFileURL(path('u.txt')));
      assert.equal(await f.read(), 'url');
      assert.equal(f.name, path('u.txt'));
    }
    await using g = await open(Buffer.from(path('u.txt')));
    assert.equal(await g.read(), 'url');
  });
});

void describe('open: bad input', () => {
  void test('bad modes are RangeErrors naming the mode; a non-string mode is a TypeError', async () => {
    for (const mode of ['', 'rw', 'rr', 'q', 'rbt', 'wa', '++r', 'b', '+', 'rx']) {
      const e = await rejection(open(path('any.txt'), mode));
      assert.ok(e instanceof RangeError, `mode ${JSON.stringify(mode)}: ${String(e)}`);
      assert.ok((e as Error).message.includes(`invalid mode ${JSON.stringify(mode)}`), (e as Error).message);
    }
    assert.ok((await rejection(open(path('any.txt'), 5 as never))) instanceof TypeError);
    assert.equal(existsSync(path('any.txt')), false, 'nothing was created');
  });

  void test('encodings: unknown, or any in binary mode, are RangeErrors; errors must be strict or replace', async () => {
    assert.match(
      String(await rejection(open(path('e.txt'), 'w', { encoding: 'klingon' }))),
      /RangeError.*"klingon"/,
    );
    assert.ok((await rejection(open(path('e.txt'), 'wb', { encoding: 'utf-8' }))) instanceof RangeError);
    assert.ok(
      (await rejection(open(path('e.txt'), 'w', { errors: 'ignore' as never }))) instanceof RangeError,
    );
    assert.equal(existsSync(path('e.txt')), false);
  });

  void test('bad paths: TypeError for a non-path, RangeError for an empty one, EISDIR for a directory', async () => {
    assert.ok((await rejection(open(42 as never))) instanceof TypeError);
    assert.ok((await rejection(open(new URL('http://example.com/x') as never))) instanceof TypeError);
    assert.ok((await rejection(open(''))) instanceof RangeError);
    assert.equal(((await rejection(open(dir))) as NodeJS.ErrnoException).code, 'EISDIR');
    assert.equal(((await rejection(open(dir, 'w'))) as NodeJS.ErrnoException).code, 'EISDIR');
  });

  void test('a bad signal option is a TypeError', async () => {
    assert.ok((await rejection(open(path('s.txt'), 'w', { signal: 'no' as never }))) instanceof TypeError);
  });
});

void describe('AsyncFile: text mode', () => {
  void test('read(n) counts characters (code points), never splitting one', async () => {
    const text = 'aé€😀b'.repeat(3);
    writeFileSync(path('chars.txt'), text);
    await using f = await open(path('chars.txt'));
    const got: string[] = [];
    for (let c = await f.read(1); c !== ''; c = await f.read(1)) got.push(c);
    assert.deepEqual(got, [...text], 'one character per read(1), the emoji whole');
    await f.seek(0);
    assert.equal(await f.read(4), 'aé€😀');
  });

  void test('a multi-byte character across the read buffer boundary is never split', async () => {
    // The 4-byte emoji starts 2 bytes before the end of the first 64 KiB chunk.
    const text = 'x'.repeat(CHUNK - 2) + '😀' + 'é'.repeat(10) + '\n';
    writeFileSync(path('boundary.txt'), text);
    {
      await using f = await open(path('boundary.txt'));
      assert.equal((await f.read(CHUNK - 2)).length, CHUNK - 2);
      assert.equal(await f.read(1), '😀');
      assert.equal(await f.tell(), CHUNK + 2, 'tell() is the byte offset of the next character');
      assert.equal(await f.readline(), 'é'.repeat(10) + '\n');
    }
    {
      await using f = await open(path('boundary.txt'));
      assert.equal(await f.readline(), text, 'readline across the boundary');
    }
    // The same with UTF-16: a surrogate pair across the boundary.
    writeFileSync(path('boundary16.txt'), Buffer.from('y'.repeat(CHUNK / 2 - 1) + '😀z', 'utf16le'));
    await using g = await open(path('boundary16.txt'), 'r', { encoding: 'utf-16-le' });
    assert.equal((await g.read(CHUNK / 2 - 1)).length, CHUNK / 2 - 1);
    assert.equal(await g.read(1), '😀');
    assert.equal(await g.read(), 'z');
  });

  void test('seek(tell()) returns to the same character', async () => {
    writeFileSync(path('seek.txt'), 'ab€cd😀ef');
    await using f = await open(path('seek.txt'));
    await f.read(3);
    const at = await f.tell();
    assert.equal(at, 5);
    const rest = await f.read();
    assert.equal(await f.seek(at), at);
    assert.equal(await f.read(), rest);
    assert.equal(await f.seek(0, 2), Buffer.byteLength('ab€cd😀ef'), 'seek(0, 2): the end');
    assert.equal(await f.seek(0, 1), Buffer.byteLength('ab€cd😀ef'));
  });

  void test('text seeks relative to the current position or the end need offset 0 (UnsupportedOperation)', async () => {
    writeFileSync(path('rel.txt'), 'abc');
    await using f = await open(path('rel.txt'));
    const e = await rejection(f.seek(1, 1));
    assert.ok(e instanceof UnsupportedOperation && e instanceof TypeError);
    assert.match((e as Error).message, /nonzero cur-relative/);
    assert.ok((await rejection(f.seek(-1, 2))) instanceof UnsupportedOperation);
    assert.ok((await rejection(f.seek(-1))) instanceof RangeError, 'negative position');
    assert.ok((await rejection(f.seek(0, 3 as never))) instanceof RangeError, 'bad whence');
    assert.ok((await rejection(f.seek(1.5))) instanceof TypeError);
  });

  void test('readline keeps the newline, honours a size limit, and ends with ""', async () => {
    writeFileSync(path('lines.txt'), 'one\ntwo\n\nthree');
    await using f = await open(path('lines.txt'));
    assert.equal(await f.readline(), 'one\n');
    assert.equal(await f.readline(2), 'tw');
    assert.equal(await f.readline(), 'o\n');
    assert.equal(await f.readline(), '\n');
    assert.equal(await f.readline(), 'three');
    assert.equal(await f.readline(), '');
    await f.seek(0);
    assert.deepEqual(await f.readlines(), ['one\n', 'two\n', '\n', 'three']);
    await f.seek(0);
    assert.deepEqual(await f.readlines(5), ['one\n', 'two\n'], 'stops once the hint is reached');
  });

  void test('for await reads the lines, each with its newline', async () => {
    writeFileSync(path('iter.txt'), 'a\nbé\nc');
    await using f = await open(path('iter.txt'));
    const lines: string[] = [];
    for await (const line of f) lines.push(line);
    assert.deepEqual(lines, ['a\n', 'bé\n', 'c']);
  });

  void test('write returns the characters written; writelines adds no separators', async () => {
    await using f = await open(path('wr.txt'), 'w+');
    assert.equal(await f.write('😀é\n'), 3);
    await f.writelines(['x\n', 'y\n']);
    await f.writelines(new Set(['z']));
    await f.flush();
    assert.equal(readFileSync(path('wr.txt'), 'utf8'), '😀é\nx\ny\nz');
    assert.ok((await rejection(f.write(bytes('no') as never))) instanceof TypeError);
    assert.ok((await rejection(f.writelines(5 as never))) instanceof TypeError);
  });

  void test('encodings: utf-16-le, latin-1, ascii; strict errors and replace', async () => {
    {
      await using f = await open(path('l1.txt'), 'w', { encoding: 'latin-1' });
      await f.write('café');
    }
    assert.deepEqual([...readFileSync(path('l1.txt'))], [0x63, 0x61, 0x66, 0xe9]);
    {
      await using f = await open(path('l1.txt'), 'r', { encoding: 'latin-1' });
      assert.equal(await f.read(), 'café');
    }
    {
      await using f = await open(path('l1.txt'), 'r', { encoding: 'ascii' });
      assert.ok((await rejection(f.read())) instanceof TypeError, 'strict ascii');
    }
    {
      await using f = await open(path('l1.txt'), 'r');
      const e = await rejection(f.read());
      assert.ok(e instanceof TypeError, 'strict utf-8 rejects a lone 0xe9');
      assert.match((e as Error).message, /utf-8/);
    }
    {
      await using f = await open(path('l1.txt'), 'r', { errors: 'replace' });
      assert.equal(await f.read(), 'caf\ufffd');
    }
    writeFileSync(path('fffd.txt'), 'a real \ufffd is no error');
    {
      await using f = await open(path('fffd.txt'));
      assert.equal(await f.read(), 'a real \ufffd is no error');
    }
    {
      await using f = await open(path('l1.txt'), 'w', { encoding: 'ascii' });
      assert.ok((await rejection(f.write('é'))) instanceof TypeError);
    }
    {
      await using f = await open(path('u16.txt'), 'w', { encoding: 'UTF_16_LE' });
      assert.equal(f.encoding, 'utf-16-le');
      await f.write('h😀');
    }
    assert.equal(readFileSync(path('u16.txt'), 'utf16le'), 'h😀');
  });

  void test('truncate cuts to the position (or a size) and does not move it', async () => {
    writeFileSync(path('tr.txt'), '0123456789');
    await using f = await open(path('tr.txt'), 'r+');
    await f.read(4);
    assert.equal(await f.truncate(), 4);
    assert.equal(await f.tell(), 4);
    assert.equal(readFileSync(path('tr.txt'), 'utf8'), '0123');
    assert.equal(await f.truncate(2), 2);
    assert.equal(await f.tell(), 4);
    assert.ok((await rejection(f.truncate(-1))) instanceof RangeError);
  });
});

void describe('AsyncFile: binary mode', () => {
  void test('seek with whence 0, 1, 2 and tell', async () => {
    writeFileSync(path('seekb.bin'), Buffer.from('0123456789'));
    await using f = await open(path('seekb.bin'), 'rb');
    assert.equal(await f.seek(3), 3);
    assert.equal(await f.seek(2, 1), 5);
    assert.deepEqual(await f.read(2), bytes('56'));
    assert.equal(await f.seek(-3, 2), 7);
    assert.equal(await f.tell(), 7);
    assert.deepEqual(await f.read(), bytes('789'));
    assert.equal(await f.seek(5, 2), 15, 'past the end is allowed');
    assert.equal((await f.read()).length, 0);
    assert.ok((await rejection(f.seek(-20, 2))) instanceof RangeError);
  });

  void test('a write of a string to a binary file is a TypeError', async () => {
    await using f = await open(path('wb.bin'), 'wb');
    assert.ok((await rejection(f.write('text' as never))) instanceof TypeError);
    await f.writelines([bytes('a'), bytes('b')]);
    await f.close();
    assert.equal(readFileSync(path('wb.bin'), 'utf8'), 'ab');
  });

  void test('large reads and readlines across many chunks', async () => {
    const big = Buffer.alloc(3 * CHUNK + 123, 'x');
    big[CHUNK + 5] = 10;
    writeFileSync(path('big.bin'), big);
    await using f = await open(path('big.bin'), 'rb');
    const first = await f.readline();
    assert.equal(first.length, CHUNK + 6);
    assert.equal((await f.read()).length, big.length - first.length);
    await f.seek(0);
    assert.equal((await f.readlines()).length, 2);
  });
});

void describe('AsyncFile: state and misuse', () => {
  void test('reading a write-only file or writing a read-only one is UnsupportedOperation', async () => {
    writeFileSync(path('ro.txt'), 'x');
    await using w = await open(path('wo.txt'), 'w');
    for (const p of [w.read(), w.readline(), w.readlines()]) {
      const e = await rejection(p);
      assert.ok(e instanceof UnsupportedOperation, String(e));
      assert.match((e as Error).message, /not opened for reading \(mode 'w'\)/);
    }
    await using r = await open(path('ro.txt'));
    for (const p of [r.write('y'), r.writelines(['y']), r.truncate()]) {
      assert.ok((await rejection(p)) instanceof UnsupportedOperation);
    }
    assert.equal(readFileSync(path('ro.txt'), 'utf8'), 'x');
  });

  void test('a closed file rejects every call with InvalidStateError; closing twice is harmless', async () => {
    const f = await open(path('closed.txt'), 'w+');
    await f.close();
    await f.close();
    assert.equal(f.closed, true);
    for (const p of [f.read(), f.write('x'), f.seek(0), f.tell(), f.flush(), f.truncate(), f.readable()]) {
      const e = await rejection(p);
      assert.ok(e instanceof InvalidStateError, String(e));
      assert.match((e as Error).message, /I\/O operation on closed file/);
    }
    assert.match(String(f), /closed/);
  });

  void test('bad sizes are TypeErrors; -1 and null mean everything', async () => {
    writeFileSync(path('size.txt'), 'abc');
    await using f = await open(path('size.txt'));
    assert.ok((await rejection(f.read(1.5))) instanceof TypeError);
    assert.ok((await rejection(f.read('2' as never))) instanceof TypeError);
    assert.equal(await f.read(-1), 'abc');
    await f.seek(0);
    assert.equal(await f.read(null), 'abc');
    await f.seek(0);
    assert.equal(await f.read({}), 'abc', 'read(opts)');
  });

  void test('calls on one file run one after another, in the order made', async () => {
    writeFileSync(path('order.txt'), 'abcdefgh');
    await using f = await open(path('order.txt'));
    const [a, b, c, pos] = await Promise.all([f.read(3), f.read(3), f.read(), f.tell()]);
    assert.deepEqual([a, b, c, pos], ['abc', 'def', 'gh', 8]);
  });

  void test('close waits for the calls already made', async () => {
    writeFileSync(path('late.txt'), 'data');
    const f = await open(path('late.txt'));
    const read = f.read();
    await f.close();
    assert.equal(await read, 'data');
  });

  void test('the seed §9 pattern: three files read at once with gather', async () => {
    const names = [1, 2, 3].map((i) => path(`file${i}.txt`));
    await Promise.all(
      names.map(async (name, i) => {
        await using f = await open(name, 'w', { encoding: 'utf-8' });
        await f.write(`content ${i}`);
      }),
    );
    const read = async (name: string) => {
      await using f = await open(name, 'r', { encoding: 'utf-8' });
      return f.read();
    };
    assert.deepEqual(await gather(names.map((n) => () => read(n))), ['content 0', 'content 1', 'content 2']);
  });
});

void describe('AsyncFile: cancellation', () => {
  void test('an aborted signal opens nothing: no file is created', async () => {
    await assertCancelled(open(path('never.txt'), 'w', { signal: aborted() }));
    assert.equal(existsSync(path('never.txt')), false);
  });

  void test('aborted while opening: the file opened meanwhile is closed', async () => {
    writeFileSync(path('opening.txt'), 'x');
    const ac = new AbortController();
    const p = open(path('opening.txt'), 'r', { signal: ac.signal });
    ac.abort();
    await assertCancelled(p); // afterEach checks that no descriptor stayed open
  });

  void test('an aborted signal reads nothing: the position does not move', async () => {
    writeFileSync(path('pre.txt'), 'abc');
    await using f = await open(path('pre.txt'));
    await assertCancelled(f.read(2, { signal: aborted() }));
    await assertCancelled(f.readline({ signal: aborted() }));
    await assertCancelled(f.seek(2, 0, { signal: aborted() }));
    assert.equal(await f.tell(), 0);
    assert.equal(await f.read(), 'abc');
  });

  void test('an aborted signal writes nothing', async () => {
    await using f = await open(path('prew.txt'), 'w');
    await assertCancelled(f.write('x', { signal: aborted() }));
    await assertCancelled(f.writelines(['x'], { signal: aborted() }));
    await assertCancelled(f.truncate(0, { signal: aborted() }));
    await f.close();
    assert.equal(readFileSync(path('prew.txt'), 'utf8'), '');
  });

  void test('a long read stops between chunks when its signal aborts, and loses nothing', async () => {
    const data = Buffer.alloc(8 * CHUNK);
    for (let i = 0; i < data.length; i++) data[i] = 11 + (i % 241); // no '\n'
    writeFileSync(path('long.bin'), data);
    await using f = await open(path('long.bin'), 'rb');
    const ac = new AbortController();
    const p = f.readline({ signal: ac.signal }); // no newline: reads chunk after chunk
    setImmediate(() => ac.abort());
    await assertCancelled(p);
    assert.equal(await f.tell(), 0, 'what was read stays buffered');
    const all = await f.read();
    assert.deepEqual(Buffer.from(all), data);
  });

  void test('a call waiting behind another leaves the queue when its signal aborts', async () => {
    writeFileSync(path('queue.txt'), 'abcdef');
    await using f = await open(path('queue.txt'));
    const ac = new AbortController();
    const first = f.read(2);
    const second = assertCancelled(f.read(2, { signal: ac.signal }));
    const third = f.read(2);
    ac.abort();
    assert.equal(await first, 'ab');
    await second;
    assert.equal(await third, 'cd', 'the cancelled read took nothing');
  });
});

void describe('os', () => {
  void test('stat, exists, isfile, isdir', async () => {
    writeFileSync(path('st.txt'), '12345');
    assert.equal((await os.stat(path('st.txt'))).size, 5);
    assert.equal(((await rejection(os.stat(path('nope')))) as NodeJS.ErrnoException).code, 'ENOENT');
    assert.deepEqual(
      await Promise.all([os.exists(path('st.txt')), os.exists(path('nope')), os.exists(path('st.txt/x'))]),
      [true, false, false],
    );
    assert.deepEqual(await Promise.all([os.isfile(path('st.txt')), os.isfile(dir)]), [true, false]);
    assert.deepEqual(await Promise.all([os.isdir(dir), os.isdir(path('st.txt')), os.isdir(path('nope'))]), [
      true,
      false,
      false,
    ]);
  });

  void test('rename, replace, remove/unlink, copyfile', async () => {
    writeFileSync(path('a.txt'), 'A');
    writeFileSync(path('b.txt'), 'B');
    await os.rename(path('a.txt'), path('c.txt'));
    assert.deepEqual([existsSync(path('a.txt')), readFileSync(path('c.txt'), 'utf8')], [false, 'A']);
    await os.replace(path('c.txt'), path('b.txt'));
    assert.equal(readFileSync(path('b.txt'), 'utf8'), 'A');
    assert.equal(await os.copyfile(path('b.txt'), path('d.txt')), path('d.txt'));
    assert.equal(readFileSync(path('d.txt'), 'utf8'), 'A');
    await os.remove(path('b.txt'));
    await os.unlink(path('d.txt'));
    assert.equal(((await rejection(os.remove(path('b.txt')))) as NodeJS.ErrnoException).code, 'ENOENT');
    assert.equal(((await rejection(os.remove(dir))) as NodeJS.ErrnoException).code, 'EISDIR');
  });

  void test('mkdir, makedirs (existOk), rmdir, listdir', async () => {
    await os.mkdir(path('one'));
    assert.equal(((await rejection(os.mkdir(path('one')))) as NodeJS.ErrnoException).code, 'EEXIST');
    assert.equal(((await rejection(os.mkdir(path('x/y')))) as NodeJS.ErrnoException).code, 'ENOENT');
    await os.makedirs(path('tree/a/b'));
    assert.equal(((await rejection(os.makedirs(path('tree/a/b')))) as NodeJS.ErrnoException).code, 'EEXIST');
    await os.makedirs(path('tree/a/b'), { existOk: true });
    writeFileSync(path('tree/a/f.txt'), '');
    assert.deepEqual((await os.listdir(path('tree/a'))).sort(), ['b', 'f.txt']);
    assert.equal(((await rejection(os.rmdir(path('tree/a')))) as NodeJS.ErrnoException).code, 'ENOTEMPTY');
    await os.rmdir(path('tree/a/b'));
    await os.rmdir(path('one'));
    assert.deepEqual(await os.listdir(path('tree/a')), ['f.txt']);
  });

  void test('scandir yields DirEntry objects and closes the directory at the end, on break and on abort', async () => {
    await os.makedirs(path('scan/sub'));
    writeFileSync(path('scan/f1.txt'), 'x');
    writeFileSync(path('scan/f2.txt'), 'y');
    const seen = new Map<string, string>();
    for await (const entry of os.scandir(path('scan'))) {
      seen.set(entry.name, entry.isDir() ? 'dir' : entry.isFile() ? 'file' : 'other');
      assert.equal(entry.path, join(path('scan'), entry.name));
      assert.equal(entry.isSymlink(), false);
      if (entry.isFile()) assert.equal((await entry.stat()).size, 1);
    }
    assert.deepEqual(Object.fromEntries([...seen].sort()), {
      'f1.txt': 'file',
      'f2.txt': 'file',
      sub: 'dir',
    });
    for await (const _ of os.scandir(path('scan'))) break; // return() closes it
    {
      await using it = os.scandir(path('scan'));
      await it.next(); // disposed with the block
    }
    const ac = new AbortController();
    const it = os.scandir(path('scan'), { signal: ac.signal });
    await it.next();
    ac.abort();
    await assertCancelled(it.next());
    assert.deepEqual(await it.next(), { done: true, value: undefined });
    assert.equal(
      ((await rejection(os.scandir(path('nope')).next())) as NodeJS.ErrnoException).code,
      'ENOENT',
    );
  });

  void test('an aborted signal does nothing', async () => {
    writeFileSync(path('keep.txt'), 'x');
    await assertCancelled(os.mkdir(path('never'), { signal: aborted() }));
    await assertCancelled(os.makedirs(path('never/a'), { signal: aborted() }));
    await assertCancelled(os.remove(path('keep.txt'), { signal: aborted() }));
    await assertCancelled(os.rename(path('keep.txt'), path('moved.txt'), { signal: aborted() }));
    await assertCancelled(os.copyfile(path('keep.txt'), path('copy.txt'), { signal: aborted() }));
    await assertCancelled(os.stat(path('keep.txt'), { signal: aborted() }));
    await assertCancelled(os.listdir(dir, { signal: aborted() }));
    await assertCancelled(os.exists(dir, { signal: aborted() }));
    await assertCancelled(os.scandir(dir, { signal: aborted() }).next());
    assert.deepEqual(
      [
        existsSync(path('never')),
        existsSync(path('keep.txt')),
        existsSync(path('moved.txt')),
        existsSync(path('copy.txt')),
      ],
      [false, true, false, false],
    );
  });

  void test('bad paths are TypeErrors', async () => {
    assert.ok((await rejection(os.stat(1 as never))) instanceof TypeError);
    assert.ok((await rejection(os.rename(path('a'), null as never))) instanceof TypeError);
    assert.ok((await rejection(os.exists({} as never))) instanceof TypeError);
    assert.throws(() => os.scandir(5 as never), TypeError);
  });
});
