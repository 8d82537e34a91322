/**
 * Private: the text encodings of `tsaio/fs`, and the one rule text mode
 * needs: decode only whole characters. `wholeLength` finds where the last
 * complete character of a chunk ends, so a multi-byte character split across
 * two reads is kept as bytes until the rest arrives, and the position of every
 * decoded character in the file is known (for `tell()`).
 *
 * @module
 */

import { isUtf8 } from 'node:buffer';
import { describe } from '../_lowlevel.js';

/** The encodings supported, by their Python names. */
export type Encoding = 'utf-8' | 'utf-16-le' | 'latin-1' | 'ascii';
/** How undecodable bytes are handled: an error (Python's default) or U+FFFD. */
export type Errors = 'strict' | 'replace';

const NAMES: Record<string, Encoding> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'utf-16-le': 'utf-16-le',
  'utf-16le': 'utf-16-le',
  utf16le: 'utf-16-le',
  'latin-1': 'latin-1',
  latin1: 'latin-1',
  'iso-8859-1': 'latin-1',
  ascii: 'ascii',
  'us-ascii': 'ascii',
};

const BUFFER_NAME: Record<Encoding, BufferEncoding> = {
  'utf-8': 'utf8',
  'utf-16-le': 'utf16le',
  'latin-1': 'latin1',
  ascii: 'latin1', // checked below: strict ascii rejects bytes >= 0x80
};

/** Encodes and decodes one text file's characters. */
export class Codec {
  readonly name: Encoding;
  private readonly _buffer: BufferEncoding;
  /** UTF-16 only: WHATWG's decoder, which (unlike Buffer's) turns a lone surrogate into U+FFFD as Python does. */
  private readonly _utf16: InstanceType<typeof TextDecoder> | null;

  constructor(
    encoding: unknown,
    readonly errors: Errors,
  ) {
    const name = typeof encoding === 'string' ? NAMES[encoding.toLowerCase().replace(/_/g, '-')] : undefined;
    if (name === undefined) {
      throw new RangeError(
        `open: unknown encoding ${describe(encoding)}; tsaio/fs supports utf-8, utf-16-le, latin-1 and ascii`,
      );
    }
    this.name = name;
    this._buffer = BUFFER_NAME[name];
    // ignoreBOM: a U+FEFF at the start of a chunk is a character, as in Python's utf-16-le.
    this._utf16 =
      name === 'utf-16-le'
        ? new TextDecoder('utf-16le', { fatal: errors === 'strict', ignoreBOM: true })
        : null;
  }

  /** The length of the longest prefix of `buf[start, end)` made of whole characters. */
  wholeLength(buf: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (this.name === 'utf-16-le') {
      let whole = n & ~1;
      if (whole >= 2) {
        const hi = buf[start + whole - 1]!;
        if (hi >= 0xd8 && hi <= 0xdb) whole -= 2; // a high surrogate waits for its low half
      }
      return whole;
    }
    if (this.name !== 'utf-8') return n;
    // Find the lead byte of the last character (at most 4 bytes back).
    for (let back = 1; back <= Math.min(4, n); back++) {
      const b = buf[end - back]!;
      if ((b & 0xc0) === 0x80) continue; // a continuation byte
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return need > back ? n - back : n;
    }
    return n;
  }

  /** Decodes `buf[start, end)`. Strict mode throws a `TypeError` naming the encoding. */
  decode(buf: Buffer, start: number, end: number): string {
    if (this.name === 'utf-8') {
      // Buffer's decoder is the fast one; it writes U+FFFD for bad bytes, so check only then.
      const text = buf.toString('utf8', start, end);
      if (this.errors === 'strict' && text.includes('\ufffd') && !isUtf8(buf.subarray(start, end)))
        throw this._undecodable();
      return text;
    }
    if (this._utf16 !== null) {
      try {
        return this._utf16.decode(buf.subarray(start, end));
      } catch (cause) {
        throw this._undecodable(cause);
      }
    }
    if (this.name === 'ascii' && this.errors === 'strict') {
      for (let i = start; i < end; i++) {
        if (buf[i]! >= 0x80) throw new TypeError(`cannot decode byte 0x${buf[i]!.toString(16)} as ascii`);
      }
    }
    const text = buf.toString(this._buffer, start, end);
    return this.name === 'ascii' ? text.replace(/[\x80-\xff]/g, '\ufffd') : text;
  }

  private _undecodable(cause?: unknown): TypeError {
    return new TypeError(
      `cannot decode the file's bytes as ${this.name} (use errors: 'replace' to read them as U+FFFD)`,
      { cause },
    );
  }

  /** Encodes `text`; strict latin-1/ascii reject characters they cannot hold. */
  encode(text: string): Buffer {
    if (this.name === 'latin-1' || this.name === 'ascii') {
      const limit = this.name === 'ascii' ? 0x7f : 0xff;
      for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > limit) {
          if (this.errors === 'strict')
            throw new TypeError(`cannot encode ${JSON.stringify(text[i])} as ${this.name}`);
          text = [...text].map((ch) => (ch.charCodeAt(0) > limit ? '?' : ch)).join('');
          break;
        }
      }
    }
    return Buffer.from(text, this._buffer);
  }

  /**
   * True if a decoded string may hold a U+FFFD that stands for other bytes
   * (`errors: 'replace'` in UTF-8 or UTF-16), so that `byteLength` of the
   * string is not the length of its bytes: `sourceLength` then counts them.
   */
  get replaces(): boolean {
    return this.errors === 'replace' && (this.name === 'utf-8' || this.name === 'utf-16-le');
  }

  /**
   * The number of bytes of `src` that decode to its first `units` UTF-16
   * code units: a U+FFFD counts the bytes it replaced (the maximal subpart of
   * a bad sequence, as Python and WHATWG decoders agree).
   */
  sourceLength(src: Uint8Array, units: number): number {
    let i = 0;
    for (let done = 0; done < units && i < src.length;) {
      const [bytes, n] = this.name === 'utf-16-le' ? utf16Step(src, i) : utf8Step(src, i);
      i += bytes;
      done += n;
    }
    return i;
  }

  /** The number of bytes `text` takes in this encoding. */
  byteLength(text: string): number {
    return this.name === 'ascii' || this.name === 'latin-1'
      ? text.length
      : Buffer.byteLength(text, this._buffer);
  }
}

/** The valid range of the second byte after a UTF-8 lead byte (the others are 0x80-0xbf). */
function secondRange(lead: number): [number, number] {
  if (lead === 0xe0) return [0xa0, 0xbf];
  if (lead === 0xed) return [0x80, 0x9f];
  if (lead === 0xf0) return [0x90, 0xbf];
  if (lead === 0xf4) return [0x80, 0x8f];
  return [0x80, 0xbf];
}

/** The next decoded UTF-8 character at `i`: [bytes it takes, UTF-16 units it gives]. */
function utf8Step(src: Uint8Array, i: number): [number, number] {
  const b = src[i]!;
  const need =
    b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
  if (need <= 0) return [1, 1]; // ASCII, or a byte no sequence starts with (one U+FFFD)
  let [lo, hi] = secondRange(b);
  for (let k = 1; k <= need; k++) {
    const c = src[i + k];
    if (c === undefined || c < lo || c > hi) return [k, 1]; // a broken sequence: one U+FFFD for its bytes
    [lo, hi] = [0x80, 0xbf];
  }
  return [need + 1, need === 3 ? 2 : 1];
}

/** The next decoded UTF-16-LE character at `i`: [bytes it takes, UTF-16 units it gives]. */
function utf16Step(src: Uint8Array, i: number): [number, number] {
  if (i + 1 >= src.length) return [1, 1]; // an odd last byte: U+FFFD
  const hi = src[i + 1]!;
  if (hi < 0xd8 || hi > 0xdb) return [2, 1];
  if (i + 3 < src.length && src[i + 3]! >= 0xdc && src[i + 3]! <= 0xdf) return [4, 2];
  return i + 3 === src.length ? [3, 1] : [2, 1]; // a lone high surrogate (with a last odd byte: one U+FFFD)
}

/**
 * The index in `text` just past `n` code points from `from` (a surrogate pair
 * is one character), or -1 if fewer than `n` are there.
 */
export function charEnd(text: string, from: number, n: number): number {
  let i = from;
  for (; n > 0; n--) {
    if (i >= text.length) return -1;
    const c = text.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < text.length ? 2 : 1;
  }
  return i;
}

const codecs = new Map<string, Codec>();

/** The codec for `encoding` and `errors` (codecs hold no state: one per pair). */
export function codecFor(encoding: unknown, errors: Errors): Codec {
  const key = `${String(encoding)}\0${errors}`;
  let codec = codecs.get(key);
  if (codec === undefined) {
    codec = new Codec(encoding, errors);
    if (codecs.size < 64) codecs.set(key, codec);
  }
  return codec;
}
