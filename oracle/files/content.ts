/**
 * Random file contents: lines of random length (empty ones, one huge line),
 * `\n`, `\r\n` and `\r` mixed, multi-byte characters (placed across 8 KiB
 * and 64 KiB boundaries on purpose: CPython's and tsaio's read chunks), sizes
 * around those boundaries and around 1 MiB, with or without a final newline,
 * undecodable bytes (for `errors: 'replace'`), or plain random bytes.
 *
 * @module
 */

import type { Random } from './random.js';

/** Every read chunk of interest divides this: CPython's 8 KiB, tsaio's 64 KiB. */
const BOUNDARY = 8192;

/** A text encoding the generator writes, by its Python name. */
export type TextEncoding = 'utf-8' | 'utf-16-le' | 'latin-1' | 'ascii';

/** The number of bytes the file should have: around the boundaries, small, or around 1 MiB. */
export function pickSize(r: Random): number {
  const kind = r.weighted({ empty: 3, tiny: 14, small: 20, k8: 10, k64: 27, mid: 18, mib: 4 });
  switch (kind) {
    case 'empty':
      return 0;
    case 'tiny':
      return r.int(1, 40);
    case 'small':
      return r.int(40, 3000);
    case 'k8':
      return Math.max(0, r.int(1, 3) * 8192 + r.int(-40, 40));
    case 'k64':
      return r.int(1, 3) * 65536 + r.pick([r.int(-3, 3), r.int(-200, 200), r.int(-5000, 5000)]);
    case 'mid':
      return r.int(3000, 200_000);
    case 'mib':
      return 1_048_576 + r.int(-300, 300);
  }
}

/** The shape of one file's text. */
interface Style {
  avgLine: number;
  crlf: number;
  cr: number;
  /** Chances of a 2-, 3- and 4-byte (UTF-8) character. */
  p2: number;
  p3: number;
  p4: number;
}

function pickStyle(r: Random): Style {
  return {
    avgLine: r.pick([1, 3, 10, 40, 40, 200, 5000, 500_000]),
    crlf: r.pick([0, 0, 0.3, 1]),
    cr: r.pick([0, 0, 0.1]),
    p2: r.pick([0, 0.05, 0.3]),
    p3: r.pick([0, 0.05, 0.2]),
    p4: r.pick([0, 0.02, 0.1]),
  };
}

const TWO = [0xe9, 0xdf, 0x3b1, 0x416, 0x5d0];
const THREE = [0x20ac, 0x4e2d, 0x3042, 0xfeff, 0x2028];
const FOUR = [0x1f600, 0x10348, 0x1d11e];
const LATIN = [0xe9, 0xff, 0x80, 0xa0, 0xdf];

/** One non-newline character of the given UTF-8 width (1-4), as the encoding allows. */
function char(r: Random, width: number, enc: TextEncoding): number {
  if (enc === 'ascii') return r.int(0x20, 0x7e);
  if (enc === 'latin-1') return width === 1 ? r.int(0x20, 0x7e) : r.pick(LATIN);
  if (width === 2) return r.pick(TWO);
  if (width === 3) return r.pick(THREE);
  if (width === 4) return r.pick(FOUR);
  return r.chance(0.02) ? r.pick([0x09, 0x00, 0x7f]) : r.int(0x20, 0x7e);
}

/** The bytes of code point `cp` in `enc`. */
function encode(cp: number, enc: TextEncoding): number[] {
  if (enc === 'latin-1' || enc === 'ascii') return [cp];
  if (enc === 'utf-16-le') {
    if (cp < 0x10000) return [cp & 0xff, cp >> 8];
    const v = cp - 0x10000;
    const hi = 0xd800 + (v >> 10);
    const lo = 0xdc00 + (v & 0x3ff);
    return [hi & 0xff, hi >> 8, lo & 0xff, lo >> 8];
  }
  return [...Buffer.from(String.fromCodePoint(cp), 'utf8')];
}

/** Random text of about `size` bytes in `enc`. */
export function textContent(r: Random, size: number, enc: TextEncoding): Uint8Array {
  const s = pickStyle(r);
  const out: number[] = [];
  const push = (cp: number) => {
    for (const b of encode(cp, enc)) out.push(b);
  };
  while (out.length < size) {
    const toEdge = BOUNDARY - (out.length % BOUNDARY);
    if (toEdge <= 3 && r.chance(0.6)) {
      // Straddle the boundary: a newline pair or a character wider than what is left.
      if (toEdge === 1 && r.chance(0.3)) {
        push(0x0d);
        push(0x0a);
      } else if (r.chance(0.3)) push(0x0a);
      else push(char(r, Math.min(4, toEdge + 1 + r.int(0, 3 - Math.min(3, toEdge))), enc));
      continue;
    }
    if (r.chance(1 / s.avgLine)) {
      if (r.chance(s.crlf)) push(0x0d);
      else if (r.chance(s.cr)) push(0x0d);
      push(0x0a);
      continue;
    }
    if (r.chance(s.cr / 4)) {
      push(0x0d);
      continue;
    }
    const x = r.next();
    push(char(r, x < s.p4 ? 4 : x < s.p4 + s.p3 ? 3 : x < s.p4 + s.p3 + s.p2 ? 2 : 1, enc));
  }
  const end = r.weighted({ asIs: 4, newline: 3, none: 3 });
  if (end === 'newline' && out[out.length - (enc === 'utf-16-le' ? 2 : 1)] !== 0x0a) push(0x0a);
  if (end === 'none') {
    const unit = enc === 'utf-16-le' ? 2 : 1;
    while (out.length >= unit && out[out.length - unit] === 0x0a) out.length -= unit;
  }
  return Uint8Array.from(out);
}

/** Byte runs the encoding can't decode (empty for latin-1, which decodes every byte). */
function badRuns(enc: TextEncoding): number[][] {
  switch (enc) {
    case 'utf-8':
      return [[0x80], [0xc3], [0xe2, 0x82], [0xff], [0xed, 0xa0, 0x80], [0xf0, 0x9f], [0xc0, 0xaf]];
    case 'ascii':
      return [[0x80], [0xff], [0xc3, 0xa9]];
    case 'utf-16-le':
      return [
        [0x00, 0xd8, 0x41, 0x00],
        [0x00, 0xdc],
        [0x3d, 0xd8, 0x0a, 0x00],
      ];
    case 'latin-1':
      return [];
  }
}

/**
 * `data` with undecodable runs put in between characters (1-5, more in a
 * bigger file, some at a boundary); in UTF-16 maybe an odd last byte.
 */
export function withBadBytes(r: Random, data: Uint8Array, enc: TextEncoding): Uint8Array {
  const runs = badRuns(enc);
  if (runs.length === 0) return data;
  const unit = enc === 'utf-16-le' ? 2 : 1;
  const count = r.int(1, 5) + Math.min(40, Math.floor(data.length / r.pick([500, 4000, 1e9])));
  const at: number[] = [];
  for (let i = 0; i < count; i++) {
    let p = r.chance(0.3)
      ? Math.floor(r.int(0, data.length) / BOUNDARY) * BOUNDARY - r.int(0, 3)
      : r.int(0, data.length);
    p = Math.max(0, Math.min(data.length, p));
    p -= p % unit;
    // Between two characters: back off to the start of a UTF-8 character.
    while (enc === 'utf-8' && p > 0 && p < data.length && (data[p]! & 0xc0) === 0x80) p--;
    at.push(p);
  }
  at.sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const p of at) {
    parts.push(data.subarray(from, p), Uint8Array.from(r.pick(runs)));
    from = p;
  }
  parts.push(data.subarray(from));
  if (enc === 'utf-16-le' && r.chance(0.3)) parts.push(Uint8Array.of(0x41));
  return new Uint8Array(Buffer.concat(parts));
}

/** Random bytes, with newlines and carriage returns more often than chance gives. */
export function binaryContent(r: Random, size: number): Uint8Array {
  const out = new Uint8Array(size);
  const nl = r.pick([0.001, 0.02, 0.2]);
  for (let i = 0; i < size; i++) {
    const x = r.next();
    out[i] = x < nl ? 0x0a : x < nl * 1.3 ? 0x0d : r.int(0, 255);
  }
  return out;
}
