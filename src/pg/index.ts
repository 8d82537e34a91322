/**
 * `tsaio/pg`: asyncpg for TypeScript — connections, a pool, transactions
 * with savepoints, prepared statements and cursors on node-postgres, with
 * cancellation that stops the query on the server. This file only
 * re-exports.
 *
 * @module
 */

export { Connection, connect, type Column, type ConnectOptions } from './connection.js';
export { Pool, PoolConnection, createPool, type AcquireOptions, type PoolOptions } from './pool.js';
export { Transaction, type IsolationLevel, type TransactionOptions } from './transaction.js';
export { PreparedStatement } from './statement.js';
export { Cursor } from './cursor.js';
export type { Row } from './_call.js';
export type { CursorOptions, FetchvalOptions, QueryOptions } from './_args.js';
export {
  AdminShutdownError,
  CannotConnectNowError,
  CheckViolationError,
  ConnectionDoesNotExistError,
  CrashShutdownError,
  DataError,
  DatatypeMismatchError,
  DeadlockDetectedError,
  DivisionByZeroError,
  ExclusionViolationError,
  ForeignKeyViolationError,
  InFailedSQLTransactionError,
  InsufficientPrivilegeError,
  InsufficientResourcesError,
  IntegrityConstraintViolationError,
  InvalidTextRepresentationError,
  InvalidTransactionStateError,
  LockNotAvailableError,
  NotNullViolationError,
  NumericValueOutOfRangeError,
  OperatorInterventionError,
  PostgresConnectionError,
  PostgresError,
  PostgresSyntaxError,
  ReadOnlySQLTransactionError,
  SerializationError,
  SyntaxOrAccessError,
  TooManyConnectionsError,
  TransactionRollbackError,
  UndefinedColumnError,
  UndefinedFunctionError,
  UndefinedTableError,
  UniqueViolationError,
  type PostgresErrorFields,
} from './errors.js';
