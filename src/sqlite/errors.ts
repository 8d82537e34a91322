/**
 * The errors of `tsaio/sqlite`, after Python's `sqlite3` exceptions. Each
 * has SQLite's extended result `code` (`'SQLITE_CONSTRAINT_UNIQUE'`).
 * Cancellation is the core `CancelledError`; bad arguments are
 * `TypeError`/`RangeError`; a closed connection is `InvalidStateError`.
 *
 * Every class carries the core's `Symbol.for` brand, so `instanceof` holds
 * across two installed copies of tsaio. The `code` is each error's own
 * (SQLite's result code, or `'TSAIO_SQLITE_WORKER_CRASHED'`), not the
 * class's.
 *
 * @module
 */

import { brand } from '../_lowlevel.js';

/**
 * An error SQLite reported. Same as `sqlite3.DatabaseError`; the subclasses
 * follow Python's sqlite3.
 *
 * @example The SQLite code of an error
 * ```ts
 * import { connect, SqliteError } from 'tsaio/sqlite';
 * await using db = await connect(':memory:');
 * try { await db.execute('SELECT * FROM missing'); }
 * catch (e) { if (e instanceof SqliteError) console.log(e.code, e.message); } // SQLITE_ERROR no such table: missing
 * ```
 */
export class SqliteError extends Error {
  /** SQLite's extended result code, e.g. `'SQLITE_BUSY'`. */
  readonly code: string;
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
brand(SqliteError, null, 'sqlite');

/**
 * A constraint failed (UNIQUE, NOT NULL, CHECK, FOREIGN KEY). Same as `sqlite3.IntegrityError`.
 *
 * @example A duplicate key
 * ```ts
 * import { connect, IntegrityError } from 'tsaio/sqlite';
 * await using db = await connect(':memory:');
 * await db.execute('CREATE TABLE u (id INTEGER PRIMARY KEY)');
 * await db.execute('INSERT INTO u VALUES (1)');
 * try { await db.execute('INSERT INTO u VALUES (1)'); }
 * catch (e) { if (e instanceof IntegrityError) console.log(e.code); } // SQLITE_CONSTRAINT_PRIMARYKEY
 * ```
 */
export class IntegrityError extends SqliteError {}
brand(IntegrityError, null, 'sqlite');

/**
 * The database could not do it: a syntax error, a missing table, the
 * database is locked past the busy timeout, a read-only database, I/O.
 * Same as `sqlite3.OperationalError`.
 *
 * @example A syntax error
 * ```ts
 * import { connect, OperationalError } from 'tsaio/sqlite';
 * await using db = await connect(':memory:');
 * try { await db.execute('SELEKT 1'); }
 * catch (e) { if (e instanceof OperationalError) console.log(e.code); } // SQLITE_ERROR
 * ```
 */
export class OperationalError extends SqliteError {}
brand(OperationalError, null, 'sqlite');

/**
 * A value too big or of the wrong type for SQLite. Same as `sqlite3.DataError`.
 *
 * @example
 * ```ts
 * import { DataError, SqliteError } from 'tsaio/sqlite';
 * const e = new DataError('string or blob too big', 'SQLITE_TOOBIG');
 * console.log(e instanceof SqliteError, e.code); // true SQLITE_TOOBIG
 * ```
 */
export class DataError extends SqliteError {}
brand(DataError, null, 'sqlite');

/**
 * The connection's worker thread ended unexpectedly (it crashed, ran out of
 * memory, or was terminated): every pending call rejects with this, and the
 * connection is closed. Its `cause` is what the worker died of.
 *
 * @example
 * ```ts
 * import { WorkerCrashedError, SqliteError } from 'tsaio/sqlite';
 * const e = new WorkerCrashedError('the SQLite worker thread ended unexpectedly', 'TSAIO_SQLITE_WORKER_CRASHED');
 * console.log(e instanceof SqliteError, e.name); // true WorkerCrashedError
 * ```
 */
export class WorkerCrashedError extends SqliteError {}
brand(WorkerCrashedError, null, 'sqlite');

/** The typed error for an error the worker reported (`name`, `message`, `code`). */
export function errorFromWorker(
  e: { name: string; message: string; code?: string | undefined },
  where: string,
): Error {
  const message = `${where}: ${e.message}`;
  if (e.name === 'TypeError') return new TypeError(message);
  if (e.name === 'RangeError') return new RangeError(message);
  const code = e.code ?? 'SQLITE_ERROR';
  if (code.startsWith('SQLITE_CONSTRAINT')) return new IntegrityError(e.message, code);
  if (code.startsWith('SQLITE_TOOBIG') || code.startsWith('SQLITE_MISMATCH'))
    return new DataError(e.message, code);
  if (e.name === 'SqliteError') return new OperationalError(e.message, code);
  return new SqliteError(message, code);
}
