/**
 * `PreparedStatement`, after `asyncpg.prepared_stmt.PreparedStatement`.
 *
 * @module
 */

import { InvalidStateError } from '../exceptions.js';
import { describe } from '../_lowlevel.js';
import { checkOptions, splitArgs, type FetchvalOptions, type QueryOptions } from './_args.js';
import { checkColumn, inScope, pickValue, scopeFor, type Row } from './_call.js';
import type { ConnectionLike } from './_queryable.js';
import type { Column, QueryRequest, QueryResult, Statement } from './connection.js';

/**
 * A statement parsed once on the server; each run sends only its
 * parameters. Made by `conn.prepare(sql)`, usable while that connection (or
 * pooled connection, or transaction) is. Same as asyncpg's `PreparedStatement`.
 *
 * @example Prepare, inspect, run
 * ```ts
 * import { connect } from 'tsaio/pg';
 * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
 * const stmt = await conn.prepare('SELECT $1::int AS n, $2::text AS s');
 * console.log(stmt.parameterTypes, stmt.columns.map((c) => c.name)); // [ 23, 25 ] [ 'n', 's' ]
 * console.log(await stmt.fetchrow(1, 'one')); // { n: 1, s: 'one' }
 * await stmt.close();
 * ```
 */
export class PreparedStatement {
  private _closed = false;

  /** @internal Use `conn.prepare()`. */
  constructor(
    private readonly _owner: ConnectionLike,
    /** The statement's text. */
    readonly sql: string,
    private readonly _statement: Statement,
  ) {}

  /** The parameters' type OIDs (`23` is int4, `25` text, ...). */
  get parameterTypes(): readonly number[] {
    return this._statement.params;
  }

  /** The result's columns: name and type OID (empty for a command). */
  get columns(): readonly Column[] {
    return this._statement.fields;
  }

  private _run(where: string, args: readonly unknown[], mode: QueryRequest['mode']): Promise<QueryResult> {
    const { params, opts } = splitArgs<FetchvalOptions>(args, where);
    return this._owner._request(where, this._req(where, params, mode), opts);
  }

  private _req(where: string, params: readonly unknown[], mode: QueryRequest['mode']): QueryRequest {
    if (this._closed) throw new InvalidStateError(`${where}: the statement is closed`);
    return { text: this.sql, params, mode, where, statement: this._statement };
  }

  /** Runs it; resolves to all rows. Same as `PreparedStatement.fetch`. */
  async fetch<R extends Row = Row>(...args: unknown[]): Promise<R[]> {
    return (await this._run('PreparedStatement.fetch', args, 'rows')).rows as R[];
  }

  /** Runs it; resolves to the first row or `null`. */
  async fetchrow<R extends Row = Row>(...args: unknown[]): Promise<R | null> {
    return ((await this._run('PreparedStatement.fetchrow', args, 'rows')).rows[0] as R | undefined) ?? null;
  }

  /** Runs it; resolves to one value of the first row (`{ column }`), or `null`. */
  async fetchval<V = unknown>(...args: unknown[]): Promise<V | null> {
    const where = 'PreparedStatement.fetchval';
    const column = checkColumn(splitArgs<FetchvalOptions>(args, where).opts.column, where);
    return pickValue<V>(await this._run(where, args, 'arrays'), column, where);
  }

  /** Runs it; resolves to the status string (`'INSERT 0 1'`). */
  async execute(...args: unknown[]): Promise<string> {
    return (await this._run('PreparedStatement.execute', args, 'status')).status;
  }

  /** Runs it once per parameter list, all or nothing (see `Connection.executemany`). */
  async executemany(argsList: readonly (readonly unknown[])[], opts: QueryOptions = {}): Promise<void> {
    const where = 'PreparedStatement.executemany';
    if (!Array.isArray(argsList) || !argsList.every((a) => Array.isArray(a))) {
      throw new TypeError(
        `${where}: argsList must be an array of parameter arrays, received ${describe(argsList)}`,
      );
    }
    checkOptions(opts, where);
    const scope = scopeFor(where, opts, this._owner._defaultTimeout());
    const req = this._req(where, [], 'status');
    await inScope(scope, () =>
      this._owner._use(where, scope, (conn) => conn._executemany(req, argsList, scope)),
    );
  }

  /** Drops the statement on the server (`DEALLOCATE`); it cannot run after. */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    await this._owner._use('PreparedStatement.close', null, (conn) =>
      conn._closeStatement(this._statement.name),
    );
  }

  toString(): string {
    return `<PreparedStatement ${JSON.stringify(this.sql)}>`;
  }
}
