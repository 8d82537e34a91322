/**
 * `open`, after `aiofiles.open` (Python's built-in `open`, awaited).
 *
 * @module
 */

import { checkSignal, describe } from '../_lowlevel.js';
import { checkAborted } from './_buffered.js';
import { Fd } from './_fd.js';
import { codecFor, type Errors } from './_codec.js';
import { parseMode } from './_mode.js';
import { checkPath, type PathLike } from './_path.js';
import { AsyncFile } from './file.js';

/** Options of `open`. */
export interface OpenOptions {
  /** Text mode only: `'utf-8'` (default), `'utf-16-le'`, `'latin-1'` or `'ascii'`. */
  encoding?: string;
  /** Text mode only: `'strict'` (default: undecodable bytes are a `TypeError`) or `'replace'` (U+FFFD). */
  errors?: Errors;
  /** Aborting it rejects `open` with `CancelledError`; a file opened meanwhile is closed. */
  signal?: AbortSignal;
}

type BinaryMode = `${string}b${string}`;

function isDirectoryError(path: string): Error {
  return Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${path}'`), {
    code: 'EISDIR',
    errno: -21,
    syscall: 'open',
    path,
  });
}

/**
 * Opens a file. Same as `aiofiles.open(path, mode, encoding=...)`: `mode`
 * is Python's (`'r'` read, `'w'` truncate or create, `'a'` append, `'x'`
 * create a new file; `'+'` adds reading or writing; `'b'` binary, text
 * otherwise). A missing file rejects with Node's error, `code: 'ENOENT'`;
 * a directory with `code: 'EISDIR'`.
 *
 * @param path the file.
 * @param mode Python's mode string (default `'r'`).
 * @param opts `encoding` and `errors` (text mode), `signal`.
 * @returns the open `AsyncFile`; close it, or use `await using`.
 * @throws {RangeError} (as a rejection) for a bad mode, an unknown encoding, or an encoding in binary mode; {TypeError} for a bad path.
 *
 * @example Reading three files at once
 * ```ts
 * import { gather } from 'tsaio';
 * import { open } from 'tsaio/fs';
 * import { tmpdir } from 'node:os';
 * const paths = [1, 2, 3].map((i) => `${tmpdir()}/tsaio-doc-open-${i}.txt`);
 * for (const [i, p] of paths.entries()) {
 *   await using f = await open(p, 'w', { encoding: 'utf-8' });
 *   await f.write(`file ${i + 1}`);
 * }
 * const read = async (p: string) => {
 *   await using f = await open(p, 'r', { encoding: 'utf-8' });
 *   return f.read();
 * };
 * console.log(await gather(paths.map((p) => () => read(p)))); // [ 'file 1', 'file 2', 'file 3' ]
 * ```
 */
export function open(path: PathLike, mode: BinaryMode, opts?: OpenOptions): Promise<AsyncFile<true>>;
export function open(path: PathLike, mode?: string, opts?: OpenOptions): Promise<AsyncFile<false>>;
export async function open(path: PathLike, mode: string = 'r', opts?: OpenOptions): Promise<AsyncFile> {
  const name = checkPath(path, 'open');
  const parsed = parseMode(mode);
  const signal = checkSignal(opts?.signal, 'open');
  if (parsed.binary && (opts?.encoding !== undefined || opts?.errors !== undefined)) {
    throw new RangeError(`open: binary mode ('${mode}') doesn't take an encoding or errors argument`);
  }
  const errors = opts?.errors ?? 'strict';
  if (errors !== 'strict' && errors !== 'replace') {
    throw new RangeError(`open: errors must be 'strict' or 'replace', received ${describe(errors)}`);
  }
  const codec = parsed.binary ? null : codecFor(opts?.encoding ?? 'utf-8', errors);
  checkAborted(signal);
  const fh = await Fd.open(path, parsed.flags);
  try {
    const stat = await fh.stat();
    if (stat.isDirectory()) throw isDirectoryError(name);
    checkAborted(signal); // aborted while opening: close what was opened
    return new AsyncFile(fh, stat.size, name, parsed, codec);
  } catch (error) {
    await fh.close();
    throw error;
  }
}
