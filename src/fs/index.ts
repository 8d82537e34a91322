/**
 * `tsaio/fs`: aiofiles for TypeScript — `open` and its `AsyncFile`, and the
 * `os` namespace after `aiofiles.os`. This file only re-exports.
 *
 * @module
 */

export { open, type OpenOptions } from './open.js';
export type { PathLike } from './_path.js';
export { AsyncFile, type Data, type FileOptions } from './file.js';
export { UnsupportedOperation } from './errors.js';
export type { Encoding, Errors } from './_codec.js';
export * as os from './os.js';
