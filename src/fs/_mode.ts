/**
 * Private: Python's `open()` mode strings (`'r'`, `'w+b'`, `'ab'`, `'x'` ...)
 * parsed as `io.open` parses them.
 *
 * @module
 */

import { describe } from '../_lowlevel.js';

/** What a mode string asks for. */
export interface Mode {
  /** The mode as given (`'rb'`). */
  text: string;
  readable: boolean;
  writable: boolean;
  /** Writes go to the end of the file whatever the position (`'a'`). */
  append: boolean;
  binary: boolean;
  /** The flags for `fs.open` (`'r'`, `'w+'`, `'a'`, `'wx'` ...). */
  flags: string;
}

const FLAGS: Record<string, [string, string]> = {
  r: ['r', 'r+'],
  w: ['w', 'w+'],
  a: ['a', 'a+'],
  x: ['wx', 'wx+'],
};

/**
 * Parses `mode` like Python (each valid mode once, then from a cache): exactly one of `r w a x`, then optionally `+`
 * and one of `b t`, in any order, each at most once.
 *
 * @throws {TypeError} if `mode` is not a string; {RangeError} if it is not a valid mode.
 */
export function parseMode(mode: unknown): Mode {
  const known = typeof mode === 'string' ? parsed.get(mode) : undefined;
  if (known !== undefined) return known;
  const result = parse(mode);
  if (parsed.size < 64) parsed.set(result.text, result);
  return result;
}

const parsed = new Map<string, Mode>();

function parse(mode: unknown): Mode {
  if (typeof mode !== 'string') {
    throw new TypeError(`open: mode must be a string such as 'r' or 'wb', received ${describe(mode)}`);
  }
  const bad = (why: string) => new RangeError(`open: invalid mode ${JSON.stringify(mode)}: ${why}`);
  const seen = new Set<string>();
  for (const c of mode) {
    if (!'rwaxbt+'.includes(c)) throw bad(`unknown character ${JSON.stringify(c)}`);
    if (seen.has(c)) throw bad(`${JSON.stringify(c)} appears twice`);
    seen.add(c);
  }
  const kinds = [...'rwax'].filter((c) => seen.has(c));
  if (kinds.length !== 1)
    throw bad('it must have exactly one of create (x), read (r), write (w) or append (a)');
  if (seen.has('b') && seen.has('t')) throw bad("it can't be both binary (b) and text (t)");
  const kind = kinds[0]!;
  const plus = seen.has('+');
  return {
    text: mode,
    readable: kind === 'r' || plus,
    writable: kind !== 'r' || plus,
    append: kind === 'a',
    binary: seen.has('b'),
    flags: FLAGS[kind]![plus ? 1 : 0],
  };
}
