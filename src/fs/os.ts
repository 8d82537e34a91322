/**
 * The `os` namespace of `tsaio/fs`, after `aiofiles.os` (and `aiofiles.os.path`):
 * `import { os } from 'tsaio/fs'`. Each function is one call to `node:fs`
 * (the libuv thread pool does the blocking part, as aiofiles' executor
 * does); a signal already aborted rejects with `CancelledError` and does
 * nothing. Failures are Node's errors, with `code` (`'ENOENT'`, `'EEXIST'` ...).
 *
 * @module
 */

import * as fsp from 'node:fs/promises';
import type { Dir, Dirent, Stats } from 'node:fs';
import { join } from 'node:path';
import { checkSignal } from '../_lowlevel.js';
import { checkAborted } from './_buffered.js';
import { checkPath, type PathLike } from './_path.js';

/** Options of every function here. */
export interface OsOptions {
  /** Checked before the call (an aborted signal does nothing) and, in `scandir`, between entries. */
  signal?: AbortSignal;
}

/** Checks `path` and the signal, then runs `fn`. */
async function call<T>(
  where: string,
  path: unknown,
  opts: OsOptions | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  checkPath(path, where);
  checkAborted(checkSignal(opts?.signal, where));
  return fn();
}

/**
 * The file's status (follows symlinks). Same as `aiofiles.os.stat`; the
 * result is Node's `fs.Stats` (`size`, `mtimeMs`, `isFile()` ...).
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * console.log((await os.stat('package.json')).isFile()); // true
 * ```
 */
export function stat(path: PathLike, opts?: OsOptions): Promise<Stats> {
  return call('os.stat', path, opts, () => fsp.stat(path));
}

/**
 * Renames `src` to `dst`. Same as `aiofiles.os.rename`; like Python on POSIX,
 * an existing file `dst` is replaced.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * import { tmpdir } from 'node:os';
 * import { writeFileSync } from 'node:fs';
 * writeFileSync(`${tmpdir()}/tsaio-doc-a.txt`, 'a');
 * await os.rename(`${tmpdir()}/tsaio-doc-a.txt`, `${tmpdir()}/tsaio-doc-b.txt`);
 * console.log(await os.exists(`${tmpdir()}/tsaio-doc-b.txt`)); // true
 * ```
 */
export async function rename(src: PathLike, dst: PathLike, opts?: OsOptions): Promise<void> {
  checkPath(dst, 'os.rename', 'dst');
  return call('os.rename', src, opts, () => fsp.rename(src, dst));
}

/**
 * Renames `src` to `dst`, replacing `dst` if it exists. Same as `aiofiles.os.replace`.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * import { tmpdir } from 'node:os';
 * import { writeFileSync, readFileSync } from 'node:fs';
 * writeFileSync(`${tmpdir()}/tsaio-doc-new.txt`, 'new');
 * writeFileSync(`${tmpdir()}/tsaio-doc-old.txt`, 'old');
 * await os.replace(`${tmpdir()}/tsaio-doc-new.txt`, `${tmpdir()}/tsaio-doc-old.txt`);
 * console.log(readFileSync(`${tmpdir()}/tsaio-doc-old.txt`, 'utf8')); // new
 * ```
 */
export async function replace(src: PathLike, dst: PathLike, opts?: OsOptions): Promise<void> {
  checkPath(dst, 'os.replace', 'dst');
  return call('os.replace', src, opts, () => fsp.rename(src, dst));
}

/**
 * Deletes a file (not a directory: see `rmdir`). Same as `aiofiles.os.remove`.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * import { tmpdir } from 'node:os';
 * import { writeFileSync } from 'node:fs';
 * writeFileSync(`${tmpdir()}/tsaio-doc-gone.txt`, '');
 * await os.remove(`${tmpdir()}/tsaio-doc-gone.txt`);
 * console.log(await os.exists(`${tmpdir()}/tsaio-doc-gone.txt`)); // false
 * ```
 */
export function remove(path: PathLike, opts?: OsOptions): Promise<void> {
  return call('os.remove', path, opts, () => fsp.unlink(path));
}

/** Same as `remove`. Same as `aiofiles.os.unlink`. */
export const unlink = remove;

/** Options of `mkdir` and `makedirs`. */
export interface MkdirOptions extends OsOptions {
  /** Permission bits (default `0o777`, less the umask). */
  mode?: number;
}

/**
 * Makes one directory; `EEXIST` if it exists, `ENOENT` if its parent does not.
 * Same as `aiofiles.os.mkdir`.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * import { tmpdir } from 'node:os';
 * const dir = `${tmpdir()}/tsaio-doc-dir-${process.pid}`;
 * await os.mkdir(dir);
 * console.log(await os.isdir(dir)); // true
 * await os.rmdir(dir);
 * ```
 */
export function mkdir(path: PathLike, opts?: MkdirOptions): Promise<void> {
  return call('os.mkdir', path, opts, async () => {
    await fsp.mkdir(path, { mode: opts?.mode });
  });
}

/**
 * Makes a directory and any missing parents. Same as `aiofiles.os.makedirs`:
 * unless `existOk`, an existing directory is an `EEXIST` error.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * import { tmpdir } from 'node:os';
 * const top = `${tmpdir()}/tsaio-doc-tree-${process.pid}`;
 * await os.makedirs(`${top}/a/b`);
 * await os.makedirs(`${top}/a/b`, { existOk: true }); // no error
 * console.log(await os.listdir(`${top}/a`)); // [ 'b' ]
 * ```
 */
export function makedirs(path: PathLike, opts?: MkdirOptions & { existOk?: boolean }): Promise<void> {
  return call('os.makedirs', path, opts, async () => {
    const made = await fsp.mkdir(path, { recursive: true, mode: opts?.mode });
    if (made === undefined && opts?.existOk !== true) {
      const name = checkPath(path, 'os.makedirs');
      throw Object.assign(new Error(`EEXIST: file already exists, mkdir '${name}'`), {
        code: 'EEXIST',
        errno: -17,
        syscall: 'mkdir',
        path: name,
      });
    }
  });
}

/**
 * Removes an empty directory. Same as `aiofiles.os.rmdir`.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * import { tmpdir } from 'node:os';
 * const dir = `${tmpdir()}/tsaio-doc-rmdir-${process.pid}`;
 * await os.mkdir(dir);
 * await os.rmdir(dir);
 * console.log(await os.exists(dir)); // false
 * ```
 */
export function rmdir(path: PathLike, opts?: OsOptions): Promise<void> {
  return call('os.rmdir', path, opts, () => fsp.rmdir(path));
}

/**
 * The names of the entries of a directory, in the order the OS gives them
 * (without `.` and `..`). Same as `aiofiles.os.listdir`.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * console.log((await os.listdir('.')).includes('package.json')); // true
 * ```
 */
export function listdir(path: PathLike = '.', opts?: OsOptions): Promise<string[]> {
  return call('os.listdir', path, opts, () => fsp.readdir(path));
}

/**
 * One entry of `scandir`. Same as Python's `os.DirEntry`: its type comes
 * with the directory listing (no extra call); `stat()` asks the OS.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * for await (const entry of os.scandir('.')) {
 *   if (entry.name === 'src') console.log(entry.isDir(), entry.path); // true src
 * }
 * ```
 */
export class DirEntry {
  /** @internal */
  constructor(
    private readonly _dirent: Dirent,
    /** The entry's name. */
    readonly name: string,
    /** The directory's path joined with `name`. */
    readonly path: string,
  ) {}
  /** True for a directory (not following a symlink). */
  isDir(): boolean {
    return this._dirent.isDirectory();
  }
  /** True for a regular file (not following a symlink). */
  isFile(): boolean {
    return this._dirent.isFile();
  }
  /** True for a symbolic link. */
  isSymlink(): boolean {
    return this._dirent.isSymbolicLink();
  }
  /** The entry's status (follows symlinks). */
  stat(opts?: OsOptions): Promise<Stats> {
    return stat(this.path, opts);
  }
}

/**
 * The entries of a directory, read lazily: an async iterable of `DirEntry`
 * that holds the directory open until the iteration ends (or `close()`).
 * Same as `aiofiles.os.scandir`; use it with `for await` or `await using`.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * for await (const entry of os.scandir('.')) {
 *   if (entry.name === 'package.json') console.log(entry.isFile()); // true
 * }
 * ```
 */
export function scandir(path: PathLike = '.', opts?: OsOptions): ScandirIterator {
  return new ScandirIterator(path, opts);
}

/**
 * What `scandir` returns: an async iterator of `DirEntry` that holds the
 * directory open until it ends, `return()` or `close()` (`await using`).
 *
 * @example Reading only the first entry
 * ```ts
 * import { os } from 'tsaio/fs';
 * await using entries = os.scandir('.');
 * const first = await entries.next();
 * console.log(first.done); // false: the directory is closed at the end of the block
 * ```
 */
export class ScandirIterator implements AsyncIterableIterator<DirEntry>, AsyncDisposable {
  private _dir: Promise<Dir> | null = null;
  private _done = false;
  private readonly _name: string;
  private readonly _signal: AbortSignal | undefined;

  /** @internal */
  constructor(
    private readonly _path: PathLike,
    opts: OsOptions | undefined,
  ) {
    this._name = checkPath(_path, 'os.scandir');
    this._signal = checkSignal(opts?.signal, 'os.scandir');
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next entry; the directory is closed after the last one or a failure. */
  async next(): Promise<IteratorResult<DirEntry, undefined>> {
    if (this._done) return { done: true, value: undefined };
    try {
      checkAborted(this._signal);
      this._dir ??= fsp.opendir(this._path);
      const dirent = await (await this._dir).read();
      checkAborted(this._signal);
      if (dirent !== null)
        return { done: false, value: new DirEntry(dirent, dirent.name, join(this._name, dirent.name)) };
    } catch (error) {
      await this.close();
      throw error;
    }
    await this.close();
    return { done: true, value: undefined };
  }

  /** Ends the iteration early (a `break` out of `for await` calls it). */
  async return(): Promise<IteratorResult<DirEntry, undefined>> {
    await this.close();
    return { done: true, value: undefined };
  }

  /** Closes the directory; a second call does nothing. */
  async close(): Promise<void> {
    this._done = true;
    const dir = this._dir;
    this._dir = null;
    if (dir === null) return;
    const opened = await dir.catch(() => null);
    await opened?.close().catch(() => {}); // already closed by a failed read: nothing to release
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** `fn()` is true; false when the path cannot be stat'ed (missing, no permission ...), as `os.path` does. */
async function test(
  where: string,
  path: PathLike,
  opts: OsOptions | undefined,
  fn: (s: Stats) => boolean,
): Promise<boolean> {
  return call(where, path, opts, () =>
    fsp.stat(path).then(fn, (error: { code?: unknown }) => {
      if (typeof error?.code === 'string') return false;
      throw error;
    }),
  );
}

/**
 * True if `path` exists (following symlinks). Same as `aiofiles.os.path.exists`.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * console.log(await os.exists('package.json'), await os.exists('no-such-file')); // true false
 * ```
 */
export function exists(path: PathLike, opts?: OsOptions): Promise<boolean> {
  return test('os.exists', path, opts, () => true);
}

/**
 * True if `path` is a regular file (following symlinks). Same as `aiofiles.os.path.isfile`.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * console.log(await os.isfile('package.json'), await os.isfile('src')); // true false
 * ```
 */
export function isfile(path: PathLike, opts?: OsOptions): Promise<boolean> {
  return test('os.isfile', path, opts, (s) => s.isFile());
}

/**
 * True if `path` is a directory (following symlinks). Same as `aiofiles.os.path.isdir`.
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * console.log(await os.isdir('src'), await os.isdir('package.json')); // true false
 * ```
 */
export function isdir(path: PathLike, opts?: OsOptions): Promise<boolean> {
  return test('os.isdir', path, opts, (s) => s.isDirectory());
}

/**
 * Copies the contents of file `src` to `dst` (created or replaced); resolves to
 * `dst`. Same as `shutil.copyfile` (aiofiles has no copy; this is its usual
 * pairing).
 *
 * @example
 * ```ts
 * import { os } from 'tsaio/fs';
 * import { tmpdir } from 'node:os';
 * await os.copyfile('package.json', `${tmpdir()}/tsaio-doc-copy.json`);
 * console.log(await os.isfile(`${tmpdir()}/tsaio-doc-copy.json`)); // true
 * ```
 */
export async function copyfile(src: PathLike, dst: PathLike, opts?: OsOptions): Promise<PathLike> {
  checkPath(dst, 'os.copyfile', 'dst');
  return call('os.copyfile', src, opts, async () => {
    await fsp.copyFile(src, dst);
    return dst;
  });
}
