/**
 * Where tsaio/fs departs from CPython's `open()` on purpose, and says so in
 * its documentation. A difference is put down to a departure only if the
 * scenario has the departure's pattern and the same scenario without it
 * (`avoid`) no longer differs; anything else is a defect.
 *
 * Departures the generator never meets are not listed: reading as CPython's
 * `newline='\n'` (tsaio has no `newline` option, docs/fs.md; CPython runs
 * with `newline='\n'`), and text `tell()` being a byte offset (text `tell()`
 * values are only fed back to `seek`, never compared).
 *
 * @module
 */

import type { Outcome } from './execute.js';
import { isBadTextSeek, isBinary, isRead, type Op, type Scenario } from './scenario.js';

/** One deliberate departure. */
export interface Departure {
  name: string;
  /** Why, and where tsaio documents it. */
  reason: string;
  /** True if `s` has the pattern (some departures look at where it differed, `outcome`). */
  matches(s: Scenario, outcome: Outcome): boolean;
  /** `s` changed so that it no longer has the pattern (same reads and writes otherwise). */
  avoid(s: Scenario): Scenario;
}

/** The indexes of text writes made after a read with no seek between. */
function writesAfterReads(s: Scenario): number[] {
  if (isBinary(s) || s.mode.startsWith('a') || !(s.mode.startsWith('r') || s.mode.includes('+'))) return [];
  const found: number[] = [];
  let readAhead = false;
  for (const [i, op] of s.ops.entries()) {
    if (isRead(op)) readAhead = true;
    if ((op.op === 'seek' && !isBadTextSeek(op)) || op.op === 'seekTell') readAhead = false;
    if ((op.op === 'write' || op.op === 'writelines') && readAhead) found.push(i);
  }
  return found;
}

/**
 * True if, in binary append mode, CPython may still hold a write when a
 * `tell`, a read, a relative seek or a truncate comes: it then counts from
 * where the last seek went, not from the end where the write went.
 */
function afterAppend(s: Scenario): boolean {
  if (!isBinary(s) || !s.mode.startsWith('a')) return false;
  let pending = false;
  for (const op of s.ops) {
    if (op.op === 'write' || op.op === 'writelines') pending ||= op.data.length > 0;
    else if (
      op.op === 'tell' ||
      isRead(op) ||
      op.op === 'truncate' ||
      (op.op === 'seek' && op.whence === 1)
    ) {
      if (pending) return true;
    } else pending = false; // flush, an absolute seek: CPython's buffer is written and its position right
  }
  return false;
}

/** True if the first differing line is a decoding error on one side. */
function decodeErrorAt(o: Outcome): boolean {
  return [o.python[o.at], o.tsaio[o.at]].some((line) => line?.endsWith('= !decode') === true);
}

/** The departures, in the order they are tried. */
export const DEPARTURES: readonly Departure[] = [
  {
    name: 'text-write-after-read',
    reason:
      "a text write lands at tell(), where the reader is (AsyncFile.write: 'at the position'); CPython's " +
      'TextIOWrapper writes after the chunk it has read ahead (up to 8 KiB further), unless a seek comes between',
    matches: (s) => writesAfterReads(s).length > 0,
    avoid: (s) => {
      const at = new Set(writesAfterReads(s));
      const ops: Op[] = [];
      let slot = 1 + Math.max(-1, ...s.ops.map((op) => (op.op === 'tell' ? op.slot : -1)));
      for (const [i, op] of s.ops.entries()) {
        if (at.has(i)) ops.push({ op: 'tell', slot }, { op: 'seekTell', slot: slot++ });
        ops.push(op);
      }
      return { ...s, ops };
    },
  },
  {
    name: 'unbuffered-append',
    reason:
      'writes are not held in user space (docs/fs.md, AsyncFile.flush): an append-mode write is at the end ' +
      'of the file at once, and the position with it; CPython buffers it, and until a flush its binary ' +
      'tell(), reads and relative seeks count from where the last seek went',
    matches: afterAppend,
    avoid: (s) => ({
      ...s,
      ops: s.ops.flatMap((op): Op[] =>
        op.op === 'write' || op.op === 'writelines' ? [op, { op: 'flush' }] : [op],
      ),
    }),
  },
  {
    name: 'decode-error-chunk',
    reason:
      'a strict decoding error comes from the read that decodes the chunk holding the bad bytes, and the ' +
      'chunks differ: 64 KiB in tsaio (docs/fs.md: reads are buffered, 64 KiB), 8 KiB in CPython',
    matches: (s, o) => !isBinary(s) && s.errors !== 'replace' && decodeErrorAt(o),
    avoid: (s) => ({ ...s, errors: 'replace' }),
  },
  {
    name: 'write-only-readline-0',
    reason:
      "any read of a file not open for reading is UnsupportedOperation (fs/errors.ts); CPython's binary " +
      "writer inherits IOBase.readline, whose loop doesn't run for size 0, and returns b''",
    matches: (s) =>
      isBinary(s) &&
      !(s.mode.startsWith('r') || s.mode.includes('+')) &&
      s.ops.some((op) => op.op === 'readline' && op.n === 0),
    avoid: (s) => ({ ...s, ops: s.ops.filter((op) => !(op.op === 'readline' && op.n === 0)) }),
  },
];
