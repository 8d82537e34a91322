/**
 * Private: the pieces of one query call that the query methods
 * (`_queryable.ts`) and a prepared statement's runs (`statement.ts`) share:
 * the call's scope, and `fetchval`'s column. Apart from `_queryable.ts` so
 * that a statement needs nothing of it (no import cycle).
 *
 * @module
 */

import { deadlineAfter, describe } from '../_lowlevel.js';
import { Scope } from './_scope.js';
import type { QueryOptions } from './_args.js';
import type { QueryResult } from './connection.js';

/** A row: a plain object keyed by column name. */
export type Row = Record<string, unknown>;

/** The scope of a call that has a signal or a timeout; `null` (no cost) when it has neither. */
export function scopeFor(where: string, opts: QueryOptions, fallbackTimeout: number | null): Scope | null {
  const timeout = opts.timeout === undefined ? fallbackTimeout : opts.timeout;
  if (opts.signal === undefined && (timeout === null || timeout === undefined)) return null;
  const label = timeout === null || timeout === undefined ? where : `${where} (timeout ${timeout} ms)`;
  return new Scope(label).open(opts.signal ?? undefined, deadlineAfter(timeout, where));
}

/** Runs `fn` in `scope`, ending the scope after it. */
export async function inScope<T>(scope: Scope | null, fn: () => Promise<T>): Promise<T> {
  if (scope === null) return fn();
  try {
    return await fn();
  } finally {
    scope.end();
  }
}

/** The `column` option of `fetchval`, checked (default 0). */
export function checkColumn(column: unknown, where: string): number | string {
  if (column === undefined) return 0;
  if (typeof column === 'string' || (typeof column === 'number' && Number.isInteger(column) && column >= 0))
    return column;
  throw new RangeError(
    `${where}: column must be a non-negative integer or a name, received ${describe(column)}`,
  );
}

/** `fetchval`'s value: `column` of the first row of an array-mode result, `null` without a row. */
export function pickValue<V>(res: QueryResult, column: number | string, where: string): V | null {
  const index = typeof column === 'number' ? column : res.fields.findIndex((f) => f.name === column);
  if (index < 0 || index >= res.fields.length) {
    const names = res.fields.map((f) => f.name).join(', ') || 'none';
    throw new RangeError(`${where}: no column ${describe(column)} in the result (columns: ${names})`);
  }
  const row = res.rows[0] as unknown[] | undefined;
  return row === undefined ? null : (row[index] as V);
}
