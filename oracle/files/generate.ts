/**
 * The random scenario of a seed: a mode, an encoding, a file (see
 * content.ts) and a list of operations that keeps the rules of
 * `isValid` (scenario.ts).
 *
 * @module
 */

import { binaryContent, pickSize, textContent, withBadBytes, type TextEncoding } from './content.js';
import { Random } from './random.js';
import { isBadTextSeek, type Op, type Scenario } from './scenario.js';

const MODES = {
  r: 26,
  rb: 14,
  'r+': 10,
  'r+b': 8,
  w: 4,
  'w+': 7,
  wb: 2,
  'w+b': 4,
  a: 4,
  'a+': 6,
  ab: 2,
  'a+b': 4,
  x: 1,
  'x+b': 1,
} as const;

/** What the generator knows while it adds operations. */
interface State {
  r: Random;
  binary: boolean;
  readable: boolean;
  writable: boolean;
  append: boolean;
  enc: TextEncoding;
  /** Roughly the file's size (for binary seeks and truncates). */
  size: number;
  slots: number[];
  noTell: boolean;
  /** A text read happened since the last seek (CPython has read ahead). */
  readAhead: boolean;
  /** A binary append-mode write CPython may still hold (departures.ts: unbuffered-append). */
  appendPending: boolean;
  ops: Op[];
}

/**
 * The scenario of `seed`.
 *
 * @example
 * ```ts
 * console.log(generate(1).mode === generate(1).mode); // true
 * ```
 */
export function generate(seed: number): Scenario {
  const r = new Random(seed);
  const mode = r.weighted(MODES);
  const binary = mode.includes('b');
  const enc = binary
    ? 'utf-8'
    : r.weighted({ 'utf-8': 70, 'utf-16-le': 12, 'latin-1': 10, ascii: 8 } as const);
  const errors = binary ? null : r.weighted({ none: 70, strict: 10, replace: 20 } as const);
  const { file, bad } = pickFile(r, mode, binary, enc, errors === 'replace');
  const st: State = {
    r,
    binary,
    readable: mode.startsWith('r') || mode.includes('+'),
    writable: !mode.startsWith('r') || mode.includes('+'),
    append: mode.startsWith('a'),
    enc,
    size: mode.startsWith('w') || file === null ? 0 : file.length,
    slots: [],
    noTell: false,
    readAhead: false,
    appendPending: false,
    ops: [],
  };
  if (bad && errors !== 'replace') {
    // Where a strict decoding error shows depends on the read chunk: read it all, once.
    st.ops.push(r.chance(0.5) ? { op: 'read', n: null } : { op: 'readlines', hint: null });
  } else {
    const count = r.pick([r.int(1, 3), r.int(4, 10), r.int(4, 10), r.int(11, 30)]);
    while (st.ops.length < count) addOp(st);
  }
  return {
    seed,
    mode,
    encoding: binary ? null : enc,
    errors: errors === 'none' ? null : errors,
    file,
    ops: st.ops,
  };
}

function pickFile(
  r: Random,
  mode: string,
  binary: boolean,
  enc: TextEncoding,
  replace: boolean,
): { file: Uint8Array | null; bad: boolean } {
  if (mode.startsWith('x')) return { file: r.chance(0.9) ? null : Uint8Array.of(0x61), bad: false };
  if (mode.startsWith('r') && r.chance(0.02)) return { file: null, bad: false };
  const size = mode.startsWith('w') ? r.int(0, 100) : pickSize(r);
  if (binary && r.chance(0.5)) return { file: binaryContent(r, size), bad: false };
  const text = textContent(r, size, enc);
  const bad = !binary && r.chance(replace ? 0.5 : 0.03);
  return { file: bad ? withBadBytes(r, text, enc) : text, bad };
}

function addOp(st: State): void {
  const { r } = st;
  const rd = st.readable ? 1 : 0.1;
  const wr = st.writable ? 1 : 0.1;
  const kind = r.weighted({
    read: 20 * rd,
    readline: 15 * rd,
    readlines: 6 * rd,
    lines: 12 * rd,
    tell: st.noTell && !st.binary ? 0 : 8,
    seek: 12,
    write: 10 * wr,
    writelines: 3 * wr,
    truncate: st.writable ? 3 : 0.2,
    flush: 2,
  });
  if (st.appendPending && !kind.startsWith('write') && r.chance(0.9)) {
    // Mostly flush first: until it does, CPython counts positions after a binary append from the last seek.
    st.ops.push({ op: 'flush' });
    st.appendPending = false;
  }
  switch (kind) {
    case 'read':
      st.ops.push({ op: 'read', n: pickCount(r) });
      break;
    case 'readline':
      st.ops.push({ op: 'readline', n: r.chance(0.7) ? null : pickCount(r) });
      break;
    case 'readlines': {
      const hint = r.chance(0.5) ? r.pick([null, 0]) : r.pick([r.int(1, 100), r.int(100, 200_000)]);
      st.ops.push({ op: 'readlines', hint });
      if (!st.binary) st.noTell = (hint !== null && hint > 0) || !st.readable;
      break;
    }
    case 'lines':
      st.ops.push({ op: 'lines', k: r.pick([r.int(1, 3), r.int(1, 3), r.int(4, 50), 1e9]) });
      break;
    case 'tell':
      addTell(st);
      break;
    case 'seek':
      addSeek(st);
      break;
    case 'write':
    case 'writelines':
      addWrite(st, kind);
      break;
    case 'truncate':
      addTruncate(st);
      break;
    case 'flush':
      st.ops.push({ op: 'flush' });
      break;
  }
  if (kind.startsWith('read') || kind === 'lines') st.readAhead = st.readable;
  if (kind === 'write' || kind === 'writelines') st.appendPending = st.binary && st.append;
  else if (kind !== 'tell') st.appendPending = false;
}

/** A count for `read(n)`/`readline(n)`: small, around a boundary, or large. */
function pickCount(r: Random): number | null {
  switch (r.weighted({ all: 15, zero: 3, few: 25, some: 25, edge: 15, big: 7 })) {
    case 'all':
      return null;
    case 'zero':
      return 0;
    case 'few':
      return r.int(1, 5);
    case 'some':
      return r.int(6, 200);
    case 'edge':
      return r.pick([8192, 65536, 131072]) + r.int(-3, 3);
    default:
      return r.int(100_000, 1_500_000);
  }
}

function addTell(st: State): number {
  const slot = st.slots.length;
  st.slots.push(slot);
  st.ops.push({ op: 'tell', slot });
  return slot;
}

function addSeek(st: State): void {
  const { r } = st;
  if (st.slots.length > 0 && r.chance(st.binary ? 0.2 : 0.35)) {
    st.ops.push({ op: 'seekTell', slot: r.pick(st.slots) });
  } else if (st.binary) {
    const whence = Number(r.weighted({ 0: 6, 1: 2, 2: 2 })) as 0 | 1 | 2;
    const edge = r.pick([8192, 65536, 131072]) + r.int(-2, 2);
    const offset =
      whence === 0
        ? r.pick([0, r.int(0, st.size + 10), edge])
        : whence === 1
          ? r.int(-50, 50)
          : r.int(-Math.min(st.size + 5, 70_000), 10);
    st.ops.push({ op: 'seek', offset, whence });
  } else {
    const pick = r.weighted({ start: 40, end: 25, here: st.noTell ? 0 : 6, bad: 4 });
    if (pick === 'start') st.ops.push({ op: 'seek', offset: 0, whence: 0 });
    else if (pick === 'end') st.ops.push({ op: 'seek', offset: 0, whence: 2 });
    else if (pick === 'here') st.ops.push({ op: 'seek', offset: 0, whence: 1 });
    else
      st.ops.push(
        r.pick([
          { op: 'seek', offset: 1, whence: 1 } as const,
          { op: 'seek', offset: -1, whence: 0 } as const,
        ]),
      );
  }
  if (!isBadTextSeek(st.ops[st.ops.length - 1]!) || st.binary) st.readAhead = false;
}

/**
 * Before a text write after a read, seek to where the reader is (most of the
 * time): CPython writes after its read-ahead there, tsaio where the reader
 * is (departures.ts).
 */
function syncBeforeWrite(st: State): void {
  if (st.binary || st.append || !st.readAhead) return;
  if (!st.noTell && st.r.chance(0.05)) return; // the departure, now and then (not where tell() is disabled)
  if (!st.noTell && st.r.chance(0.7)) {
    st.ops.push({ op: 'seekTell', slot: addTell(st) });
  } else {
    st.ops.push({ op: 'seek', offset: 0, whence: st.r.chance(0.5) ? 0 : 2 });
  }
  st.readAhead = false;
}

function addWrite(st: State, kind: 'write' | 'writelines'): void {
  syncBeforeWrite(st);
  const one = () => writeData(st);
  if (kind === 'write') st.ops.push({ op: 'write', data: one() });
  else st.ops.push({ op: 'writelines', data: Array.from({ length: st.r.int(0, 3) }, one) });
}

/** Text (or hex, in binary mode) for a write: short mostly, sometimes across a chunk. */
function writeData(st: State): string {
  const { r } = st;
  const length = r.pick([r.int(0, 20), r.int(0, 20), r.int(0, 20), r.int(20, 500), r.int(8000, 70_000)]);
  if (st.binary) {
    const bytes = r.chance(0.5) ? binaryContent(r, length) : textContent(r, length, 'utf-8');
    st.size += bytes.length;
    return Buffer.from(bytes).toString('hex');
  }
  let text = Buffer.from(textContent(r, length, 'utf-8')).toString('utf8');
  if (st.enc === 'latin-1' || st.enc === 'ascii') {
    // Mostly characters the encoding has; now and then one it hasn't (an encode error).
    const limit = st.enc === 'ascii' ? 0x7f : 0xff;
    if (!r.chance(0.05)) text = [...text].map((c) => (c.codePointAt(0)! > limit ? 'e' : c)).join('');
  }
  st.size += text.length;
  return text;
}

function addTruncate(st: State): void {
  const { r } = st;
  if (!st.binary) {
    // CPython keeps decoded characters across a text truncate: truncate only right after a seek.
    st.ops.push({ op: 'seek', offset: 0, whence: r.chance(0.5) ? 0 : 2 });
    st.readAhead = false;
  }
  const size = r.chance(0.4) ? null : r.int(0, st.size + 10);
  st.ops.push({ op: 'truncate', size });
  if (size !== null) st.size = size;
}
