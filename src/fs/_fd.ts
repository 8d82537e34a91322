/**
 * Private: a file descriptor with promise methods over `node:fs`'s callback
 * calls. `fs/promises`' `FileHandle` costs about a third more per call (its
 * own promise machinery around the same syscalls); W9 measures the
 * difference. A file that is collected without being closed has its
 * descriptor closed then, as a `FileHandle` would.
 *
 * @module
 */

import * as fs from 'node:fs';
import type { Stats } from 'node:fs';

type Callback<T> = (error: NodeJS.ErrnoException | null, value: T) => void;

function call<T>(start: (done: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) =>
    start((error, value) => (error === null ? resolve(value) : reject(error))),
  );
}

const leaked = new FinalizationRegistry<number>((fd) => fs.close(fd, () => {}));

/** An open file descriptor. */
export class Fd {
  private constructor(readonly fd: number) {}

  /** Opens `path` with `flags` (`'r'`, `'w+'`, `'wx'` ...). */
  static async open(path: fs.PathLike, flags: string): Promise<Fd> {
    const fd = await call<number>((done) => fs.open(path, flags, 0o666, done));
    const file = new Fd(fd);
    leaked.register(file, fd, file);
    return file;
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return call((done) => fs.read(this.fd, buf, offset, length, position, done));
  }

  write(data: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    return call((done) => fs.write(this.fd, data, offset, length, position, done));
  }

  stat(): Promise<Stats> {
    return call((done) => fs.fstat(this.fd, done));
  }

  truncate(size: number): Promise<void> {
    return call((done) => fs.ftruncate(this.fd, size, (error) => done(error, undefined)));
  }

  close(): Promise<void> {
    leaked.unregister(this);
    return call((done) => fs.close(this.fd, (error) => done(error, undefined)));
  }
}
