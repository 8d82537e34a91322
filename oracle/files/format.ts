/**
 * How a result is written down, the same way on both sides (driver.py has the
 * Python twin of each function): text as code points, bytes as escaped
 * ASCII, long values as head, tail, length and a SHA-1, so two results are
 * equal exactly when their texts are.
 *
 * @module
 */

import { createHash } from 'node:crypto';

const SHORT = 100;
const HEAD = 24;
const TAIL = 12;
const LIST_ITEMS = 20;
const LIST_CHARS = 1500;

function sha1(data: Uint8Array | string): string {
  return createHash('sha1').update(data).digest('hex').slice(0, 12);
}

function escapeCode(cp: number): string {
  switch (cp) {
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x22:
      return '\\"';
    case 0x5c:
      return '\\\\';
  }
  if (cp >= 0x20 && cp <= 0x7e) return String.fromCharCode(cp);
  return `\\u{${cp.toString(16)}}`;
}

function escapeByte(b: number): string {
  if (b === 0x0a || b === 0x0d || b === 0x09 || b === 0x22 || b === 0x5c || (b >= 0x20 && b <= 0x7e)) {
    return escapeCode(b);
  }
  return `\\x${b.toString(16).padStart(2, '0')}`;
}

/** The code points of `s` (a lone surrogate is one). */
function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0)!);
  return out;
}

/**
 * A string as `"..."` with escapes, or summarized when long.
 *
 * @example
 * ```ts
 * console.log(formatText('a\n€')); // "a\n\u{20ac}"
 * ```
 */
export function formatText(s: string): string {
  const cps = codePoints(s);
  const esc = (part: number[]) => part.map(escapeCode).join('');
  if (cps.length <= SHORT) return `"${esc(cps)}"`;
  const hash = sha1(new Uint8Array(Uint32Array.from(cps).buffer));
  return `"${esc(cps.slice(0, HEAD))}"…"${esc(cps.slice(-TAIL))}" (${cps.length} chars, sha1 ${hash})`;
}

/**
 * Bytes as `b"..."` with escapes, or summarized when long.
 *
 * @example
 * ```ts
 * console.log(formatBytes(Uint8Array.of(0x61, 0xff))); // b"a\xff"
 * ```
 */
export function formatBytes(b: Uint8Array): string {
  const esc = (part: Uint8Array) => Array.from(part, escapeByte).join('');
  if (b.length <= SHORT) return `b"${esc(b)}"`;
  return `b"${esc(b.subarray(0, HEAD))}"…"${esc(b.subarray(b.length - TAIL))}" (${b.length} bytes, sha1 ${sha1(b)})`;
}

/**
 * A list of formatted items, summarized when long.
 *
 * @example
 * ```ts
 * console.log(formatList(['"a"', '"b"'])); // ["a", "b"]
 * ```
 */
export function formatList(items: string[]): string {
  const joined = items.join(', ');
  if (items.length <= LIST_ITEMS && joined.length <= LIST_CHARS) return `[${joined}]`;
  return `[${items.length} items, sha1 ${sha1(items.join('\n'))}: ${items[0]}, …, ${items[items.length - 1]}]`;
}
