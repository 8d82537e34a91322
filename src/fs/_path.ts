/**
 * Private: the paths `tsaio/fs` takes (a string, a `file:` URL, a Buffer), checked once.
 *
 * @module
 */

import { fileURLToPath } from 'node:url';
import { describe } from '../_lowlevel.js';

/** A path `open` and the `os` functions take. */
export type PathLike = string | URL | Buffer;

/** `path` as a string, for messages and `AsyncFile.name`. */
export function checkPath(path: unknown, where: string, what = 'the path'): string {
  if (typeof path === 'string') {
    if (path.length === 0) throw new RangeError(`${where}: ${what} must not be empty, received ''`);
    return path;
  }
  if (path instanceof URL) {
    if (path.protocol !== 'file:')
      throw new TypeError(`${where}: ${what} must be a file: URL, received ${path.href}`);
    return fileURLToPath(path);
  }
  if (Buffer.isBuffer(path)) return path.toString();
  throw new TypeError(
    `${where}: ${what} must be a string, a file: URL or a Buffer, received ${describe(path)}`,
  );
}
