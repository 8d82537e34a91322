/**
 * `connect` and `Connection`, after `asyncpg.connect` and
 * `asyncpg.Connection`, on a node-postgres `Client`.
 *
 * Every statement goes through `Connection._query`: one at a time per
 * connection (later calls wait their turn, FIFO), a signal or timeout sends
 * PostgreSQL's cancel request and waits for it before the next statement
 * runs, and the server's errors become typed `PostgresError`s.
 *
 * @module
 */

import type { ConnectionOptions } from 'node:tls';
import type { Client, ClientConfig, QueryConfig } from './_client.js';
import { Semaphore, type Held } from '../locks.js';
import { checkCount, debugState, describe, hooks } from '../_lowlevel.js';
import { checkOptions } from './_args.js';
import { inScope, scopeFor } from './_call.js';
import { ConnectionLike, unusable } from './_queryable.js';
import { Scope, scopeError } from './_scope.js';
import { toParam } from './_types.js';
import {
  DescribeStatement,
  connectError,
  connectionLost,
  newClient,
  queryError,
  sendCancelRequest,
  serverError,
  wireOf,
  type Description,
} from './_wire.js';
import { PostgresError } from './errors.js';
import { Transaction, type TransactionOptions } from './transaction.js';

/** Options of `connect` (and of the pool's connections). */
export interface ConnectOptions {
  /** A connection URI, `postgres://user:password@host:port/database?...`. */
  dsn?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** TLS: `true`, or node's `tls.connect` options. */
  ssl?: boolean | ConnectionOptions;
  /** Run-time parameters set at connect (`{ search_path: 'app', application_name: 'worker' }`). */
  serverSettings?: Record<string, string>;
  /** Default timeout of every query on this connection, in ms (default none). */
  commandTimeout?: number | null;
  /** How many statements each connection keeps prepared, least recently used first out (default 100; 0: none). */
  statementCacheSize?: number;
  /** Milliseconds to wait for the connection to open (default 60,000). */
  timeout?: number | null;
  /** Aborting it stops opening the connection. */
  signal?: AbortSignal;
}

/** One query as `_query` runs it. */
export interface QueryRequest {
  text: string;
  params: readonly unknown[];
  /** Rows as objects, rows as arrays, or only the status string. */
  mode: 'rows' | 'arrays' | 'status';
  /** For error messages: `Connection.fetch`. */
  where: string;
  /** A statement prepared with `prepare()`: run it instead of looking `text` up in the cache. */
  statement?: Statement;
  /** Use the statement cache (default true); false for one-off statements such as `DECLARE`. */
  cache?: boolean;
}

/** A result column: its name and its type's OID. */
export interface Column {
  name: string;
  dataTypeID: number;
}

/** What `_query` resolves to. */
export interface QueryResult {
  rows: unknown[];
  fields: Column[];
  /** The command's status string (`'INSERT 0 1'`). */
  status: string;
}

/** A statement prepared on this connection. */
export interface Statement {
  name: string;
  /** Parameter type OIDs. */
  params: number[];
  fields: Column[];
}

/** Statuses of commands that change session state the pool must reset. */
const SESSION_TAGS = /^(SET|RESET|LISTEN|DECLARE CURSOR|PREPARE|DISCARD)\b/;

/** Checks the options a `Connection` reads, before anything is opened. */
export function checkConnectOptions(options: ConnectOptions): {
  cacheSize: number;
  commandTimeout: number | null;
} {
  const cacheSize = checkCount(options.statementCacheSize, 'connect', 'statementCacheSize', 0, 100);
  const timeout = options.commandTimeout;
  if (timeout !== undefined && timeout !== null && (typeof timeout !== 'number' || !(timeout >= 0))) {
    throw new RangeError(
      `connect: commandTimeout must be a number of ms or null, received ${describe(timeout)}`,
    );
  }
  return { cacheSize, commandTimeout: timeout ?? null };
}

/** node-postgres's client config for `opts`. */
export function clientConfig(opts: ConnectOptions): ClientConfig {
  const config: ClientConfig = {};
  if (opts.dsn !== undefined) config.connectionString = opts.dsn;
  if (opts.host !== undefined) config.host = opts.host;
  if (opts.port !== undefined) config.port = opts.port;
  if (opts.user !== undefined) config.user = opts.user;
  if (opts.password !== undefined) config.password = opts.password;
  if (opts.database !== undefined) config.database = opts.database;
  if (opts.ssl !== undefined) config.ssl = opts.ssl;
  if (opts.serverSettings !== undefined) {
    const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/ /g, '\\ ');
    config.options = Object.entries(opts.serverSettings)
      .map(([k, v]) => `-c ${escape(k)}=${escape(String(v))}`)
      .join(' ');
  }
  return config;
}

/** `connect(dsn)` or `connect({ ... })` as one options object. */
export function connectOptions(
  dsnOrOptions: string | ConnectOptions | undefined,
  where: string,
): ConnectOptions {
  if (dsnOrOptions === undefined) return {};
  if (typeof dsnOrOptions === 'string') return { dsn: checkDsn(dsnOrOptions, where) };
  if (dsnOrOptions === null || typeof dsnOrOptions !== 'object') {
    throw new TypeError(
      `${where}: expected a DSN string or an options object, received ${describe(dsnOrOptions)}`,
    );
  }
  if (dsnOrOptions.dsn !== undefined) checkDsn(dsnOrOptions.dsn, where);
  return dsnOrOptions;
}

/**
 * `dsn` if it is a connection URI (`postgres://` or `postgresql://`, as
 * asyncpg takes) that parses, or a socket directory and a database
 * (`/var/run/postgresql test`, node-postgres's form); else a `TypeError` that
 * says the DSN is malformed (node-postgres would read `not a dsn` as host
 * `base` and fail later with `getaddrinfo ENOTFOUND base`).
 */
function checkDsn(dsn: unknown, where: string): string {
  const example = 'postgres://user:password@host:5432/database';
  if (typeof dsn !== 'string') {
    throw new TypeError(`${where}: the DSN must be a string like ${example}, received ${describe(dsn)}`);
  }
  if (dsn.startsWith('/')) return dsn;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(dsn)?.[1]?.toLowerCase();
  let parses = true;
  try {
    new URL(dsn);
  } catch {
    parses = false;
  }
  if ((scheme === 'postgres' || scheme === 'postgresql') && parses) return dsn;
  const why =
    scheme === undefined || !parses
      ? 'it is not a connection URI'
      : `the scheme must be postgres or postgresql, not ${scheme}`;
  throw new TypeError(`${where}: malformed DSN ${JSON.stringify(dsn)}: ${why} (expected ${example})`);
}

/**
 * Opens a connection. Same as `asyncpg.connect`. Without a DSN, node-postgres's
 * defaults apply (`PGHOST`, `PGUSER`, `PGDATABASE`, ... then localhost:5432).
 *
 * @param dsnOrOptions A connection URI or `ConnectOptions`.
 * @param opts `{ signal, timeout }` when the first argument is a DSN.
 * @returns The open connection; close it with `close()` or `await using`.
 * @throws {PostgresConnectionError} when the server cannot be reached (SQLSTATE 08001), or the
 *   server's own error (a wrong database is `3D000`, too many connections `53300`, ...).
 * @throws {TimeoutError} when `timeout` passes first; {CancelledError} when the signal aborts.
 *
 * @example Connect, fetch, execute
 * ```ts
 * import { connect } from 'tsaio/pg';
 * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
 * const rows = await conn.fetch('SELECT $1::int AS id, $2::text AS name', 1, 'John');
 * for (const row of rows) console.log(row.id, row.name); // 1 John
 * ```
 */
export async function connect(
  dsnOrOptions?: string | ConnectOptions,
  opts: { signal?: AbortSignal; timeout?: number | null } = {},
): Promise<Connection> {
  const options = { ...connectOptions(dsnOrOptions, 'connect'), ...opts };
  checkOptions(options, 'connect');
  checkConnectOptions(options);
  const scope = scopeFor('connect', options, 60_000);
  return inScope(scope, () => openConnection(clientConfig(options), options, scope));
}

/** Opens a `Connection` for `config` within `scope` (shared with the pool). */
export async function openConnection(
  config: ClientConfig,
  options: ConnectOptions,
  scope: Scope | null,
): Promise<Connection> {
  const client = newClient(config);
  const target = `${(client as unknown as { host: string }).host}:${client.port}/${client.database ?? ''}`;
  let failure: unknown = null;
  // node-postgres emits 'error' for a failed or lost socket; without a listener it would throw.
  const early = (e: unknown) => (failure ??= e);
  client.on('error', early);
  scope?.onAbort(() => wireOf(client).stream.destroy());
  try {
    scope?.check();
    await client.connect();
    scope?.check();
  } catch (error) {
    wireOf(client).stream.destroy();
    throw scopeError(scope, connectError(failure ?? error, target));
  } finally {
    scope?.onAbort(null);
    client.removeListener('error', early);
  }
  return new Connection(client, options);
}

/**
 * One session with the server. Same as `asyncpg.Connection`. Calls on one
 * connection run one at a time, in call order; for concurrency use several
 * connections or a `Pool`.
 *
 * @example One connection
 * ```ts
 * import { connect } from 'tsaio/pg';
 * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
 * console.log(await conn.fetchval('SELECT 1 + 1')); // 2
 * ```
 */
export class Connection extends ConnectionLike implements AsyncDisposable {
  /** @internal */ readonly _client: Client;
  /** @internal Open transactions and savepoints, outermost first. */
  readonly _transactions: Transaction[] = [];
  /** @internal Statements run since it opened (for the pool's `maxQueries`). */
  _queryCount = 0;
  /** @internal When its pool last made it idle (`now()` units). */
  _idleSince = 0;
  /** @internal A command changed session state (`SET`, `LISTEN`, ...): the pool must reset it. */
  _dirty = false;
  /** @internal Called once when the connection is lost (the pool drops it). */
  _onLost: ((conn: Connection) => void) | null = null;
  private readonly _gate = new Semaphore(1);
  private readonly _cache = new Map<string, Statement>();
  private readonly _cacheSize: number;
  private readonly _commandTimeout: number | null;
  private _statementId = 0;
  private _describing: DescribeStatement | null = null;
  private _status = '';
  private _lost: Error | null = null;
  private _closing: Promise<void> | null = null;

  /** @internal Use `connect()`. */
  constructor(client: Client, options: ConnectOptions) {
    super();
    this._client = client;
    const checked = checkConnectOptions(options);
    this._cacheSize = checked.cacheSize;
    this._commandTimeout = checked.commandTimeout;
    const wire = wireOf(client);
    wire.on('commandComplete', (msg: { text: string }) => (this._status = msg.text));
    wire.on('parameterDescription', (msg: { dataTypeIDs: number[] }) => {
      if (this._describing !== null) this._describing.params = msg.dataTypeIDs;
    });
    client.on('error', (error: unknown) => this._lose(error));
    client.on('end', () => this._lose(new Error('the server closed the connection')));
  }

  /** The server process serving this connection (`pg_backend_pid()`). */
  get pid(): number {
    return (this._client as unknown as { processID: number }).processID;
  }

  /** True once the connection was closed or lost. Same as `asyncpg.Connection.is_closed`. */
  isClosed(): boolean {
    return this._closing !== null || this._lost !== null;
  }

  /** True while a transaction is open on the server. Same as `asyncpg.Connection.is_in_transaction`. */
  isInTransaction(): boolean {
    const status = this._client.getTransactionStatus();
    return status === 'T' || status === 'E';
  }

  /** @internal The server's transaction status after the last statement: `I` idle, `T` open, `E` failed. */
  _txStatus(): string | null {
    return this._client.getTransactionStatus();
  }

  /** @internal Why the connection is unusable, or `null`. */
  _unusable(where: string): Error | null {
    if (this._lost !== null) return this._lost;
    if (this._closing !== null) return unusable(where, 'the connection is closed');
    return null;
  }

  /** @internal */
  _use<T>(where: string, _scope: Scope | null, fn: (conn: Connection) => Promise<T>): Promise<T> {
    const bad = this._unusable(where);
    return bad === null ? fn(this) : Promise.reject(bad);
  }

  /** @internal */
  _defaultTimeout(): number | null {
    return this._commandTimeout;
  }

  /** @internal */
  _kind(): string {
    return 'Connection';
  }

  /** @internal */
  _newTransaction(opts: TransactionOptions): Transaction {
    return new Transaction(this, this, opts);
  }

  /**
   * @internal The one query path: waits for the connection's turn, runs
   * `req`, and on abort sends the cancel request and waits for it before
   * letting the next statement run.
   */
  async _query(req: QueryRequest, scope: Scope | null): Promise<QueryResult> {
    const held = this._gate.tryAcquire() ?? (await this._waitTurn(scope));
    try {
      const bad = this._unusable(req.where);
      if (bad !== null) throw bad;
      scope?.check();
      const running = this._run(req, scope);
      if (debugState.tracing) hooks.wait(running, `pg ${traceLabel(req.text)}`, 'pg');
      return await running;
    } finally {
      held.release();
    }
  }

  /**
   * @internal Pipelined statements in flight on this connection (the pool's
   * lane, `Pool._request`); while above 0, node-postgres runs in pipeline mode
   * and no other statement runs on the connection.
   */
  _laneLoad = 0;
  /** @internal The pool permit the lane holds. */
  _laneHeld: Held | null = null;
  /** @internal When the lane opened or last had a statement answered (`now()` units). */
  _laneAnswered = 0;
  /** The socket holds the lane's writes until the end of this turn (`_runInLane`). */
  private _corked = false;

  /** @internal True when `text` is in the statement cache (prepared on the server). */
  _hasStatement(text: string): boolean {
    return this._cache.has(text);
  }

  /** @internal Starts pipelining (the connection is quiet: no statement in flight). */
  _openLane(held: Held): void {
    this._laneHeld = held;
    this._client.pipeline = true;
  }

  /** @internal The last pipelined statement is answered: back to one at a time; returns the permit. */
  _closeLane(): Held {
    const held = this._laneHeld!;
    this._laneHeld = null;
    this._client.pipeline = false;
    return held;
  }

  /**
   * @internal One statement of the lane: `req`, whose statement is cached,
   * sent behind those already in flight (node-postgres's pipeline mode: each
   * has its own Sync, so an error fails only its own statement). It cannot
   * be cancelled (only calls without a signal or timeout are pipelined, so
   * that a cancel request never reaches another task's statement). Resolves
   * to `null` when the cached statement went stale (the caller runs `req`
   * again, on its own).
   */
  async _runInLane(req: QueryRequest): Promise<QueryResult | null> {
    const bad = this._unusable(req.where);
    if (bad !== null) throw bad;
    const statement = this._cache.get(req.text);
    if (statement === undefined) return null;
    const values = req.params.map((v, i) => toParam(v, req.where, i));
    if (statement.params.length !== values.length) {
      const n = statement.params.length;
      throw new TypeError(
        `${req.where}: the query takes ${n} parameter${n === 1 ? '' : 's'}, received ${values.length}`,
      );
    }
    this._queryCount++;
    const config: QueryConfig = { text: req.text, values, name: statement.name };
    if (req.mode === 'arrays') config.rowMode = 'array';
    if (!this._corked) {
      // The statements pipelined in one turn leave in one write (node-postgres writes each at once).
      this._corked = true;
      const stream = wireOf(this._client).stream;
      stream.cork();
      process.nextTick(() => {
        this._corked = false;
        stream.uncork();
      });
    }
    const running = this._client.query(config);
    if (debugState.tracing) hooks.wait(running, `pg ${traceLabel(req.text)}`, 'pg');
    let result: Awaited<typeof running>;
    try {
      result = await running;
    } catch (error) {
      if (this._stale(error, req)) return null;
      throw this._failure(error);
    }
    // No status: only fetch, fetchrow and fetchval are pipelined, and they do not read it.
    return { rows: result.rows ?? [], fields: result.fields ?? statement.fields, status: '' };
  }

  /** @internal `prepare()`: a statement of its own, outside the cache. */
  async _prepare(text: string, scope: Scope | null): Promise<Statement> {
    const held = this._gate.tryAcquire() ?? (await this._waitTurn(scope));
    try {
      const bad = this._unusable('Connection.prepare');
      if (bad !== null) throw bad;
      return await this._cancellable(scope, () => this._describe(text));
    } finally {
      held.release();
    }
  }

  /** @internal `executemany`: `req` once per parameter list, all in one transaction (its own when none is open). */
  async _executemany(
    req: QueryRequest,
    argsList: readonly (readonly unknown[])[],
    scope: Scope | null,
  ): Promise<void> {
    const own = !this.isInTransaction() && this._transactions.length === 0;
    const control = (text: string) =>
      this._query({ text, params: [], mode: 'status', where: req.where }, scope);
    if (own) await control('BEGIN');
    try {
      for (const params of argsList) await this._query({ ...req, params }, scope);
      if (own) await control('COMMIT');
    } catch (error) {
      if (own) await this._rollbackQuietly();
      throw error;
    }
  }

  /** @internal Rolls back whatever is open on the server; a lost connection needs nothing. */
  async _rollbackQuietly(): Promise<void> {
    if (this._unusable('rollback') !== null || !this.isInTransaction()) return;
    try {
      await this._query({ text: 'ROLLBACK', params: [], mode: 'status', where: 'rollback' }, null);
    } catch {
      // The connection is lost; the server rolled back.
    }
  }

  private async _waitTurn(scope: Scope | null): Promise<Held> {
    try {
      return await this._gate.acquire(scope === null ? undefined : { signal: scope.signal });
    } catch (error) {
      throw scopeError(scope, error);
    }
  }

  /** Runs `fn` (one exchange with the server); an abort meanwhile sends the cancel request. */
  private _cancellable<T>(scope: Scope | null, fn: () => Promise<T>): Promise<T> {
    return scope === null ? fn() : this._cancellableIn(scope, fn);
  }

  private async _cancellableIn<T>(scope: Scope, fn: () => Promise<T>): Promise<T> {
    const sent: { cancel: Promise<void> | null } = { cancel: null };
    scope.onAbort(() => {
      sent.cancel ??= sendCancelRequest(this._client);
    });
    try {
      const result = await fn();
      scope.check();
      return result;
    } catch (error) {
      throw scopeError(scope, error);
    } finally {
      scope.onAbort(null);
      // The next statement must not start before the cancel request has reached the server.
      if (sent.cancel !== null) await sent.cancel;
    }
  }

  /** Runs `req` (called from `_query`, which turns a bad parameter's throw into its rejection). */
  private _run(req: QueryRequest, scope: Scope | null): Promise<QueryResult> {
    const values = req.params.map((v, i) => toParam(v, req.where, i));
    this._queryCount++;
    return this._cancellable(scope, () => this._exchangeOrRetry(req, values, scope));
  }

  /** `_exchange`, once more if the cached statement went stale. */
  private async _exchangeOrRetry(
    req: QueryRequest,
    values: unknown[],
    scope: Scope | null,
  ): Promise<QueryResult> {
    try {
      return await this._exchange(req, values);
    } catch (error) {
      if (!this._stale(error, req) || scope?.aborted) throw this._failure(error);
      // A cached statement the server no longer knows or whose plan changed: prepare it again, once.
      return await this._exchange(req, values);
    }
  }

  /** One statement: from the cache (described first if new), or unnamed when the cache is off. */
  private async _exchange(req: QueryRequest, values: unknown[]): Promise<QueryResult> {
    const simple = values.length === 0 && req.mode === 'status' && req.statement === undefined;
    const statement = simple ? null : (req.statement ?? this._cacheHit(req) ?? (await this._cached(req)));
    if (statement !== null && statement.params.length !== values.length) {
      const n = statement.params.length;
      throw new TypeError(
        `${req.where}: the query takes ${n} parameter${n === 1 ? '' : 's'}, received ${values.length}`,
      );
    }
    this._status = '';
    const config: QueryConfig = { text: req.text, values };
    if (statement !== null) config.name = statement.name;
    if (req.mode === 'arrays') config.rowMode = 'array';
    let result: { rows: unknown[]; fields: Column[] };
    try {
      result = await this._client.query(config);
    } catch (error) {
      throw this._failure(error);
    }
    if (SESSION_TAGS.test(this._status)) this._dirty = true;
    return {
      rows: result.rows ?? [],
      fields: result.fields ?? statement?.fields ?? [],
      status: this._status,
    };
  }

  /** The cached statement for `req.text`, described on first use; `null` when the cache is off. */
  /** The cached statement for `req.text` (moved to the most recently used end), or `undefined`. */
  private _cacheHit(req: QueryRequest): Statement | undefined {
    const hit = this._cache.get(req.text);
    if (hit !== undefined && req.cache !== false) {
      this._cache.delete(req.text);
      this._cache.set(req.text, hit);
      return hit;
    }
    return undefined;
  }

  /** Describes and caches the statement for `req.text` (a miss); `null` when the cache is off. */
  private async _cached(req: QueryRequest): Promise<Statement | null> {
    if (this._cacheSize === 0 || req.cache === false) return null;
    if (this._cache.size >= this._cacheSize) await this._evictOldest();
    const statement = await this._describe(req.text);
    this._cache.set(req.text, statement);
    return statement;
  }

  private async _evictOldest(): Promise<void> {
    const [text, oldest] = this._cache.entries().next().value as [string, Statement];
    this._cache.delete(text);
    await this._deallocate(oldest.name);
  }

  /** @internal Drops a named statement on the server. */
  async _deallocate(name: string): Promise<void> {
    delete wireOf(this._client).parsedStatements[name];
    try {
      await this._client.query(`DEALLOCATE "${name}"`);
    } catch (error) {
      throw this._failure(error);
    }
  }

  /** @internal Deallocates a prepared statement through the turn order. */
  async _closeStatement(name: string): Promise<void> {
    const held = this._gate.tryAcquire() ?? (await this._gate.acquire());
    try {
      if (this._unusable('PreparedStatement.close') === null) await this._deallocate(name);
    } finally {
      held.release();
    }
  }

  /** Parse + Describe of `text` as a new named statement. */
  private async _describe(text: string): Promise<Statement> {
    const name = `tsaio_${++this._statementId}`;
    const describing = new DescribeStatement(name, text);
    this._describing = describing;
    try {
      void this._client.query(describing as unknown as QueryConfig);
      const d: Description = await describing.promise;
      return { name, params: d.params, fields: d.fields };
    } catch (error) {
      throw this._failure(error);
    } finally {
      this._describing = null;
    }
  }

  /** True when `error` says a cached statement went stale and retrying outside a transaction is safe. */
  private _stale(error: unknown, req: QueryRequest): boolean {
    if (req.statement !== undefined || this.isInTransaction()) return false;
    const typed = error instanceof Error && 'code' in error ? (error as { code: unknown }).code : undefined;
    const stale =
      typed === '26000' ||
      (typed === '0A000' &&
        error instanceof Error &&
        /cached plan must not change result type/.test(error.message));
    if (stale) {
      const hit = this._cache.get(req.text);
      this._cache.delete(req.text);
      if (hit !== undefined) delete wireOf(this._client).parsedStatements[hit.name];
    }
    return stale;
  }

  private _failure(error: unknown): Error {
    const failure = error instanceof PostgresError ? error : queryError(error, this._lost);
    // FATAL and PANIC end the session and the server closes the socket next:
    // the connection is lost now, so no one is handed it in between.
    if (failure instanceof PostgresError && (failure.severity === 'FATAL' || failure.severity === 'PANIC'))
      this._lose(failure);
    return failure;
  }

  private _lose(error: unknown): void {
    if (this._lost !== null || this._closing !== null) return;
    this._lost = error instanceof PostgresError ? error : (serverError(error) ?? connectionLost(error));
    this._onLost?.(this);
  }

  /**
   * Closes the connection: sends Terminate and closes the socket. A
   * statement still running fails with `ConnectionDoesNotExistError`.
   * Closing twice is harmless. Same as `asyncpg.Connection.close`.
   */
  close(): Promise<void> {
    this._closing ??= this._client.end().catch(() => {});
    return this._closing;
  }

  /** Closes the socket at once, without a goodbye. Same as `asyncpg.Connection.terminate`. */
  terminate(): Promise<void> {
    if (this._closing !== null) return this._closing;
    if (this._lost !== null) return (this._closing = Promise.resolve());
    this._closing = new Promise<void>((resolve) => {
      this._client.once('end', () => resolve());
      wireOf(this._client).stream.destroy();
    });
    return this._closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  override toString(): string {
    const state = this._lost
      ? 'lost'
      : this._closing
        ? 'closed'
        : this.isInTransaction()
          ? 'in transaction'
          : 'idle';
    return `<Connection pid=${this.pid} ${state}>`;
  }
}

/** A query as a trace span names it: its first 60 characters, on one line. */
function traceLabel(sql: string): string {
  const line = sql.replace(/\s+/g, ' ').trim();
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}
