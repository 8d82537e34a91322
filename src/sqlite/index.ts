/**
 * `tsaio/sqlite`: aiosqlite for TypeScript — SQLite through better-sqlite3
 * on a worker thread per connection, with Python's transaction rules. This
 * file only re-exports.
 *
 * @module
 */

export {
  Connection,
  connect,
  type CallOptions,
  type ConnectOptions,
  type ExecuteOptions,
  type TransactionOptions,
} from './connection.js';
export { Cursor, type Row, type RowMode } from './cursor.js';
export type { Params } from './_messages.js';
export { DataError, IntegrityError, OperationalError, SqliteError, WorkerCrashedError } from './errors.js';
