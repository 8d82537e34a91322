/**
 * Private: the query methods shared by a `Connection`, a pooled connection,
 * a `Transaction` and (the first five) a `Pool`. Each parses its arguments
 * and hands one request to `_use`, which finds the connection (checking that
 * the handle may still be used) and runs the request through
 * `Connection._query`, the one query path.
 *
 * @module
 */

import { InvalidStateError } from '../exceptions.js';
import { checkFunction } from '../_validate.js';
import { describe } from '../_cancel.js';
import {
  CURSOR_KEYS,
  checkOptions,
  checkSql,
  splitArgs,
  type CursorOptions,
  type FetchvalOptions,
  type QueryOptions,
} from './_args.js';
import { Scope } from './_scope.js';
import { deadlineAfter } from '../_lowlevel.js';
import type { Connection, QueryRequest, QueryResult } from './connection.js';
import { Cursor } from './cursor.js';
import { PreparedStatement } from './statement.js';
import type { Transaction, TransactionOptions } from './transaction.js';

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

/** `fetch`, `fetchrow`, `fetchval`, `execute`, `executemany`: the methods a pool has too. */
export abstract class Queryable {
  /**
   * @internal Finds the connection and runs `fn` on it: the connection
   * itself, a pooled connection's (if not released), a transaction's (if
   * still open), or one acquired from a pool for the call.
   */
  abstract _use<T>(where: string, scope: Scope | null, fn: (conn: Connection) => Promise<T>): Promise<T>;

  /** @internal The default timeout of this connection's queries (`commandTimeout`). */
  abstract _defaultTimeout(): number | null;

  /** @internal Runs one request with the options of the call. */
  _request(where: string, req: QueryRequest, opts: QueryOptions): Promise<QueryResult> {
    const scope = scopeFor(where, opts, this._defaultTimeout());
    return inScope(scope, () => this._use(where, scope, (conn) => conn._query(req, scope)));
  }

  /**
   * Runs a query and resolves to all its rows, as plain objects keyed by
   * column name. Parameters are `$1, $2, ...`, given as extra arguments; a
   * final `{ signal, timeout }` object is the options. Same as
   * `asyncpg.Connection.fetch`.
   *
   * @param sql The query.
   * @param args The parameters, then optionally `{ signal, timeout }`.
   * @returns The rows (an empty array when there are none).
   * @throws {PostgresError} (a subclass for the SQLSTATE) when the server rejects the query.
   * @throws {TypeError} for a wrong number of parameters or a value that cannot be sent.
   * @throws {CancelledError} when the signal aborts: the query is cancelled on the server first.
   * @throws {TimeoutError} when `timeout` passes: the query is cancelled on the server first.
   *
   * @example Rows as objects
   * ```ts
   * import { connect } from 'tsaio/pg';
   * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
   * const rows = await conn.fetch('SELECT n, n * 2 AS twice FROM generate_series(1, $1::int) AS n', 2);
   * console.log(rows); // [ { n: 1, twice: 2 }, { n: 2, twice: 4 } ]
   * ```
   */
  async fetch<R extends Row = Row>(sql: string, ...args: unknown[]): Promise<R[]> {
    const where = `${this._kind()}.fetch`;
    const { params, opts } = splitArgs(args, where);
    const res = await this._request(where, { text: checkSql(sql, where), params, mode: 'rows', where }, opts);
    return res.rows as R[];
  }

  /**
   * Runs a query and resolves to its first row, or `null` when it returned
   * none. Same as `asyncpg.Connection.fetchrow`.
   *
   * @param sql The query.
   * @param args The parameters, then optionally `{ signal, timeout }`.
   * @returns The first row, or `null`.
   * @throws {PostgresError} when the server rejects the query (see `fetch` for the rest).
   *
   * @example One row
   * ```ts
   * import { connect } from 'tsaio/pg';
   * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
   * console.log(await conn.fetchrow('SELECT $1::text AS name', 'John')); // { name: 'John' }
   * console.log(await conn.fetchrow('SELECT 1 WHERE false')); // null
   * ```
   */
  async fetchrow<R extends Row = Row>(sql: string, ...args: unknown[]): Promise<R | null> {
    const where = `${this._kind()}.fetchrow`;
    const { params, opts } = splitArgs(args, where);
    const res = await this._request(where, { text: checkSql(sql, where), params, mode: 'rows', where }, opts);
    return (res.rows[0] as R | undefined) ?? null;
  }

  /**
   * Runs a query and resolves to one value of its first row: the column
   * given by `column` (an index, default 0, or a name), or `null` when
   * there is no row. Same as `asyncpg.Connection.fetchval`.
   *
   * @param sql The query.
   * @param args The parameters, then optionally `{ column, signal, timeout }`.
   * @returns The value, or `null`.
   * @throws {RangeError} when the column does not exist in the result.
   * @throws {PostgresError} when the server rejects the query (see `fetch` for the rest).
   *
   * @example A count
   * ```ts
   * import { connect } from 'tsaio/pg';
   * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
   * console.log(await conn.fetchval('SELECT count(*) FROM generate_series(1, 10)')); // 10n (int8 is a bigint)
   * console.log(await conn.fetchval('SELECT 1 AS a, 2 AS b', { column: 'b' })); // 2
   * ```
   */
  async fetchval<V = unknown>(sql: string, ...args: unknown[]): Promise<V | null> {
    const where = `${this._kind()}.fetchval`;
    const { params, opts } = splitArgs<FetchvalOptions>(args, where);
    const column = checkColumn(opts.column, where);
    const res = await this._request(
      where,
      { text: checkSql(sql, where), params, mode: 'arrays', where },
      opts,
    );
    return pickValue<V>(res, column, where);
  }

  /**
   * Runs a command and resolves to its status string, as asyncpg does
   * (`'INSERT 0 1'`, `'UPDATE 3'`, `'CREATE TABLE'`). Without parameters
   * the text may hold several statements (the simple query protocol); the
   * status is the last one's. Same as `asyncpg.Connection.execute`.
   *
   * @param sql The command.
   * @param args The parameters, then optionally `{ signal, timeout }`.
   * @returns The status string.
   * @throws {PostgresError} when the server rejects the command (see `fetch` for the rest).
   *
   * @example Insert
   * ```ts
   * import { connect } from 'tsaio/pg';
   * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
   * await conn.execute('CREATE TEMP TABLE users (name text, email text)');
   * console.log(await conn.execute('INSERT INTO users(name, email) VALUES($1, $2)', 'John Doe', 'john@example.com')); // INSERT 0 1
   * ```
   */
  async execute(sql: string, ...args: unknown[]): Promise<string> {
    const where = `${this._kind()}.execute`;
    const { params, opts } = splitArgs(args, where);
    const res = await this._request(
      where,
      { text: checkSql(sql, where), params, mode: 'status', where },
      opts,
    );
    return res.status;
  }

  /**
   * Runs a command once per parameter list, all or nothing: outside a
   * transaction the runs are wrapped in one (as asyncpg ≥ 0.22 does), so a
   * failure leaves none of them applied. Same as
   * `asyncpg.Connection.executemany`.
   *
   * @param sql The command.
   * @param argsList One array of parameters per run.
   * @param opts `{ signal, timeout }` for the whole batch.
   * @throws {TypeError} when `argsList` is not an array of arrays.
   * @throws {PostgresError} when the server rejects a run (nothing of the batch is kept).
   *
   * @example Many inserts
   * ```ts
   * import { connect } from 'tsaio/pg';
   * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
   * await conn.execute('CREATE TEMP TABLE t (n int)');
   * await conn.executemany('INSERT INTO t VALUES ($1)', [[1], [2], [3]]);
   * console.log(await conn.fetchval('SELECT sum(n)::int FROM t')); // 6
   * ```
   */
  async executemany(
    sql: string,
    argsList: readonly (readonly unknown[])[],
    opts: QueryOptions = {},
  ): Promise<void> {
    const where = `${this._kind()}.executemany`;
    const text = checkSql(sql, where);
    if (!Array.isArray(argsList) || !argsList.every((a) => Array.isArray(a))) {
      throw new TypeError(
        `${where}: argsList must be an array of parameter arrays, received ${describe(argsList)}`,
      );
    }
    checkOptions(opts, where);
    const scope = scopeFor(where, opts, this._defaultTimeout());
    await inScope(scope, () =>
      this._use(where, scope, (conn) =>
        conn._executemany({ text, params: [], mode: 'status', where }, argsList, scope),
      ),
    );
  }

  /** @internal The class name used in error messages. */
  abstract _kind(): string;
}

/** A statement prepared once and run many times, a cursor, and transactions: what one connection offers. */
export abstract class ConnectionLike extends Queryable {
  /** @internal A new, not yet started, transaction (or savepoint) on this handle. */
  abstract _newTransaction(opts: TransactionOptions): Transaction;

  /**
   * Prepares a statement on the server (Parse + Describe): syntax errors and
   * unknown names surface here, and each run sends only the parameters.
   * Same as `asyncpg.Connection.prepare`.
   *
   * @param sql The statement, with `$1, $2, ...` parameters.
   * @param opts `{ signal, timeout }`.
   * @returns The prepared statement, usable while this connection is.
   * @throws {PostgresError} when the server rejects the statement.
   *
   * @example Prepare once, run twice
   * ```ts
   * import { connect } from 'tsaio/pg';
   * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
   * const stmt = await conn.prepare('SELECT $1::int * 2 AS twice');
   * console.log(await stmt.fetchval(2), await stmt.fetchval(21)); // 4 42
   * ```
   */
  async prepare(sql: string, opts: QueryOptions = {}): Promise<PreparedStatement> {
    const where = `${this._kind()}.prepare`;
    const text = checkSql(sql, where);
    checkOptions(opts, where);
    const scope = scopeFor(where, opts, this._defaultTimeout());
    const statement = await inScope(scope, () =>
      this._use(where, scope, (conn) => conn._prepare(text, scope)),
    );
    return new PreparedStatement(this, text, statement);
  }

  /**
   * A server-side cursor over a query's rows, read `prefetch` rows at a time
   * by `for await`, or in chunks with `fetch(n)`. It must be used inside a
   * transaction, as in asyncpg. Same as `asyncpg.Connection.cursor`.
   *
   * @param sql The query.
   * @param args The parameters, then optionally `{ prefetch, signal, timeout }`.
   * @returns The cursor (opened on first use).
   *
   * @example Iterate in a transaction
   * ```ts
   * import { connect } from 'tsaio/pg';
   * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
   * await conn.transaction(async (tx) => {
   *   let sum = 0;
   *   for await (const row of tx.cursor('SELECT n FROM generate_series(1, $1::int) AS n', 1000, { prefetch: 100 })) sum += row.n as number;
   *   console.log(sum); // 500500
   * });
   * ```
   */
  cursor<R extends Row = Row>(sql: string, ...args: unknown[]): Cursor<R> {
    const where = `${this._kind()}.cursor`;
    const { params, opts } = splitArgs<CursorOptions>(args, where, CURSOR_KEYS);
    const prefetch = opts.prefetch ?? 50;
    if (!Number.isInteger(prefetch) || prefetch < 1) {
      throw new RangeError(`${where}: prefetch must be a positive integer, received ${describe(prefetch)}`);
    }
    return new Cursor<R>(this, checkSql(sql, where), params, prefetch, opts);
  }

  /**
   * Starts a transaction — a savepoint when one is already open on this
   * connection — and resolves to it; commit it with `commit()`. Disposing it
   * (`await using`) rolls it back unless it was committed. Same as
   * `asyncpg.Connection.transaction`.
   *
   * @param opts `{ isolation, readonly, deferrable, signal }`.
   * @returns The started transaction.
   * @throws {InvalidStateError} for isolation options on a nested transaction.
   *
   * @example await using, and the callback form
   * ```ts
   * import { connect } from 'tsaio/pg';
   * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
   * await conn.execute('CREATE TEMP TABLE t (n int)');
   * {
   *   await using tx = await conn.transaction({ isolation: 'serializable' });
   *   await tx.execute('INSERT INTO t VALUES (1)');
   *   await tx.commit();
   * }
   * const n = await conn.transaction(async (tx) => {
   *   await tx.execute('INSERT INTO t VALUES (2)');
   *   return tx.fetchval('SELECT count(*)::int FROM t');
   * }); // committed when the body returns, rolled back if it throws
   * console.log(n); // 2
   * ```
   */
  transaction(opts?: TransactionOptions): Promise<Transaction>;
  /**
   * Runs `body` in a transaction (a savepoint when one is open): commits
   * when it returns, rolls back when it throws, and resolves to what it
   * returned.
   *
   * @param body Receives the transaction, whose query methods run in it.
   * @param opts `{ isolation, readonly, deferrable, signal }`.
   */
  transaction<T>(body: (tx: Transaction) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  async transaction<T>(
    bodyOrOpts?: ((tx: Transaction) => Promise<T>) | TransactionOptions,
    maybeOpts?: TransactionOptions,
  ): Promise<Transaction | T> {
    const where = `${this._kind()}.transaction`;
    const body = typeof bodyOrOpts === 'function' ? bodyOrOpts : null;
    const opts = (body === null ? (bodyOrOpts as TransactionOptions | undefined) : maybeOpts) ?? {};
    if (body !== null) checkFunction(body, where, 'the body');
    const tx = this._newTransaction(opts);
    await tx.start();
    if (body === null) return tx;
    let result: T;
    try {
      result = await body(tx);
    } catch (error) {
      await tx._rollbackAfter(error);
      throw error;
    }
    await tx.commit();
    return result;
  }
}

/** An `InvalidStateError` for a handle that may no longer be used. */
export function unusable(where: string, why: string): InvalidStateError {
  return new InvalidStateError(`${where}: ${why}`);
}
