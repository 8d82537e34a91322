/**
 * Private: the options-object rule of the query methods. Parameters come as
 * extra arguments (`fetch(sql, ...args)`); a final argument that is a plain
 * object with at least one key, all among the method's option keys (and a
 * `signal`, when present, that is an `AbortSignal`), is the options
 * object, not a parameter (so a JSON parameter of exactly that shape must be
 * passed as a string).
 *
 * @module
 */

import { checkSignal, checkTimeout, describe } from '../_lowlevel.js';

/** The options of the query methods. */
export interface QueryOptions {
  /** Aborting it cancels the query on the server and rejects the call with `CancelledError`. */
  signal?: AbortSignal | undefined;
  /** Milliseconds before the query is cancelled on the server and the call rejects with `TimeoutError`. */
  timeout?: number | null | undefined;
}

/** The options of `fetchval`. */
export interface FetchvalOptions extends QueryOptions {
  /** The column to read: its index (default 0) or its name. */
  column?: number | string;
}

/** The options of `cursor`. */
export interface CursorOptions extends QueryOptions {
  /** Rows fetched per round trip by `for await` (default 50). */
  prefetch?: number;
}

/** The option keys that make a final plain object the options object (SPEC: `signal`, `timeout`, `column`). */
export const QUERY_KEYS: ReadonlySet<string> = new Set(['signal', 'timeout', 'column']);
/** `cursor()` also takes `prefetch`. */
export const CURSOR_KEYS: ReadonlySet<string> = new Set([...QUERY_KEYS, 'prefetch']);

function isOptions(value: unknown, keys: ReadonlySet<string>): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  let keyed = false;
  for (const key in value) {
    if (!keys.has(key)) return false;
    keyed = true;
  }
  // `{}` is a parameter; so is `{ signal: x }` when x is not an AbortSignal.
  const signal = (value as { signal?: unknown }).signal;
  return keyed && (signal === undefined || signal instanceof AbortSignal);
}

/** `args` split into the parameters and the options object (`{}` when there is none), checked. */
export function splitArgs<O extends QueryOptions>(
  args: readonly unknown[],
  where: string,
  keys: ReadonlySet<string> = QUERY_KEYS,
): { params: unknown[]; opts: O } {
  const last = args.length > 0 ? args[args.length - 1] : undefined;
  if (!isOptions(last, keys)) return { params: args as unknown[], opts: {} as O };
  const opts = last as O;
  checkOptions(opts, where);
  return { params: args.slice(0, -1), opts };
}

/** Checks `signal` and `timeout` of an options object. */
export function checkOptions(opts: QueryOptions | undefined, where: string): void {
  if (opts === undefined) return;
  if (opts === null || typeof opts !== 'object') {
    throw new TypeError(`${where}: options must be an object, received ${describe(opts)}`);
  }
  checkSignal(opts.signal, where);
  checkTimeout(opts.timeout, where);
}
