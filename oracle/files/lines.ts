/**
 * A file's bytes as lines, the unit the shrinker drops, merges and plains
 * (a line ends after its `'\n'`; in UTF-16 a `'\n'` is two bytes, so lines
 * keep their alignment).
 *
 * @module
 */

import type { Scenario } from './scenario.js';

/** The bytes per character unit: 2 for a UTF-16 text file, else 1. */
export function unitOf(s: Scenario): 1 | 2 {
  return s.encoding === 'utf-16-le' && !s.mode.includes('b') ? 2 : 1;
}

/** The lines of `data` (the last one may lack its newline). */
export function splitLines(data: Uint8Array, unit: 1 | 2): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i + unit <= data.length; i += unit) {
    if (data[i] === 0x0a && (unit === 1 || data[i + 1] === 0)) {
      lines.push(data.subarray(start, i + unit));
      start = i + unit;
    }
  }
  if (start < data.length) lines.push(data.subarray(start));
  return lines;
}

/** The bytes of `lines`, one after another. */
export function joinLines(lines: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(lines));
}

/** True if `line` ends with a newline unit. */
export function endsWithNewline(line: Uint8Array, unit: 1 | 2): boolean {
  const n = line.length;
  return n >= unit && line[n - unit] === 0x0a && (unit === 1 || line[n - 1] === 0);
}

/** `line` with every unit except its final newline replaced by `'a'` (same byte length, rounded to units). */
export function plain(line: Uint8Array, unit: 1 | 2): Uint8Array {
  const out = new Uint8Array(line.length);
  const keep = endsWithNewline(line, unit) ? line.length - unit : line.length;
  for (let i = 0; i < line.length; i++) out[i] = i >= keep ? line[i]! : unit === 2 && i % 2 === 1 ? 0 : 0x61;
  return out;
}
