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

import { isBinary, isRead, type Op, type Scenario } from './scenario.js';

/** One deliberate departure. */
export interface Departure {
  name: string;
  /** Why, and where tsaio documents it. */
  reason: string;
  /** True if `s` has the pattern. */
  matches(s: Scenario): boolean;
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
    if (op.op === 'seek' || op.op === 'seekTell') readAhead = false;
    if ((op.op === 'write' || op.op === 'writelines') && readAhead) found.push(i);
  }
  return found;
}

/** True if, in binary append mode, a `tell` comes after a write with nothing between that makes CPython flush. */
function tellAfterAppend(s: Scenario): boolean {
  if (!isBinary(s) || !s.mode.startsWith('a')) return false;
  let pending = false;
  for (const op of s.ops) {
    if (op.op === 'write' || op.op === 'writelines') pending ||= op.data.length > 0;
    else if (op.op === 'tell' && pending) return true;
    else if (op.op !== 'tell') pending = false; // flush, seek, a read and truncate flush CPython's buffer
  }
  return false;
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
      'writes are not held in user space (docs/fs.md, AsyncFile.flush): after a seek, an append-mode write ' +
      'is at the end of the file at once, and tell() says so; CPython buffers it, and its binary tell() ' +
      'counts from where the seek went until a flush',
    matches: tellAfterAppend,
    avoid: (s) => ({
      ...s,
      ops: s.ops.flatMap((op): Op[] =>
        op.op === 'write' || op.op === 'writelines' ? [op, { op: 'flush' }] : [op],
      ),
    }),
  },
];
