/**
 * The errors of `tsaio/pg`, after `asyncpg.exceptions`: one class per
 * common SQLSTATE, under one class per SQLSTATE class (the first two
 * characters), under `PostgresError`. Every error the server sends carries
 * its `code` (the SQLSTATE), `detail`, `hint` and the other fields of
 * PostgreSQL's error report. Cancellation is the core `CancelledError` and a
 * deadline the core `TimeoutError`, never a `QueryCanceledError`.
 *
 * @module
 */

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

type PostgresErrorClass = new (
  message: string,
  code: string,
  fields?: PostgresErrorFields,
  options?: ErrorOptions,
) => PostgresError;

/** SQLSTATE class 08: the connection failed or was lost. Same as `asyncpg.PostgresConnectionError`. */
export class PostgresConnectionError extends PostgresError {}
/**
 * The connection was closed in the middle of an operation (the server went
 * away, the socket was reset). Same as `asyncpg.ConnectionDoesNotExistError`.
 */
export class ConnectionDoesNotExistError extends PostgresConnectionError {}
/** SQLSTATE class 22: a value is wrong for its type. Same as `asyncpg.DataError`. */
export class DataError extends PostgresError {}
/** 22P02: text that does not parse as the parameter's type (`'abc'` for an int). */
export class InvalidTextRepresentationError extends DataError {}
/** 22003: a number out of its type's range. */
export class NumericValueOutOfRangeError extends DataError {}
/** 22012: division by zero. */
export class DivisionByZeroError extends DataError {}
/** SQLSTATE class 23: a constraint was violated. Same as `asyncpg.IntegrityConstraintViolationError`. */
export class IntegrityConstraintViolationError extends PostgresError {}
/** 23502: NULL in a NOT NULL column. */
export class NotNullViolationError extends IntegrityConstraintViolationError {}
/** 23503: a foreign key has no match. Same as `asyncpg.ForeignKeyViolationError`. */
export class ForeignKeyViolationError extends IntegrityConstraintViolationError {}
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
/** 23514: a CHECK constraint failed. */
export class CheckViolationError extends IntegrityConstraintViolationError {}
/** 23P01: an exclusion constraint failed. */
export class ExclusionViolationError extends IntegrityConstraintViolationError {}
/** SQLSTATE class 25: the statement is not allowed in the transaction's state. */
export class InvalidTransactionStateError extends PostgresError {}
/** 25006: a write in a read-only transaction. */
export class ReadOnlySQLTransactionError extends InvalidTransactionStateError {}
/** 25P02: the transaction already failed; only ROLLBACK is accepted until it ends. */
export class InFailedSQLTransactionError extends InvalidTransactionStateError {}
/** SQLSTATE class 40: the transaction was rolled back by the server. */
export class TransactionRollbackError extends PostgresError {}
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
/** 40P01: a deadlock was detected; retry the transaction. */
export class DeadlockDetectedError extends TransactionRollbackError {}
/** SQLSTATE class 42: a syntax error, or a name that does not exist, or no permission. */
export class SyntaxOrAccessError extends PostgresError {}
/** 42601: a syntax error. Same as `asyncpg.PostgresSyntaxError`. */
export class PostgresSyntaxError extends SyntaxOrAccessError {}
/** 42P01: no such table. */
export class UndefinedTableError extends SyntaxOrAccessError {}
/** 42703: no such column. */
export class UndefinedColumnError extends SyntaxOrAccessError {}
/** 42883: no such function (or operator) for these argument types. */
export class UndefinedFunctionError extends SyntaxOrAccessError {}
/** 42804: a value of the wrong type. */
export class DatatypeMismatchError extends SyntaxOrAccessError {}
/** 42501: no permission. */
export class InsufficientPrivilegeError extends SyntaxOrAccessError {}
/** SQLSTATE class 53: the server is out of a resource. */
export class InsufficientResourcesError extends PostgresError {}
/** 53300: the server has no connection slot left. */
export class TooManyConnectionsError extends InsufficientResourcesError {}
/** 55P03: a lock could not be taken (`NOWAIT`, `lock_timeout`). */
export class LockNotAvailableError extends PostgresError {}
/** SQLSTATE class 57: an operator stopped the work (shutdown, `pg_terminate_backend`). */
export class OperatorInterventionError extends PostgresError {}
/**
 * 57P01: the server ended the session (`pg_terminate_backend`, a fast
 * shutdown). The connection is gone. Same as `asyncpg.AdminShutdownError`.
 */
export class AdminShutdownError extends OperatorInterventionError {}
/** 57P02: the server crashed and ended every session. */
export class CrashShutdownError extends OperatorInterventionError {}
/** 57P03: the server is starting up or shutting down and accepts no connection. */
export class CannotConnectNowError extends OperatorInterventionError {}

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
