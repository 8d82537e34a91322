/**
 * `AsyncFile`: an open file, after the file objects of `aiofiles.open` (and
 * Python's `io` classes under them). Made by `open()`.
 *
 * @module
 */

import { InvalidStateError } from '../exceptions.js';
import { Lock } from '../locks.js';
import { checkSignal, describe } from '../_lowlevel.js';
import { Buffered } from './_buffered.js';
import type { Fd } from './_fd.js';
import type { Codec } from './_codec.js';
import type { Mode } from './_mode.js';
import { TextLayer } from './_text.js';
import { UnsupportedOperation } from './errors.js';

/** Options of every method of `AsyncFile`. */
export interface FileOptions {
  /** Aborting it rejects the call with `CancelledError` (see `docs/fs.md` for what was done by then). */
  signal?: AbortSignal;
}

/** What a file gives: a string in text mode, bytes in binary mode. */
export type Data<B extends boolean> = B extends true ? Uint8Array : string;

/** `(size?, opts?)` or `(opts)`: the optional number before the options object. */
function sizeAndOpts(
  size: unknown,
  opts: FileOptions | undefined,
  where: string,
): [number, FileOptions | undefined] {
  if (size !== null && typeof size === 'object') return [-1, size as FileOptions];
  if (size === undefined || size === null) return [-1, opts];
  if (typeof size !== 'number' || !Number.isInteger(size)) {
    throw new TypeError(`${where}: size must be an integer, -1 or null, received ${describe(size)}`);
  }
  return [size < 0 ? -1 : size, opts];
}

function asBytes(view: Buffer): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.length);
}

/**
 * An open file whose methods all return promises. Same as the object
 * `aiofiles.open` gives. In text mode (`'r'`, `'w'` ...) it reads and
 * writes strings, decoded with its encoding, never splitting a character
 * (`read(n)` counts characters); in binary mode (`'rb'` ...) `Uint8Array`s.
 * Calls on one file run one after another, in the order made. Use it with
 * `await using`, or call `close()`; `for await (const line of file)` reads
 * its lines.
 *
 * @example Writing, then reading lines
 * ```ts
 * import { open } from 'tsaio/fs';
 * import { tmpdir } from 'node:os';
 * const path = `${tmpdir()}/tsaio-doc-file.txt`;
 * {
 *   await using f = await open(path, 'w');
 *   await f.write('one\ntwo\n');
 * }
 * await using f = await open(path);
 * for await (const line of f) console.log(JSON.stringify(line)); // "one\n", then "two\n"
 * ```
 */
export class AsyncFile<B extends boolean = boolean> implements AsyncDisposable, AsyncIterable<Data<B>> {
  private _fh: Fd | null;
  private readonly _raw: Buffered;
  private readonly _text: TextLayer | null;
  private readonly _lock = new Lock();

  /** @internal Made by `open()`. */
  constructor(
    fh: Fd,
    size: number,
    /** The path it was opened with. */
    readonly name: string,
    private readonly _mode: Mode,
    codec: Codec | null,
  ) {
    this._fh = fh;
    this._raw = new Buffered(fh, size, _mode.append);
    this._text = codec === null ? null : new TextLayer(this._raw, codec);
  }

  /** The mode it was opened with (`'r'`, `'wb'` ...). */
  get mode(): string {
    return this._mode.text;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this._fh === null;
  }

  /** The text encoding (`'utf-8'` ...), or `null` in binary mode. */
  get encoding(): string | null {
    return this._text?.codec.name ?? null;
  }

  /**
   * Reads `size` characters (text) or bytes (binary), fewer only at the end of
   * the file; everything left when `size` is -1 or omitted. At the end of the
   * file: `''` or an empty `Uint8Array`.
   *
   * @throws {UnsupportedOperation} if the file was not opened for reading; {InvalidStateError} once closed.
   */
  read(size?: number | null | FileOptions, opts?: FileOptions): Promise<Data<B>> {
    return this._op(
      'read',
      'r',
      () => sizeAndOpts(size, opts, 'read'),
      async (n, signal) => {
        const text = this._text;
        if (text !== null) return (await (n < 0 ? text.readAll(signal) : text.read(n, signal))) as Data<B>;
        return asBytes(n < 0 ? await this._raw.readAll(signal) : await this._raw.read(n, signal)) as Data<B>;
      },
    );
  }

  /** Reads one line, its `'\n'` kept (at most `size` characters or bytes); at the end of the file `''` or empty bytes. */
  readline(size?: number | null | FileOptions, opts?: FileOptions): Promise<Data<B>> {
    return this._op(
      'readline',
      'r',
      () => sizeAndOpts(size, opts, 'readline'),
      async (n, signal) => {
        if (this._text !== null) return (await this._text.readLine(n, signal)) as Data<B>;
        return asBytes(await this._raw.readLine(n, signal)) as Data<B>;
      },
    );
  }

  /**
   * Reads the remaining lines; stops after the line that takes the total past
   * `hint` characters (code points) or bytes, as Python does (`-1`, `0`: all).
   */
  readlines(hint?: number | null | FileOptions, opts?: FileOptions): Promise<Data<B>[]> {
    return this._op(
      'readlines',
      'r',
      () => sizeAndOpts(hint, opts, 'readlines'),
      async (limit, signal) => {
        const lines: Data<B>[] = [];
        let total = 0;
        for (;;) {
          const line = (
            this._text !== null
              ? await this._text.readLine(-1, signal)
              : asBytes(await this._raw.readLine(-1, signal))
          ) as Data<B>;
          if (line.length === 0) return lines;
          lines.push(line);
          total += typeof line === 'string' ? countChars(line) : line.length;
          if (limit > 0 && total > limit) return lines;
        }
      },
    );
  }

  /**
   * Writes `data` (a string in text mode, bytes in binary mode) at the
   * position, or at the end in append mode. Resolves to the number of
   * characters or bytes written once they reached the OS. The position is
   * `tell()`'s, after a read too: a text file writes where its reader is
   * (CPython's text files write after the chunk they read ahead, unless a
   * seek comes between).
   *
   * @throws {TypeError} for a string in binary mode or bytes in text mode.
   */
  write(data: Data<B>, opts?: FileOptions): Promise<number> {
    return this._op(
      'write',
      'w',
      () => [this._checkData(data, 'write'), opts],
      async (checked, signal) => {
        // Encoded once the file is known to be writable: a read-only file is UnsupportedOperation first, as in Python.
        const bytes = this._encode(checked);
        await this._raw.write(bytes, signal);
        return this._text === null ? bytes.length : countChars(data as string);
      },
    );
  }

  /**
   * Writes every item of `lines` (no separator is added), in one write. As
   * in Python, where it is `write()` for each item in turn: no items, nothing
   * to write, and not even a file open only for reading objects; an item that
   * can't be written (a character the encoding lacks, a string in binary
   * mode) rejects the call after the items before it were written.
   */
  writelines(lines: Iterable<Data<B>>, opts?: FileOptions): Promise<void> {
    if (lines === null || typeof (lines as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
      return Promise.reject(new TypeError(`writelines: lines must be iterable, received ${describe(lines)}`));
    }
    let all: Data<B>[];
    try {
      all = [...lines];
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const needs = all.length === 0 ? '' : 'w';
    return this._op(
      'writelines',
      needs,
      () => [all, opts],
      async (items, signal) => {
        const parts: Uint8Array[] = [];
        let failure: unknown = null;
        try {
          for (const line of items) parts.push(this._encode(this._checkData(line, 'writelines')));
        } catch (error) {
          failure = error;
        }
        await this._raw.write(Buffer.concat(parts), signal);
        if (failure !== null) throw failure;
      },
    );
  }

  /**
   * Moves the position: to `offset` (`whence` 0), the current position plus
   * `offset` (1) or the end plus `offset` (2). Resolves to the new position.
   * In text mode, as in Python, `offset` must be 0 or a `tell()` value, and
   * whence 1 and 2 take only offset 0.
   *
   * @throws {RangeError} for a negative resulting position or a bad whence; {UnsupportedOperation} for a nonzero relative seek in text mode.
   */
  seek(offset: number, whence: 0 | 1 | 2 = 0, opts?: FileOptions): Promise<number> {
    const check = (): [number, FileOptions | undefined] => {
      if (typeof offset !== 'number' || !Number.isInteger(offset)) {
        throw new TypeError(`seek: offset must be an integer, received ${describe(offset)}`);
      }
      if (whence !== 0 && whence !== 1 && whence !== 2) {
        throw new RangeError(`seek: whence must be 0, 1 or 2, received ${describe(whence)}`);
      }
      if (this._text !== null && whence !== 0 && offset !== 0) {
        throw new UnsupportedOperation(
          `seek: a text file can't do nonzero ${whence === 1 ? 'cur' : 'end'}-relative seeks, received offset ${offset}`,
        );
      }
      if (whence === 0 && offset < 0) throw new RangeError(`seek: negative seek position ${offset}`);
      return [offset, opts];
    };
    return this._op('seek', '', check, async (off) => {
      const here = this._text !== null ? this._text.reset() : this._raw.pos();
      const base = whence === 0 ? 0 : whence === 1 ? here : await this._raw.size();
      const pos = base + off;
      if (pos < 0) throw new RangeError(`seek: negative seek position ${pos}`);
      this._raw.drop(pos);
      return pos;
    });
  }

  /** The position: the byte offset of the next byte or character to be read. */
  tell(opts?: FileOptions): Promise<number> {
    return this._op(
      'tell',
      '',
      () => [0, opts],
      async () => (this._text !== null ? this._text.tell() : this._raw.pos()),
    );
  }

  /** Cuts (or extends) the file to `size` bytes (default: the position); the position does not move. Resolves to the new size. */
  truncate(size?: number | null, opts?: FileOptions): Promise<number> {
    const check = (): [number | null, FileOptions | undefined] => {
      if (size === undefined || size === null) return [null, opts];
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
        throw new RangeError(
          `truncate: size must be a non-negative integer or null, received ${describe(size)}`,
        );
      }
      return [size, opts];
    };
    return this._op('truncate', 'w', check, async (n) => {
      const pos = this._text !== null ? this._text.reset() : this._raw.pos();
      return this._raw.truncate(n ?? pos);
    });
  }

  /** Resolves once every earlier write reached the OS (writes are not held in user space). */
  flush(opts?: FileOptions): Promise<void> {
    return this._op(
      'flush',
      '',
      () => [0, opts],
      async () => {},
    );
  }

  /** True if it was opened for reading. */
  async readable(): Promise<boolean> {
    this._checkOpen('readable');
    return this._mode.readable;
  }

  /** True if it was opened for writing. */
  async writable(): Promise<boolean> {
    this._checkOpen('writable');
    return this._mode.writable;
  }

  /** True: files opened by `open` can seek. */
  async seekable(): Promise<boolean> {
    this._checkOpen('seekable');
    return true;
  }

  /** Closes the file once the calls already made have finished. A second call does nothing. */
  async close(): Promise<void> {
    if (this._fh === null) return;
    using _ = await this._lock.acquire();
    const fh = this._fh;
    if (fh === null) return;
    this._fh = null;
    await fh.close();
  }

  /** Same as `close()`: `await using f = await open(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Reads the file line by line, each line with its `'\n'`. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Data<B>, void, undefined> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  toString(): string {
    return `<AsyncFile name=${JSON.stringify(this.name)} mode='${this._mode.text}'${this.closed ? ' closed' : ''}>`;
  }

  private _checkOpen(what: string): void {
    if (this._fh === null)
      throw new InvalidStateError(`${what}: I/O operation on closed file ${JSON.stringify(this.name)}`);
  }

  /**
   * Runs one call: checks its arguments (`args`), that the file is open and
   * allows it (`needs`: 'r', 'w' or ''), and the signal, then runs `body` after
   * the calls made before it. Every failure is a rejection.
   */
  private async _op<A, R>(
    what: string,
    needs: 'r' | 'w' | '',
    args: () => [A, FileOptions | undefined],
    body: (arg: A, signal: AbortSignal | undefined) => Promise<R>,
  ): Promise<R> {
    const [arg, opts] = args();
    const signal = checkSignal(opts?.signal, what);
    this._checkOpen(what);
    if (needs === 'r' && !this._mode.readable)
      throw new UnsupportedOperation(
        `${what}: the file was not opened for reading (mode '${this._mode.text}')`,
      );
    if (needs === 'w' && !this._mode.writable)
      throw new UnsupportedOperation(
        `${what}: the file was not opened for writing (mode '${this._mode.text}')`,
      );
    using _ = await this._lock.acquire({ signal });
    this._checkOpen(what);
    if (needs === 'w' && this._text?.hasText()) this._text.reset(); // write where the reader is
    return await body(arg, signal); // (await: the lock is held until the body ends)
  }

  /** `data` if it is what the file takes (a string in text mode, bytes in binary mode). */
  private _checkData(data: unknown, where: string): string | Uint8Array {
    if (this._text !== null) {
      if (typeof data !== 'string')
        throw new TypeError(`${where}: a text file takes strings, received ${describe(data)}`);
      return data;
    }
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`${where}: a binary file takes a Uint8Array, received ${describe(data)}`);
    }
    return data;
  }

  /** The bytes of checked `data`: encoded in text mode. */
  private _encode(data: string | Uint8Array): Uint8Array {
    return typeof data === 'string' ? this._text!.codec.encode(data) : data;
  }
}

/** The number of code points in `text` (what Python's `write` returns). */
function countChars(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}
