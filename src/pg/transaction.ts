/**
 * `Transaction`, after `asyncpg.transaction.Transaction`: `BEGIN` ...
 * `COMMIT`/`ROLLBACK`, or a savepoint when a transaction is already open on
 * the connection.
 *
 * @module
 */

import { InvalidStateError } from '../exceptions.js';
import { checkSignal, describe } from '../_lowlevel.js';
import { inScope, scopeFor } from './_call.js';
import { ConnectionLike } from './_queryable.js';
import type { Scope } from './_scope.js';
import type { Connection, QueryResult } from './connection.js';
import { InFailedSQLTransactionError } from './errors.js';

/** An isolation level, as asyncpg spells it. */
export type IsolationLevel = 'read_committed' | 'repeatable_read' | 'serializable' | 'read_uncommitted';

/** Options of `transaction()`. */
export interface TransactionOptions {
  /** The isolation level (default: the server's, normally read committed). */
  isolation?: IsolationLevel;
  /** `READ ONLY` (default false). */
  readonly?: boolean;
  /** `DEFERRABLE` (default false; only for serializable read-only transactions). */
  deferrable?: boolean;
  /** Aborting it cancels `BEGIN`; a started transaction is ended by `commit`, `rollback` or disposal. */
  signal?: AbortSignal;
}

const LEVELS: Record<IsolationLevel, string> = {
  read_committed: 'READ COMMITTED',
  repeatable_read: 'REPEATABLE READ',
  serializable: 'SERIALIZABLE',
  read_uncommitted: 'READ UNCOMMITTED',
};

type State = 'new' | 'started' | 'committed' | 'rolled back';

/** `BEGIN ...` for `opts`, checked. */
function beginStatement(opts: TransactionOptions, where: string): string {
  let sql = 'BEGIN';
  if (opts.isolation !== undefined) {
    const level = LEVELS[opts.isolation];
    if (level === undefined) {
      throw new RangeError(
        `${where}: isolation must be one of ${Object.keys(LEVELS).join(', ')}, received ${describe(opts.isolation)}`,
      );
    }
    sql += ` ISOLATION LEVEL ${level}`;
  }
  if (opts.readonly === true) sql += ' READ ONLY';
  if (opts.deferrable === true) sql += ' DEFERRABLE';
  return sql;
}

/**
 * A transaction, or a savepoint inside one. Its query methods run on its
 * connection; once it is committed or rolled back they throw
 * `InvalidStateError`. Disposing it (`await using`) rolls it back unless it
 * was committed: a block that throws can never commit by accident (the
 * disposer cannot see the error, so it never commits). Same as
 * `asyncpg.transaction.Transaction`.
 *
 * @example Savepoints
 * ```ts
 * import { connect } from 'tsaio/pg';
 * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
 * await conn.execute('CREATE TEMP TABLE t (n int)');
 * await conn.transaction(async (tx) => {
 *   await tx.execute('INSERT INTO t VALUES (1)');
 *   await tx.transaction(async (inner) => {
 *     await inner.execute('INSERT INTO t VALUES (2)');
 *     throw new Error('undo the savepoint only');
 *   }).catch(() => {});
 * });
 * console.log(await conn.fetchval('SELECT array_agg(n) FROM t')); // [ 1 ]
 * ```
 */
export class Transaction extends ConnectionLike implements AsyncDisposable {
  private _state: State = 'new';
  private _savepoint: string | null = null;

  /** @internal Use `conn.transaction()`. */
  constructor(
    private readonly _owner: ConnectionLike,
    private readonly _conn: Connection,
    private readonly _opts: TransactionOptions,
  ) {
    super();
    if (_opts === null || typeof _opts !== 'object') {
      throw new TypeError(`transaction: options must be an object, received ${describe(_opts)}`);
    }
    checkSignal(_opts.signal, 'transaction');
  }

  /** True for a savepoint (a transaction opened inside another). */
  get nested(): boolean {
    return this._savepoint !== null;
  }

  /** `'new'`, `'started'`, `'committed'` or `'rolled back'`. */
  get state(): State {
    return this._state;
  }

  /** Sends `BEGIN` (or `SAVEPOINT`). `conn.transaction()` calls it for you. */
  async start(): Promise<void> {
    const where = 'Transaction.start';
    if (this._state !== 'new')
      throw new InvalidStateError(`${where}: the transaction is already ${this._state}`);
    const stack = this._conn._transactions;
    let sql: string;
    if (stack.length > 0) {
      const { isolation, readonly, deferrable } = this._opts;
      if (isolation !== undefined || readonly !== undefined || deferrable !== undefined) {
        throw new InvalidStateError(
          `${where}: a nested transaction is a savepoint and takes no isolation, readonly or deferrable option`,
        );
      }
      this._savepoint = `tsaio_savepoint_${stack.length}`;
      sql = `SAVEPOINT ${this._savepoint}`;
    } else {
      if (this._conn.isInTransaction()) {
        throw new InvalidStateError(`${where}: a transaction was started by hand (BEGIN) on this connection`);
      }
      sql = beginStatement(this._opts, where);
    }
    const scope = scopeFor(where, { signal: this._opts.signal }, null);
    await inScope(scope, () => this._control(where, sql, scope));
    this._state = 'started';
    stack.push(this);
  }

  /**
   * Commits (or releases the savepoint).
   *
   * @throws {InFailedSQLTransactionError} when a statement in it had failed: the server rolled it back instead.
   * @throws {InvalidStateError} when it is not started, or a nested transaction in it is still open.
   */
  async commit(): Promise<void> {
    const where = 'Transaction.commit';
    this._checkInnermost(where);
    const sql = this._savepoint === null ? 'COMMIT' : `RELEASE SAVEPOINT ${this._savepoint}`;
    let result: QueryResult;
    try {
      result = await this._control(where, sql, null);
    } catch (error) {
      this._end('rolled back');
      throw error;
    }
    if (result.status === 'ROLLBACK') {
      this._end('rolled back');
      throw new InFailedSQLTransactionError(
        `${where}: the transaction was rolled back, not committed: a statement in it had failed`,
        '25P02',
      );
    }
    this._end('committed');
  }

  /** Rolls back (to the savepoint, for a nested transaction). */
  async rollback(): Promise<void> {
    const where = 'Transaction.rollback';
    this._checkInnermost(where);
    const name = this._savepoint;
    const sql = name === null ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`;
    try {
      await this._control(where, sql, null);
    } finally {
      this._end('rolled back');
    }
  }

  /** @internal Rolls back after `error` ended the body: a lost connection needs nothing, and `error` stays the one thrown. */
  async _rollbackAfter(_error: unknown): Promise<void> {
    if (this._state !== 'started') return;
    if (this._conn._unusable('rollback') !== null) {
      this._end('rolled back');
      return;
    }
    try {
      await this.rollback();
    } catch {
      // The body's error is the one to report; a failed rollback leaves the server to roll back.
    }
  }

  /** Rolls back unless committed. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this._rollbackAfter(null);
  }

  /** @internal */
  _use<T>(where: string, scope: Scope | null, fn: (conn: Connection) => Promise<T>): Promise<T> {
    if (this._state !== 'started') {
      return Promise.reject(new InvalidStateError(`${where}: the transaction is ${this._state}`));
    }
    return this._owner._use(where, scope, fn);
  }

  /** @internal */
  _defaultTimeout(): number | null {
    return this._owner._defaultTimeout();
  }

  /** @internal */
  _kind(): string {
    return 'Transaction';
  }

  /** @internal */
  _newTransaction(opts: TransactionOptions): Transaction {
    return new Transaction(this, this._conn, opts);
  }

  private _control(where: string, text: string, scope: Scope | null): Promise<QueryResult> {
    return this._owner._use(where, scope, (conn) =>
      conn._query({ text, params: [], mode: 'status', where, cache: false }, scope),
    );
  }

  private _checkInnermost(where: string): void {
    if (this._state !== 'started') throw new InvalidStateError(`${where}: the transaction is ${this._state}`);
    const stack = this._conn._transactions;
    if (stack[stack.length - 1] !== this) {
      throw new InvalidStateError(`${where}: a nested transaction inside this one is still open`);
    }
  }

  private _end(state: State): void {
    this._state = state;
    const stack = this._conn._transactions;
    const at = stack.indexOf(this);
    if (at >= 0) stack.splice(at);
  }

  override toString(): string {
    return `<Transaction ${this._state}${this._savepoint ? ` savepoint=${this._savepoint}` : ''}>`;
  }
}
