/**
 * The errors of `tsaio/pg`, after `asyncpg.exceptions`: one class per
 * common SQLSTATE, under one class per SQLSTATE class (the first two
 * characters), under `PostgresError`. Every error the server sends carries
 * its `code` (the SQLSTATE), `detail`, `hint` and the other fields of
 * PostgreSQL's error report. Cancellation is the core `CancelledError` and a
 * deadline the core `TimeoutError`, never a `QueryCanceledError`.
 *
 * Every class carries the core's `Symbol.for` brand, so `instanceof` holds
 * across two installed copies of tsaio. Unlike the other parts' errors, the
 * `code` is not the class's own: it is each error's SQLSTATE, as in asyncpg
 * (`sqlstate` is the same).
 *
 * @module
 */

import { brand } from '../_lowlevel.js';

/** The fields of PostgreSQL's error report (`ErrorResponse`), as asyncpg names them in camelCase. */
export interface PostgresErrorFields {
  severity?: string | undefined;
  detail?: string | undefined;
  hint?: string | undefined;
  position?: string | undefined;
  internalPosition?: string | undefined;
  internalQuery?: string | undefined;
  where?: string | undefined;
  schemaName?: string | undefined;
  tableName?: string | undefined;
  columnName?: string | undefined;
  dataTypeName?: string | undefined;
  constraintName?: string | undefined;
  routine?: string | undefined;
}

/**
 * An error reported by the PostgreSQL server (or, for connection failures,
 * on its behalf). Same as `asyncpg.PostgresError`. `code` is the SQLSTATE
 * (`'23505'`); the subclasses name the common ones.
 *
 * @example Reading the SQLSTATE, detail and hint
 * ```ts
 * import { connect, PostgresError } from 'tsaio/pg';
 * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
 * try { await conn.execute('SELECT * FROM no_such_table'); }
 * catch (e) { if (e instanceof PostgresError) console.log(e.code, e.message); } // 42P01 relation "no_such_table" does not exist
 * ```
 */
export class PostgresError extends Error implements PostgresErrorFields {
  /** The SQLSTATE, five characters. */
  readonly code: string;
  declare readonly severity?: string | undefined;
  declare readonly detail?: string | undefined;
  declare readonly hint?: string | undefined;
  declare readonly position?: string | undefined;
  declare readonly internalPosition?: string | undefined;
  declare readonly internalQuery?: string | undefined;
  declare readonly where?: string | undefined;
  declare readonly schemaName?: string | undefined;
  declare readonly tableName?: string | undefined;
  declare readonly columnName?: string | undefined;
  declare readonly dataTypeName?: string | undefined;
  declare readonly constraintName?: string | undefined;
  declare readonly routine?: string | undefined;

  constructor(message: string, code: string, fields: PostgresErrorFields = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) Object.defineProperty(this, key, { value, enumerable: true });
    }
  }

  /** The SQLSTATE (asyncpg's name for `code`). */
  get sqlstate(): string {
    return this.code;
  }
}
brand(PostgresError, null, 'pg');

type PostgresErrorClass = new (
  message: string,
  code: string,
  fields?: PostgresErrorFields,
  options?: ErrorOptions,
) => PostgresError;

/**
 * SQLSTATE class 08: the connection failed or was lost. Same as `asyncpg.PostgresConnectionError`.
 *
 * @example
 * ```ts
 * import { PostgresConnectionError, PostgresError } from 'tsaio/pg';
 * const e = new PostgresConnectionError('reported by the server', '08000');
 * console.log(e instanceof PostgresError, e.code); // true 08000
 * ```
 */
export class PostgresConnectionError extends PostgresError {}
brand(PostgresConnectionError, null, 'pg');
/**
 * The connection was closed in the middle of an operation (the server went away, the socket was
 * reset). Same as `asyncpg.ConnectionDoesNotExistError`.
 *
 * @example
 * ```ts
 * import { ConnectionDoesNotExistError, PostgresConnectionError, PostgresError } from 'tsaio/pg';
 * const e = new ConnectionDoesNotExistError('reported by the server', '08003');
 * console.log(e instanceof PostgresConnectionError, e instanceof PostgresError, e.code); // true true 08003
 * ```
 */
export class ConnectionDoesNotExistError extends PostgresConnectionError {}
brand(ConnectionDoesNotExistError, null, 'pg');
/**
 * SQLSTATE class 22: a value is wrong for its type. Same as `asyncpg.DataError`.
 *
 * @example
 * ```ts
 * import { DataError, PostgresError } from 'tsaio/pg';
 * const e = new DataError('reported by the server', '22000');
 * console.log(e instanceof PostgresError, e.code); // true 22000
 * ```
 */
export class DataError extends PostgresError {}
brand(DataError, null, 'pg');
/**
 * 22P02: text that does not parse as the parameter's type (`'abc'` for an int).
 *
 * @example
 * ```ts
 * import { InvalidTextRepresentationError, DataError, PostgresError } from 'tsaio/pg';
 * const e = new InvalidTextRepresentationError('reported by the server', '22P02');
 * console.log(e instanceof DataError, e instanceof PostgresError, e.code); // true true 22P02
 * ```
 */
export class InvalidTextRepresentationError extends DataError {}
brand(InvalidTextRepresentationError, null, 'pg');
/**
 * 22003: a number out of its type's range.
 *
 * @example
 * ```ts
 * import { NumericValueOutOfRangeError, DataError, PostgresError } from 'tsaio/pg';
 * const e = new NumericValueOutOfRangeError('reported by the server', '22003');
 * console.log(e instanceof DataError, e instanceof PostgresError, e.code); // true true 22003
 * ```
 */
export class NumericValueOutOfRangeError extends DataError {}
brand(NumericValueOutOfRangeError, null, 'pg');
/**
 * 22012: division by zero.
 *
 * @example
 * ```ts
 * import { DivisionByZeroError, DataError, PostgresError } from 'tsaio/pg';
 * const e = new DivisionByZeroError('reported by the server', '22012');
 * console.log(e instanceof DataError, e instanceof PostgresError, e.code); // true true 22012
 * ```
 */
export class DivisionByZeroError extends DataError {}
brand(DivisionByZeroError, null, 'pg');
/**
 * SQLSTATE class 23: a constraint was violated. Same as
 * `asyncpg.IntegrityConstraintViolationError`.
 *
 * @example
 * ```ts
 * import { IntegrityConstraintViolationError, PostgresError } from 'tsaio/pg';
 * const e = new IntegrityConstraintViolationError('reported by the server', '23000');
 * console.log(e instanceof PostgresError, e.code); // true 23000
 * ```
 */
export class IntegrityConstraintViolationError extends PostgresError {}
brand(IntegrityConstraintViolationError, null, 'pg');
/**
 * 23502: NULL in a NOT NULL column.
 *
 * @example
 * ```ts
 * import { NotNullViolationError, IntegrityConstraintViolationError, PostgresError } from 'tsaio/pg';
 * const e = new NotNullViolationError('reported by the server', '23502');
 * console.log(e instanceof IntegrityConstraintViolationError, e instanceof PostgresError, e.code); // true true 23502
 * ```
 */
export class NotNullViolationError extends IntegrityConstraintViolationError {}
brand(NotNullViolationError, null, 'pg');
/**
 * 23503: a foreign key has no match. Same as `asyncpg.ForeignKeyViolationError`.
 *
 * @example
 * ```ts
 * import { ForeignKeyViolationError, IntegrityConstraintViolationError, PostgresError } from 'tsaio/pg';
 * const e = new ForeignKeyViolationError('reported by the server', '23503');
 * console.log(e instanceof IntegrityConstraintViolationError, e instanceof PostgresError, e.code); // true true 23503
 * ```
 */
export class ForeignKeyViolationError extends IntegrityConstraintViolationError {}
brand(ForeignKeyViolationError, null, 'pg');
/**
 * 23505: a duplicate key. Same as `asyncpg.UniqueViolationError`.
 *
 * @example A duplicate key, with the server's detail
 * ```ts
 * import { connect, UniqueViolationError } from 'tsaio/pg';
 * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
 * await conn.execute('CREATE TEMP TABLE u (id int PRIMARY KEY)');
 * await conn.execute('INSERT INTO u VALUES (1)');
 * try { await conn.execute('INSERT INTO u VALUES ($1)', 1); }
 * catch (e) { if (e instanceof UniqueViolationError) console.log(e.code, e.detail); } // 23505 Key (id)=(1) already exists.
 * ```
 */
export class UniqueViolationError extends IntegrityConstraintViolationError {}
brand(UniqueViolationError, null, 'pg');
/**
 * 23514: a CHECK constraint failed.
 *
 * @example
 * ```ts
 * import { CheckViolationError, IntegrityConstraintViolationError, PostgresError } from 'tsaio/pg';
 * const e = new CheckViolationError('reported by the server', '23514');
 * console.log(e instanceof IntegrityConstraintViolationError, e instanceof PostgresError, e.code); // true true 23514
 * ```
 */
export class CheckViolationError extends IntegrityConstraintViolationError {}
brand(CheckViolationError, null, 'pg');
/**
 * 23P01: an exclusion constraint failed.
 *
 * @example
 * ```ts
 * import { ExclusionViolationError, IntegrityConstraintViolationError, PostgresError } from 'tsaio/pg';
 * const e = new ExclusionViolationError('reported by the server', '23P01');
 * console.log(e instanceof IntegrityConstraintViolationError, e instanceof PostgresError, e.code); // true true 23P01
 * ```
 */
export class ExclusionViolationError extends IntegrityConstraintViolationError {}
brand(ExclusionViolationError, null, 'pg');
/**
 * SQLSTATE class 25: the statement is not allowed in the transaction's state.
 *
 * @example
 * ```ts
 * import { InvalidTransactionStateError, PostgresError } from 'tsaio/pg';
 * const e = new InvalidTransactionStateError('reported by the server', '25000');
 * console.log(e instanceof PostgresError, e.code); // true 25000
 * ```
 */
export class InvalidTransactionStateError extends PostgresError {}
brand(InvalidTransactionStateError, null, 'pg');
/**
 * 25006: a write in a read-only transaction.
 *
 * @example
 * ```ts
 * import { ReadOnlySQLTransactionError, InvalidTransactionStateError, PostgresError } from 'tsaio/pg';
 * const e = new ReadOnlySQLTransactionError('reported by the server', '25006');
 * console.log(e instanceof InvalidTransactionStateError, e instanceof PostgresError, e.code); // true true 25006
 * ```
 */
export class ReadOnlySQLTransactionError extends InvalidTransactionStateError {}
brand(ReadOnlySQLTransactionError, null, 'pg');
/**
 * 25P02: the transaction already failed; only ROLLBACK is accepted until it ends.
 *
 * @example
 * ```ts
 * import { InFailedSQLTransactionError, InvalidTransactionStateError, PostgresError } from 'tsaio/pg';
 * const e = new InFailedSQLTransactionError('reported by the server', '25P02');
 * console.log(e instanceof InvalidTransactionStateError, e instanceof PostgresError, e.code); // true true 25P02
 * ```
 */
export class InFailedSQLTransactionError extends InvalidTransactionStateError {}
brand(InFailedSQLTransactionError, null, 'pg');
/**
 * SQLSTATE class 40: the transaction was rolled back by the server.
 *
 * @example
 * ```ts
 * import { TransactionRollbackError, PostgresError } from 'tsaio/pg';
 * const e = new TransactionRollbackError('reported by the server', '40000');
 * console.log(e instanceof PostgresError, e.code); // true 40000
 * ```
 */
export class TransactionRollbackError extends PostgresError {}
brand(TransactionRollbackError, null, 'pg');
/**
 * 40001: a serialization failure; retry the transaction. Same as `asyncpg.SerializationError`.
 *
 * @example Retrying a serializable transaction
 * ```ts
 * import { connect, SerializationError } from 'tsaio/pg';
 * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
 * for (let attempt = 1; ; attempt++) {
 *   try {
 *     await conn.transaction(async (tx) => tx.execute('SELECT 1'), { isolation: 'serializable' });
 *     break;
 *   } catch (e) {
 *     if (!(e instanceof SerializationError) || attempt === 3) throw e;
 *   }
 * }
 * ```
 */
export class SerializationError extends TransactionRollbackError {}
brand(SerializationError, null, 'pg');
/**
 * 40P01: a deadlock was detected; retry the transaction.
 *
 * @example
 * ```ts
 * import { DeadlockDetectedError, TransactionRollbackError, PostgresError } from 'tsaio/pg';
 * const e = new DeadlockDetectedError('reported by the server', '40P01');
 * console.log(e instanceof TransactionRollbackError, e instanceof PostgresError, e.code); // true true 40P01
 * ```
 */
export class DeadlockDetectedError extends TransactionRollbackError {}
brand(DeadlockDetectedError, null, 'pg');
/**
 * SQLSTATE class 42: a syntax error, or a name that does not exist, or no permission.
 *
 * @example
 * ```ts
 * import { SyntaxOrAccessError, PostgresError } from 'tsaio/pg';
 * const e = new SyntaxOrAccessError('reported by the server', '42000');
 * console.log(e instanceof PostgresError, e.code); // true 42000
 * ```
 */
export class SyntaxOrAccessError extends PostgresError {}
brand(SyntaxOrAccessError, null, 'pg');
/**
 * 42601: a syntax error. Same as `asyncpg.PostgresSyntaxError`.
 *
 * @example
 * ```ts
 * import { PostgresSyntaxError, SyntaxOrAccessError, PostgresError } from 'tsaio/pg';
 * const e = new PostgresSyntaxError('reported by the server', '42601');
 * console.log(e instanceof SyntaxOrAccessError, e instanceof PostgresError, e.code); // true true 42601
 * ```
 */
export class PostgresSyntaxError extends SyntaxOrAccessError {}
brand(PostgresSyntaxError, null, 'pg');
/**
 * 42P01: no such table.
 *
 * @example
 * ```ts
 * import { UndefinedTableError, SyntaxOrAccessError, PostgresError } from 'tsaio/pg';
 * const e = new UndefinedTableError('reported by the server', '42P01');
 * console.log(e instanceof SyntaxOrAccessError, e instanceof PostgresError, e.code); // true true 42P01
 * ```
 */
export class UndefinedTableError extends SyntaxOrAccessError {}
brand(UndefinedTableError, null, 'pg');
/**
 * 42703: no such column.
 *
 * @example
 * ```ts
 * import { UndefinedColumnError, SyntaxOrAccessError, PostgresError } from 'tsaio/pg';
 * const e = new UndefinedColumnError('reported by the server', '42703');
 * console.log(e instanceof SyntaxOrAccessError, e instanceof PostgresError, e.code); // true true 42703
 * ```
 */
export class UndefinedColumnError extends SyntaxOrAccessError {}
brand(UndefinedColumnError, null, 'pg');
/**
 * 42883: no such function (or operator) for these argument types.
 *
 * @example
 * ```ts
 * import { UndefinedFunctionError, SyntaxOrAccessError, PostgresError } from 'tsaio/pg';
 * const e = new UndefinedFunctionError('reported by the server', '42883');
 * console.log(e instanceof SyntaxOrAccessError, e instanceof PostgresError, e.code); // true true 42883
 * ```
 */
export class UndefinedFunctionError extends SyntaxOrAccessError {}
brand(UndefinedFunctionError, null, 'pg');
/**
 * 42804: a value of the wrong type.
 *
 * @example
 * ```ts
 * import { DatatypeMismatchError, SyntaxOrAccessError, PostgresError } from 'tsaio/pg';
 * const e = new DatatypeMismatchError('reported by the server', '42804');
 * console.log(e instanceof SyntaxOrAccessError, e instanceof PostgresError, e.code); // true true 42804
 * ```
 */
export class DatatypeMismatchError extends SyntaxOrAccessError {}
brand(DatatypeMismatchError, null, 'pg');
/**
 * 42501: no permission.
 *
 * @example
 * ```ts
 * import { InsufficientPrivilegeError, SyntaxOrAccessError, PostgresError } from 'tsaio/pg';
 * const e = new InsufficientPrivilegeError('reported by the server', '42501');
 * console.log(e instanceof SyntaxOrAccessError, e instanceof PostgresError, e.code); // true true 42501
 * ```
 */
export class InsufficientPrivilegeError extends SyntaxOrAccessError {}
brand(InsufficientPrivilegeError, null, 'pg');
/**
 * SQLSTATE class 53: the server is out of a resource.
 *
 * @example
 * ```ts
 * import { InsufficientResourcesError, PostgresError } from 'tsaio/pg';
 * const e = new InsufficientResourcesError('reported by the server', '53000');
 * console.log(e instanceof PostgresError, e.code); // true 53000
 * ```
 */
export class InsufficientResourcesError extends PostgresError {}
brand(InsufficientResourcesError, null, 'pg');
/**
 * 53300: the server has no connection slot left.
 *
 * @example
 * ```ts
 * import { TooManyConnectionsError, InsufficientResourcesError, PostgresError } from 'tsaio/pg';
 * const e = new TooManyConnectionsError('reported by the server', '53300');
 * console.log(e instanceof InsufficientResourcesError, e instanceof PostgresError, e.code); // true true 53300
 * ```
 */
export class TooManyConnectionsError extends InsufficientResourcesError {}
brand(TooManyConnectionsError, null, 'pg');
/**
 * 55P03: a lock could not be taken (`NOWAIT`, `lock_timeout`).
 *
 * @example
 * ```ts
 * import { LockNotAvailableError, PostgresError } from 'tsaio/pg';
 * const e = new LockNotAvailableError('reported by the server', '55P03');
 * console.log(e instanceof PostgresError, e.code); // true 55P03
 * ```
 */
export class LockNotAvailableError extends PostgresError {}
brand(LockNotAvailableError, null, 'pg');
/**
 * SQLSTATE class 57: an operator stopped the work (shutdown, `pg_terminate_backend`).
 *
 * @example
 * ```ts
 * import { OperatorInterventionError, PostgresError } from 'tsaio/pg';
 * const e = new OperatorInterventionError('reported by the server', '57000');
 * console.log(e instanceof PostgresError, e.code); // true 57000
 * ```
 */
export class OperatorInterventionError extends PostgresError {}
brand(OperatorInterventionError, null, 'pg');
/**
 * 57P01: the server ended the session (`pg_terminate_backend`, a fast shutdown). The connection is
 * gone. Same as `asyncpg.AdminShutdownError`.
 *
 * @example
 * ```ts
 * import { AdminShutdownError, OperatorInterventionError, PostgresError } from 'tsaio/pg';
 * const e = new AdminShutdownError('reported by the server', '57P01');
 * console.log(e instanceof OperatorInterventionError, e instanceof PostgresError, e.code); // true true 57P01
 * ```
 */
export class AdminShutdownError extends OperatorInterventionError {}
brand(AdminShutdownError, null, 'pg');
/**
 * 57P02: the server crashed and ended every session.
 *
 * @example
 * ```ts
 * import { CrashShutdownError, OperatorInterventionError, PostgresError } from 'tsaio/pg';
 * const e = new CrashShutdownError('reported by the server', '57P02');
 * console.log(e instanceof OperatorInterventionError, e instanceof PostgresError, e.code); // true true 57P02
 * ```
 */
export class CrashShutdownError extends OperatorInterventionError {}
brand(CrashShutdownError, null, 'pg');
/**
 * 57P03: the server is starting up or shutting down and accepts no connection.
 *
 * @example
 * ```ts
 * import { CannotConnectNowError, OperatorInterventionError, PostgresError } from 'tsaio/pg';
 * const e = new CannotConnectNowError('reported by the server', '57P03');
 * console.log(e instanceof OperatorInterventionError, e instanceof PostgresError, e.code); // true true 57P03
 * ```
 */
export class CannotConnectNowError extends OperatorInterventionError {}
brand(CannotConnectNowError, null, 'pg');

const BY_CODE: Record<string, PostgresErrorClass> = {
  '22P02': InvalidTextRepresentationError,
  '22003': NumericValueOutOfRangeError,
  '22012': DivisionByZeroError,
  '23502': NotNullViolationError,
  '23503': ForeignKeyViolationError,
  '23505': UniqueViolationError,
  '23514': CheckViolationError,
  '23P01': ExclusionViolationError,
  '25006': ReadOnlySQLTransactionError,
  '25P02': InFailedSQLTransactionError,
  '40001': SerializationError,
  '40P01': DeadlockDetectedError,
  '42601': PostgresSyntaxError,
  '42P01': UndefinedTableError,
  '42703': UndefinedColumnError,
  '42883': UndefinedFunctionError,
  '42804': DatatypeMismatchError,
  '42501': InsufficientPrivilegeError,
  '53300': TooManyConnectionsError,
  '55P03': LockNotAvailableError,
  '57P01': AdminShutdownError,
  '57P02': CrashShutdownError,
  '57P03': CannotConnectNowError,
};

const BY_CLASS: Record<string, PostgresErrorClass> = {
  '08': PostgresConnectionError,
  '22': DataError,
  '23': IntegrityConstraintViolationError,
  '25': InvalidTransactionStateError,
  '40': TransactionRollbackError,
  '42': SyntaxOrAccessError,
  '53': InsufficientResourcesError,
  '57': OperatorInterventionError,
};

/** The class for a SQLSTATE: its own, else its SQLSTATE class's, else `PostgresError`. */
export function errorClassFor(code: string): PostgresErrorClass {
  return BY_CODE[code] ?? BY_CLASS[code.slice(0, 2)] ?? PostgresError;
}
