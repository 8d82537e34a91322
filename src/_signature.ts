/**
 * Private: whether a body can read the argument at a given position, so that
 * a task, timeout or task-group body that can read its signal gets one and a
 * body that cannot is spared the `AbortSignal` (about 4 µs and 1 kB each).
 *
 * `fn.length` decides most cases: it counts the parameters before the first
 * rest or default one. Past it, the source is read: a rest or default
 * parameter, a destructuring pattern, or a `function`/method that mentions
 * `arguments` can read the argument; a plain parameter list (identifiers and
 * commas only) of an arrow function, or of a function that never mentions
 * `arguments`, cannot. Anything not recognised (a bound or native function, a
 * comment in the head) is taken to read it: a signal too many costs time, a
 * signal too few breaks cancellation.
 *
 * The common case, `async () => ...` made anew for each task, costs one
 * `Function.prototype.toString` (a slice of the script, not a copy) and a
 * look at a few characters, with nothing cached. The longer answers
 * (searching a body for `arguments`) are cached per function.
 *
 * @module
 */

const toSource: (this: (...args: any[]) => unknown) => string = Function.prototype.toString;

const cached = new WeakMap<(...args: any[]) => unknown, boolean>();

/** True if `fn` may read its argument at `index` (0 for the first). */
export function readsArgument(fn: (...args: any[]) => unknown, index: number): boolean {
  return fn.length > index || fromSource(fn);
}

const OPEN = 40; // (
const CLOSE = 41; // )
const COMMA = 44; // ,
const STAR = 42; // *
const EQUALS = 61; // =
const GREATER = 62; // >

/** `fn` has no more than `fn.length` plain parameters: can it still read one past them? */
function fromSource(fn: (...args: any[]) => unknown): boolean {
  const known = cached.get(fn);
  if (known !== undefined) return known;
  const src = toSource.call(fn);
  let i = skipSpace(src, src.startsWith('async') && !isIdentifierChar(src.charCodeAt(5)) ? 5 : 0);
  if (src.charCodeAt(i) !== OPEN) {
    // `function name(`, a method `name(` / `*name(`, or an arrow `x =>` with one plain parameter.
    if (src.startsWith('function', i) && !isIdentifierChar(src.charCodeAt(i + 8))) i += 8;
    i = skipSpace(src, i);
    if (src.charCodeAt(i) === STAR) i = skipSpace(src, i + 1);
    const start = i;
    while (isIdentifierChar(src.charCodeAt(i))) i++;
    i = skipSpace(src, i);
    if (i > start && isArrow(src, i)) return false;
    if (src.charCodeAt(i) !== OPEN) return remember(fn, true);
  }
  // A plain parameter list: identifiers, commas and spaces up to the `)`.
  for (i++; i < src.length; i++) {
    const c = src.charCodeAt(i);
    if (c === CLOSE) break;
    if (c !== COMMA && !isSpace(c) && !isIdentifierChar(c)) return remember(fn, true);
  }
  if (isArrow(src, skipSpace(src, i + 1))) return false; // an arrow has no `arguments` of its own
  // A bound or native function shows no source: take it to read its arguments.
  return remember(fn, src.endsWith('[native code] }') || /\barguments\b/.test(src));
}

function remember(fn: (...args: any[]) => unknown, reads: boolean): boolean {
  cached.set(fn, reads);
  return reads;
}

function isArrow(src: string, i: number): boolean {
  return src.charCodeAt(i) === EQUALS && src.charCodeAt(i + 1) === GREATER;
}

function skipSpace(src: string, i: number): number {
  while (isSpace(src.charCodeAt(i))) i++;
  return i;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Letters, digits, `_`, `$`, and anything beyond ASCII (taken as part of an identifier). */
function isIdentifierChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36 || c > 127
  );
}
