/**
 * Private: checks of numeric arguments, with messages that name the bad value.
 *
 * @module
 */

import { describe } from './_cancel.js';

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
 * A timeout in ms or `null` for none: NaN and -Infinity are errors, a
 * negative timeout has already expired, +Infinity is none.
 */
export function checkTimeout(ms: unknown, where: string): number | null {
  if (ms === null || ms === undefined) return null;
  if (typeof ms !== 'number') {
    throw new TypeError(
      `${where}: the timeout must be a number of milliseconds or null, received ${describe(ms)}`,
    );
  }
  if (Number.isNaN(ms) || ms === -Infinity) {
    throw new RangeError(`${where}: the timeout must be a number of milliseconds or null, received ${ms}`);
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

/** Throws a `TypeError` unless `fn` is a function. */
export function checkFunction(fn: unknown, where: string, what = 'the callback'): void {
  if (typeof fn !== 'function')
    throw new TypeError(`${where}: ${what} must be a function, received ${describe(fn)}`);
}
