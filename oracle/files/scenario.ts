/**
 * What one file scenario is: the file's bytes before it is opened, how it is
 * opened, and the operations made on it. Both sides (CPython's `open()` and
 * `tsaio/fs`) receive the same scenario as JSON (the bytes travel as a file).
 *
 * @module
 */

/** One operation on the open file. `slot` names a `tell()` result a later seek goes back to. */
export type Op =
  | { op: 'read'; n: number | null }
  | { op: 'readline'; n: number | null }
  | { op: 'readlines'; hint: number | null }
  /** `for await (const line of f)`, breaking after `k` lines (aiofiles: `async for`, which calls `readline()`). */
  | { op: 'lines'; k: number }
  | { op: 'tell'; slot: number }
  | { op: 'seek'; offset: number; whence: 0 | 1 | 2 }
  /** `seek(v)` where `v` is what the `tell` of `slot` returned. */
  | { op: 'seekTell'; slot: number }
  /** Text: the string; binary: hex. */
  | { op: 'write'; data: string }
  | { op: 'writelines'; data: string[] }
  | { op: 'truncate'; size: number | null }
  | { op: 'flush' };

/** One scenario. */
export interface Scenario {
  seed: number;
  /** Python's mode string (`'r'`, `'a+b'` ...). */
  mode: string;
  /** Text mode only. */
  encoding: string | null;
  /** Text mode only; null: not passed (strict). */
  errors: 'strict' | 'replace' | null;
  /** The file's bytes before opening; null: no file. */
  file: Uint8Array | null;
  ops: Op[];
}

/** The JSON a side's runner receives (the bytes are already on disk at `path`). */
export interface Job {
  path: string;
  mode: string;
  encoding: string | null;
  errors: string | null;
  ops: Op[];
}

/** True in binary mode. */
export function isBinary(s: Scenario): boolean {
  return s.mode.includes('b');
}

const READS = new Set(['read', 'readline', 'readlines', 'lines']);

/** True for an operation that reads. */
export function isRead(op: Op): boolean {
  return READS.has(op.op);
}

/**
 * The rules the generator keeps and every shrunk scenario must keep too:
 * a seek goes back only to a slot an earlier `tell` filled; in text mode
 * seeks are only those CPython allows (0, a tell value, the end, `seek(0, 1)`)
 * plus the invalid ones on purpose (a nonzero relative seek, a negative one);
 * no `tell` or `seek(0, 1)` after a text `readlines(hint)` until a full
 * `readlines()` (CPython's `readlines(hint)` iterates the file, which
 * disables `tell` until an iteration reaches the end, and one on a file not
 * open for reading never does); a text `truncate` only
 * right after a seek (CPython keeps its decoded characters across a
 * truncate, so what is read next would be stale).
 */
export function isValid(s: Scenario): boolean {
  const text = !isBinary(s);
  const readable = s.mode.startsWith('r') || s.mode.includes('+');
  const tells = new Set<number>();
  let noTell = false;
  let prev: Op | null = null;
  for (const op of s.ops) {
    if (op.op === 'seekTell' && !tells.has(op.slot)) return false;
    if (op.op === 'tell') tells.add(op.slot);
    if (text) {
      // (readlines on a file not open for reading disables tell for good: the iteration never ends)
      if (op.op === 'readlines') noTell = (op.hint !== null && op.hint > 0) || !readable;
      if (noTell && (op.op === 'tell' || (op.op === 'seek' && op.whence === 1))) return false;
      if (op.op === 'truncate' && !(prev !== null && (prev.op === 'seek' || prev.op === 'seekTell'))) {
        return false;
      }
    }
    prev = op;
  }
  return true;
}

/** True for a seek that fails in text mode without changing anything (a nonzero relative one, a negative one). */
export function isBadTextSeek(op: Op): boolean {
  return op.op === 'seek' && (op.whence === 0 ? op.offset < 0 : op.offset !== 0);
}

/** The JSON job for one side, whose copy of the file is at `path`. */
export function toJob(s: Scenario, path: string): Job {
  return { path, mode: s.mode, encoding: s.encoding, errors: s.errors, ops: s.ops };
}
