/**
 * The errors of `tsaio/fs`. A file's own failures are Node's errors as
 * `node:fs` raises them (`code: 'ENOENT'`, `'EISDIR'`, `'EEXIST'` ... with
 * `path` and `syscall`), as Python raises `OSError` subclasses. Its own
 * classes have a stable `code` and the core's `Symbol.for` brand, so
 * `instanceof` holds across two installed copies of tsaio.
 *
 * @module
 */

import { brand } from '../_lowlevel.js';

/**
 * The file does not support the operation: reading a file opened only for
 * writing, writing one opened only for reading, a text-mode seek relative to
 * the current position or the end. Same as Python's `io.UnsupportedOperation`
 * (a `ValueError` there; a `TypeError` here: the file, as opened, has no such
 * operation).
 *
 * @example
 * ```ts
 * import { open, UnsupportedOperation } from 'tsaio/fs';
 * import { tmpdir } from 'node:os';
 * await using f = await open(`${tmpdir()}/tsaio-doc-unsupported.txt`, 'w');
 * try { await f.read(); } catch (e) { console.log(e instanceof UnsupportedOperation); } // true
 * ```
 */
export class UnsupportedOperation extends TypeError {
  declare readonly code: 'TSAIO_ERR_UNSUPPORTED_OPERATION';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UnsupportedOperation';
  }
}
brand(UnsupportedOperation, 'TSAIO_ERR_UNSUPPORTED_OPERATION', 'fs');
