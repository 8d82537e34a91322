/**
 * Private: the checks of arguments, for the core and the I/O parts alike
 * (the parts reach them through `_lowlevel.ts`). Each throws a `TypeError`
 * for a value of the wrong type and a `RangeError` for one out of range, with
 * a full sentence that names the call and the bad value.
 *
 * @module
 */

/** A short description of a bad value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `a function`;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : `an object (${value.constructor?.name ?? 'Object'})`;
}

/**
 * Throws a `TypeError` unless `signal` is undefined or an `AbortSignal`. The
 * message names `where`, prefixed with the class name of `owner` if given
 * (built only on error: hot paths pay nothing for it).
 */
export function checkSignal(signal: unknown, where: string, owner?: object): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined;
  if (!(signal instanceof AbortSignal)) {
    const name = owner === undefined ? where : `${owner.constructor.name}.${where}`;
    throw new TypeError(`${name}: signal must be an AbortSignal, received ${describe(signal)}`);
  }
  return signal;
}

/** Throws a `TypeError` unless `fn` is a function. */
export function checkFunction(fn: unknown, where: string, what = 'the callback'): void {
  if (typeof fn !== 'function')
    throw new TypeError(`${where}: ${what} must be a function, received ${describe(fn)}`);
}

/** A delay in ms: a number, not NaN; a negative delay is 0 (as in Python). */
export function checkDelay(ms: unknown, where: string): number {
  if (typeof ms !== 'number') {
    throw new TypeError(`${where}: the delay must be a number of milliseconds, received ${describe(ms)}`);
  }
  if (Number.isNaN(ms))
    throw new RangeError(`${where}: the delay must be a number of milliseconds, received NaN`);
  return ms < 0 ? 0 : ms;
}

/**
 * A timeout in ms or `null` for none: NaN and -Infinity are errors, +Infinity
 * is none. A negative timeout has already expired (as in asyncio), unless
 * `negative` is false: then it is an error too (a blocking call, which has no
 * "already expired" to report).
 */
export function checkTimeout(ms: unknown, where: string, negative = true): number | null {
  if (ms === null || ms === undefined) return null;
  const what = negative ? 'a number of milliseconds' : 'a non-negative number of milliseconds';
  if (typeof ms !== 'number') {
    throw new TypeError(`${where}: the timeout must be ${what} or null, received ${describe(ms)}`);
  }
  if (Number.isNaN(ms) || ms === -Infinity || (!negative && ms < 0)) {
    throw new RangeError(`${where}: the timeout must be ${what} or null, received ${ms}`);
  }
  return ms === Infinity ? null : ms;
}

/** A deadline in `loop.time()` units or `null`, with the same rules as `checkTimeout`. */
export function checkDeadline(when: unknown, where: string): number | null {
  if (when === null || when === undefined) return null;
  if (typeof when !== 'number') {
    throw new TypeError(
      `${where}: the deadline must be a loop.time() value in ms or null, received ${describe(when)}`,
    );
  }
  if (Number.isNaN(when) || when === -Infinity) {
    throw new RangeError(
      `${where}: the deadline must be a loop.time() value in ms or null, received ${when}`,
    );
  }
  return when === Infinity ? null : when;
}

/**
 * A count: an integer of at least `min` (0 by default), else a `RangeError`
 * ("Semaphore: value must be a non-negative integer, received -1"). With a
 * `fallback`, `undefined` stands for it (an option left out).
 */
export function checkCount(value: unknown, where: string, what: string, min = 0, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const kind =
      min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new RangeError(`${where}: ${what} must be ${kind}, received ${describe(value)}`);
  }
  return value;
}

/**
 * A limit: a positive integer or `Infinity` (no limit), else a `RangeError`;
 * `undefined` stands for `fallback`. The `concurrency` of `map`, the `size` of
 * `batch` and `buffer`.
 */
export function checkLimit(value: unknown, where: string, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 1) || (!Number.isInteger(value) && value !== Infinity)) {
    throw new RangeError(
      `${where}: ${what} must be a positive integer or Infinity, received ${describe(value)}`,
    );
  }
  return value;
}

/**
 * A query's SQL text: a string, else a `TypeError`; not empty or blank
 * unless `empty` is true (`tsaio/sqlite` runs an empty script, as Python's
 * `sqlite3` does).
 */
export function checkSql(sql: unknown, where: string, empty = false): string {
  if (typeof sql !== 'string' || (!empty && sql.trim() === '')) {
    const what = empty ? 'a string' : 'a non-empty string';
    throw new TypeError(`${where}: the query must be ${what}, received ${describe(sql)}`);
  }
  return sql;
}
