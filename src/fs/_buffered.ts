/**
 * Private: the byte layer under `AsyncFile`, after Python's `BufferedRandom`
 * over `FileIO`: a file descriptor, the offset of the next read, and a read
 * buffer. Reads and writes are positional, so the logical position is always
 * `filePos - buffered()` and a write after a read lands where the reader was.
 * Writes go to the OS at once (no write buffer), so `flush()` has nothing to do.
 *
 * Each method is one step or a loop of steps; a loop checks `signal` between
 * steps and throws `CancelledError` there, keeping what it already read in the
 * buffer (nothing read is lost).
 *
 * @module
 */

import type { Fd } from './_fd.js';
import { cancelledFrom } from '../exceptions.js';

/** Bytes asked of the OS per read when filling the buffer. */
export const CHUNK = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/** Throws the `CancelledError` for `signal` if it has aborted. */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledFrom(signal.reason);
}

export class Buffered {
  /** File offset of the next read from the OS (the end of the buffer). */
  filePos = 0;
  private _buf: Buffer = EMPTY;
  private _start = 0;
  /** The size seen when the file was opened, until something changes it (saves an fstat). */
  private _sizeHint: number | null;

  constructor(
    readonly fh: Fd,
    size: number,
    private readonly _append: boolean,
  ) {
    this._sizeHint = size;
    if (_append) this.filePos = size;
  }

  /** Bytes read from the OS and not yet taken. */
  buffered(): number {
    return this._buf.length - this._start;
  }

  /** The logical position: the next byte a read gives. */
  pos(): number {
    return this.filePos - this.buffered();
  }

  /** The unread bytes (a view; valid until the next call). */
  view(): Buffer {
    return this._buf.subarray(this._start);
  }

  /** Takes `n` bytes from the front of the buffer (a view). */
  take(n: number): Buffer {
    const out = this._buf.subarray(this._start, this._start + n);
    this._start += n;
    return out;
  }

  /** Reads up to `want` more bytes into the buffer; resolves to the count (0 at the end of the file). */
  async fill(want = CHUNK): Promise<number> {
    const rest = this.buffered();
    const buf = Buffer.allocUnsafeSlow(rest + want);
    this._buf.copy(buf, 0, this._start);
    const bytesRead = await this.fh.read(buf, rest, want, this.filePos);
    this._buf = buf.subarray(0, rest + bytesRead);
    this._start = 0;
    this.filePos += bytesRead;
    return bytesRead;
  }

  /** Reads up to `n` bytes (fewer only at the end of the file). */
  async read(n: number, signal: AbortSignal | undefined): Promise<Buffer> {
    while (this.buffered() < n) {
      checkAborted(signal);
      if ((await this.fill(Math.max(CHUNK, n - this.buffered()))) === 0) break;
    }
    return this.take(Math.min(n, this.buffered()));
  }

  /** Reads to the end of the file. */
  async readAll(signal: AbortSignal | undefined): Promise<Buffer> {
    const size = this._sizeHint ?? (await this.fh.stat()).size;
    this._sizeHint = null;
    // A regular file: read what its size says is left in one go, as `readFile` does.
    const left = size - this.filePos;
    if (left > 0) {
      checkAborted(signal);
      await this.fill(left);
      if (this.filePos === size) return this.take(this.buffered());
    }
    // A file that was growing, or one whose size says nothing (a pipe, /proc): read until EOF.
    for (;;) {
      checkAborted(signal);
      if ((await this.fill()) === 0) return this.take(this.buffered());
    }
  }

  /** Reads through the next `\n` (kept), at most `limit` bytes (`-1`: no limit). */
  async readLine(limit: number, signal: AbortSignal | undefined): Promise<Buffer> {
    let scanned = 0;
    for (;;) {
      const view = this.view();
      const nl = view.indexOf(0x0a, scanned);
      if (nl >= 0 && (limit < 0 || nl < limit)) return this.take(nl + 1);
      if (limit >= 0 && view.length >= limit) return this.take(limit);
      scanned = view.length;
      checkAborted(signal);
      if ((await this.fill()) === 0) return this.take(this.buffered());
    }
  }

  /** Writes all of `data` at the logical position (at the end in append mode); resolves to the byte count. */
  async write(data: Uint8Array, signal: AbortSignal | undefined): Promise<number> {
    if (data.length === 0) return 0; // nothing written: the position stays, even in append mode
    let at = this.pos();
    this.drop(at);
    this._sizeHint = null;
    let done = 0;
    while (done < data.length) {
      if (done > 0) checkAborted(signal);
      // In append mode the OS puts every write at the end, whatever the position.
      const bytesWritten = await this.fh.write(data, done, data.length - done, this._append ? null : at);
      done += bytesWritten;
      at += bytesWritten;
    }
    this.filePos = this._append ? (await this.fh.stat()).size : at;
    return done;
  }

  /** Forgets the buffer; the next read starts at `pos`. */
  drop(pos: number): void {
    this._buf = EMPTY;
    this._start = 0;
    this.filePos = pos;
  }

  /** Cuts the file to `size` bytes; the position stays where it was. */
  async truncate(size: number): Promise<number> {
    const pos = this.pos();
    await this.fh.truncate(size);
    this._sizeHint = null;
    this.drop(pos);
    return size;
  }

  /** The file's current size. */
  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }
}
