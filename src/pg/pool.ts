/**
 * `createPool`, `Pool` and `PoolConnection`, after `asyncpg.create_pool` and
 * `asyncpg.Pool`.
 *
 * @module
 */

import { InvalidStateError } from '../exceptions.js';
import { Semaphore, type Held } from '../locks.js';
import {
  addTimer,
  cancelTimer,
  checkCount,
  checkFunction,
  describe,
  now,
  type Bucket,
  type Runnable,
} from '../_lowlevel.js';
import { checkOptions, type QueryOptions } from './_args.js';
import { inScope, scopeFor } from './_call.js';
import { ConnectionLike, Queryable } from './_queryable.js';
import { Scope, scopeError } from './_scope.js';
import type { ClientConfig } from './_client.js';
import {
  Connection,
  checkConnectOptions,
  type QueryRequest,
  type QueryResult,
  clientConfig,
  connectOptions,
  openConnection,
  type ConnectOptions,
} from './connection.js';
import { Transaction, type TransactionOptions } from './transaction.js';

/** Options of `createPool`: those of `connect`, and the pool's own. */
export interface PoolOptions extends Omit<ConnectOptions, 'signal' | 'timeout'> {
  /** Connections opened by `createPool` (default 10). */
  minSize?: number;
  /** Most connections open at once (default 10). */
  maxSize?: number;
  /** A connection is replaced after this many statements (default 50,000; 0: never). */
  maxQueries?: number;
  /** An idle connection is closed after this many ms (default 300,000; 0: never). */
  maxInactiveConnectionLifetime?: number;
  /** Milliseconds to wait for a new connection to open (default 60,000). */
  connectTimeout?: number;
  /** Runs on every `acquire`, before the connection is handed out. */
  setup?: (conn: PoolConnection) => unknown;
  /** Runs once on every new connection, before it joins the pool (say, to register types or `SET` things). */
  init?: (conn: Connection) => unknown;
}

/** Options of `pool.acquire()`. */
export interface AcquireOptions {
  /** Milliseconds to wait for a connection (a free one, or a new one to open) before `TimeoutError`. */
  timeout?: number | null;
  signal?: AbortSignal;
}

/** A connection taken from the pool, with its permit. */
interface Taken {
  conn: Connection;
  held: Held;
}

/**
 * The statements a pool may pipeline: those that read (`SELECT`, `WITH`,
 * `VALUES`, `TABLE`), which neither open a transaction nor `SET` anything
 * for the statements sent behind them.
 */
const READS = /^\s*(?:select|with|values|table)\b/i;

/**
 * A lane whose last answer is this much older (ms) than the pool's last
 * answer on any lane is running something slow: no statement joins it, so
 * that a long read does not hold up the reads of other tasks behind it
 * while other connections are answering. Measured against the pool's last
 * answer, not the clock, so that a process held up as a whole (a busy
 * machine) does not find every lane stalled.
 */
const LANE_STALL_MS = 20;

/** What `RESET` a connection gets back to the pool with (as asyncpg's `Connection.reset`). */
const RESET = 'SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL';

/**
 * Opens a pool of connections (its `minSize` first ones at once). Same as
 * `asyncpg.create_pool`.
 *
 * @param dsnOrOptions A connection URI, or `PoolOptions` (`dsn` among them).
 * @returns The pool; close it with `close()` or `await using`.
 * @throws What `connect` throws, when the first connections cannot be opened.
 *
 * @example 10 concurrent queries
 * ```ts
 * import { gather } from 'tsaio';
 * import { createPool } from 'tsaio/pg';
 * await using pool = await createPool({ dsn: process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test', minSize: 2, maxSize: 5 });
 * const rows = await gather(Array.from({ length: 10 }, (_, i) => async () => {
 *   await using conn = await pool.acquire({ timeout: 5_000 });
 *   return conn.fetchrow('SELECT $1::int AS id', i + 1);
 * }));
 * console.log(rows.length, rows[9]); // 10 { id: 10 }
 * ```
 */
export async function createPool(dsnOrOptions?: string | PoolOptions): Promise<Pool> {
  const pool = new Pool(connectOptions(dsnOrOptions, 'createPool') as PoolOptions);
  await pool._start();
  return pool;
}

/**
 * A pool of connections. `acquire()` hands one out (released by
 * `await using`, `release()` or `pool.release(conn)`); `fetch`, `fetchrow`,
 * `fetchval`, `execute` and `executemany` on the pool take one for the one
 * call; a read by `fetch`, `fetchrow` or `fetchval` without signal or
 * timeout may instead be pipelined on a busy connection (docs/pg.md,
 * "Pipelining"). A connection the server dropped (`pg_terminate_backend`, a restart)
 * is replaced by a new one on the next acquire. Same as `asyncpg.Pool`.
 *
 * @example Shortcuts on the pool
 * ```ts
 * import { createPool } from 'tsaio/pg';
 * await using pool = await createPool({ dsn: process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test', minSize: 1, maxSize: 2 });
 * console.log(await pool.fetchval('SELECT $1::int + 1', 41)); // 42
 * ```
 */
export class Pool extends Queryable implements AsyncDisposable, Runnable {
  private readonly _config: ClientConfig;
  private readonly _options: PoolOptions;
  private readonly _minSize: number;
  private readonly _maxSize: number;
  private readonly _maxQueries: number;
  private readonly _lifetime: number;
  private readonly _connectTimeout: number;
  private readonly _slots: Semaphore;
  /** Idle connections, most recently used last. */
  private readonly _idle: Connection[] = [];
  /** Every open connection, idle or in use. */
  private readonly _open = new Set<Connection>();
  /** Acquires with a signal or timeout waiting for a permit: closing the pool aborts them. */
  private readonly _waiting = new Set<Scope>();
  private readonly _closingConnections = new Set<Promise<void>>();
  private _inUse = 0;
  /** Connections pipelining the pool's fetch calls (`_request`). */
  private readonly _lanes: Connection[] = [];
  /** When a lane last had a statement answered (`now()` units). */
  private _lastAnswer = 0;
  private _drained: (() => void) | null = null;
  private _closing: Promise<void> | null = null;
  private _sweep: Bucket | null = null;

  /** @internal Use `createPool()`. */
  constructor(options: PoolOptions) {
    super();
    this._options = options;
    this._maxSize = checkCount(options.maxSize, 'createPool', 'maxSize', 1, 10);
    this._minSize = checkCount(options.minSize, 'createPool', 'minSize', 0, Math.min(10, this._maxSize));
    if (this._minSize > this._maxSize) {
      throw new RangeError(
        `createPool: minSize (${this._minSize}) must not exceed maxSize (${this._maxSize})`,
      );
    }
    this._maxQueries = checkCount(options.maxQueries, 'createPool', 'maxQueries', 0, 50_000);
    this._lifetime = checkCount(
      options.maxInactiveConnectionLifetime,
      'createPool',
      'maxInactiveConnectionLifetime',
      0,
      300_000,
    );
    this._connectTimeout = checkCount(options.connectTimeout, 'createPool', 'connectTimeout', 0, 60_000);
    if (options.setup !== undefined) checkFunction(options.setup, 'createPool', 'setup');
    if (options.init !== undefined) checkFunction(options.init, 'createPool', 'init');
    this._slots = new Semaphore(this._maxSize);
    checkConnectOptions(options);
    this._config = clientConfig(options);
  }

  /** @internal Opens the first `minSize` connections. */
  async _start(): Promise<void> {
    const opened = await Promise.allSettled(Array.from({ length: this._minSize }, () => this._openOne(null)));
    const failed = opened.find((r) => r.status === 'rejected');
    if (failed !== undefined) {
      await this.terminate();
      throw failed.reason;
    }
    for (const r of opened) if (r.status === 'fulfilled') this._putIdle(r.value);
  }

  /** Open connections, idle or in use. Same as `Pool.get_size`. */
  getSize(): number {
    return this._open.size;
  }

  /** Idle connections. Same as `Pool.get_idle_size`. */
  getIdleSize(): number {
    return this._idle.length;
  }

  getMinSize(): number {
    return this._minSize;
  }

  getMaxSize(): number {
    return this._maxSize;
  }

  /** True once `close()` or `terminate()` was called. Same as `Pool.is_closing`. */
  isClosing(): boolean {
    return this._closing !== null;
  }

  /**
   * Waits for a connection and hands it out: an idle one, or a new one while
   * fewer than `maxSize` are open. Waiters are served first come, first
   * served. Same as `asyncpg.Pool.acquire`.
   *
   * @param opts `{ timeout, signal }`.
   * @returns The connection; `await using` (or `release()`) gives it back.
   * @throws {TimeoutError} when `timeout` passes first; {CancelledError} when the signal aborts.
   * @throws {InvalidStateError} when the pool is closing.
   *
   * @example Pool exhausted
   * ```ts
   * import { TimeoutError } from 'tsaio';
   * import { createPool } from 'tsaio/pg';
   * await using pool = await createPool({ dsn: process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test', minSize: 1, maxSize: 1 });
   * await using held = await pool.acquire();
   * try { await pool.acquire({ timeout: 50 }); } catch (e) { console.log(e instanceof TimeoutError); } // true
   * ```
   */
  async acquire(opts: AcquireOptions = {}): Promise<PoolConnection> {
    const where = 'Pool.acquire';
    checkOptions(opts, where);
    const scope = scopeFor(where, opts, null);
    return inScope(scope, async () => {
      const { conn, held } = await this._take(where, scope);
      const handle = new PoolConnection(this, conn, held);
      if (this._options.setup !== undefined) {
        try {
          await this._options.setup(handle);
        } catch (error) {
          await handle.release();
          throw error;
        }
      }
      return handle;
    });
  }

  /** Gives `conn` back to the pool (same as `conn.release()`). Same as `asyncpg.Pool.release`. */
  async release(conn: PoolConnection): Promise<void> {
    if (!(conn instanceof PoolConnection)) {
      throw new TypeError(
        `Pool.release: expected a connection from pool.acquire(), received ${describe(conn)}`,
      );
    }
    await conn.release();
  }

  /**
   * Closes the pool gracefully: new acquires fail, waiting ones reject with
   * `InvalidStateError`, and once every connection in use is released, all
   * are closed. Same as `asyncpg.Pool.close`.
   */
  close(): Promise<void> {
    this._closing ??= (async () => {
      this._stopWaiters();
      if (this._inUse > 0) await new Promise<void>((resolve) => (this._drained = resolve));
      await this._closeAll((c) => c.close());
    })();
    return this._closing;
  }

  /**
   * Closes every connection at once, those in use included (their
   * statements fail with `ConnectionDoesNotExistError`). Same as
   * `asyncpg.Pool.terminate`.
   */
  terminate(): Promise<void> {
    this._closing ??= (async () => {
      this._stopWaiters();
      await this._closeAll((c) => c.terminate());
    })();
    return this._closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * @internal A pool's `fetch`, `fetchrow` or `fetchval` that reads and has
   * neither signal nor timeout runs pipelined: sent on a connection already
   * running such statements (node-postgres's pipeline mode) without waiting
   * for their answers, when no connection is idle. Anything else, or when the
   * statement is not prepared yet on the connection, runs on a connection of
   * its own.
   */
  override _request(where: string, req: QueryRequest, opts: QueryOptions): Promise<QueryResult> {
    if (
      req.mode !== 'status' &&
      req.statement === undefined &&
      req.cache !== false &&
      opts.signal === undefined &&
      (opts.timeout === undefined ? (this._options.commandTimeout ?? null) : opts.timeout) === null &&
      READS.test(req.text)
    ) {
      const lane = this._lane(req.text);
      if (lane !== null) return this._inLane(where, lane, req, opts);
    }
    return super._request(where, req, opts);
  }

  /**
   * A connection to pipeline a statement of `text` on: an idle one (a new
   * lane), else, when every connection is open and in use, the least busy
   * lane that is not stalled (`LANE_STALL_MS`); `null` to run it on a
   * connection of its own.
   */
  private _lane(text: string): Connection | null {
    if (this._closing !== null || this._slots._hasWaiters()) return null;
    const held = this._slots.tryAcquire();
    if (held !== null) {
      // A connection is free (or may be opened): pipeline on it only if the statement is prepared there.
      const idle = this._popIdle();
      if (idle !== null && idle._hasStatement(text)) {
        this._inUse++;
        idle._laneAnswered = now();
        idle._openLane(held);
        this._lanes.push(idle);
        return idle;
      }
      if (idle !== null) this._idle.push(idle);
      held.release();
      return null;
    }
    let best: Connection | null = null;
    const answered = this._lastAnswer - LANE_STALL_MS;
    for (const conn of this._lanes) {
      if (
        conn._laneAnswered >= answered &&
        conn._hasStatement(text) &&
        !conn.isClosed() &&
        (best === null || conn._laneLoad < best._laneLoad)
      )
        best = conn;
    }
    return best;
  }

  /** Runs `req` in `lane`; the last statement out closes the lane and gives the connection back. */
  private async _inLane(
    where: string,
    lane: Connection,
    req: QueryRequest,
    opts: QueryOptions,
  ): Promise<QueryResult> {
    lane._laneLoad++;
    let result: QueryResult | null;
    try {
      result = await lane._runInLane(req);
    } finally {
      lane._laneAnswered = this._lastAnswer = now();
      if (--lane._laneLoad === 0) {
        this._lanes.splice(this._lanes.indexOf(lane), 1);
        await this._giveBack(lane, lane._closeLane(), false);
      }
    }
    // The cached statement went stale: run it again on a connection of its own (it is prepared again there).
    return result ?? super._request(where, req, opts);
  }

  /** @internal Takes a connection for one pool shortcut (`pool.fetch`, ...) and gives it back after. */
  async _use<T>(where: string, scope: Scope | null, fn: (conn: Connection) => Promise<T>): Promise<T> {
    const { conn, held } = await this._take(where, scope);
    try {
      return await fn(conn);
    } finally {
      await this._giveBack(conn, held, false);
    }
  }

  /** @internal */
  _defaultTimeout(): number | null {
    return this._options.commandTimeout ?? null;
  }

  /** @internal */
  _kind(): string {
    return 'Pool';
  }

  /** A permit, and an idle connection or a new one. */
  private async _take(where: string, scope: Scope | null): Promise<Taken> {
    if (this._closing !== null) throw new InvalidStateError(`${where}: the pool is closing`);
    scope?.check();
    const held = this._slots.tryAcquire() ?? (await this._waitSlot(where, scope));
    try {
      if (this._closing !== null) throw new InvalidStateError(`${where}: the pool is closing`);
      const conn = this._popIdle() ?? (await this._openOne(scope));
      this._inUse++;
      return { conn, held };
    } catch (error) {
      held.release();
      throw error;
    }
  }

  private async _waitSlot(where: string, scope: Scope | null): Promise<Held> {
    if (scope === null) {
      // No signal, no timeout: only closing the pool stops the wait (`_stopWaiters` rejects it).
      try {
        return await this._slots.acquire();
      } catch {
        throw new InvalidStateError(`${where}: the pool is closing`);
      }
    }
    this._waiting.add(scope);
    // Without a deadline only the caller's signal (or closing the pool, which rejects every
    // waiter) ends the wait: park on that signal, and make no signal of the scope's own.
    const signal = scope.when() === null && scope._link !== undefined ? scope._link : scope.signal;
    try {
      return await this._slots.acquire({ signal });
    } catch (error) {
      throw scopeError(scope, error);
    } finally {
      this._waiting.delete(scope);
    }
  }

  private _stopWaiters(): void {
    const closing = () => new InvalidStateError('Pool.acquire: the pool is closing');
    this._slots._rejectWaiters(closing);
    for (const scope of this._waiting) scope.cancel(closing());
  }

  /** The most recently used idle connection that is still alive, or `null`. */
  private _popIdle(): Connection | null {
    for (;;) {
      const conn = this._idle.pop();
      if (conn === undefined) return null;
      if (!conn.isClosed()) return conn;
      this._discard(conn);
    }
  }

  /** Opens a connection (and runs `init`), within `scope` or else the connect timeout. */
  private async _openOne(scope: Scope | null): Promise<Connection> {
    const own =
      scope === null ? scopeFor('Pool: connect', { timeout: this._connectTimeout || null }, null) : null;
    const conn = await inScope(own, () => openConnection(this._config, this._options, scope ?? own));
    this._open.add(conn);
    conn._onLost = (c) => this._lost(c);
    if (this._options.init !== undefined) {
      try {
        await this._options.init(conn);
      } catch (error) {
        this._discard(conn);
        throw error;
      }
    }
    return conn;
  }

  /**
   * @internal Back from use: replaced if it is lost or has run `maxQueries`
   * statements; otherwise rolled back if a transaction is open, reset if it
   * was acquired (`full`) or changed session state, and made idle.
   */
  async _giveBack(conn: Connection, held: Held, full: boolean): Promise<void> {
    try {
      if (
        this._closing !== null ||
        conn.isClosed() ||
        (this._maxQueries > 0 && conn._queryCount >= this._maxQueries)
      ) {
        this._discard(conn);
      } else if (!this._needsReset(conn, full) || (await this._reset(conn))) {
        this._putIdle(conn);
      } else {
        this._discard(conn);
      }
    } finally {
      this._inUse--;
      held.release();
      if (this._inUse === 0 && this._drained !== null) this._drained();
    }
  }

  /** True when `conn` must be reset before it is idle: acquired (`full`), in a transaction, or with session changes. */
  private _needsReset(conn: Connection, full: boolean): boolean {
    return full || conn._dirty || conn._transactions.length > 0 || conn.isInTransaction();
  }

  /** Rolls back and resets `conn`; false when that failed (the connection is then dropped). */
  private async _reset(conn: Connection): Promise<boolean> {
    const open = conn._transactions.length > 0 || conn.isInTransaction();
    conn._transactions.length = 0;
    const sql = (open ? 'ROLLBACK; ' : '') + RESET;
    try {
      await conn._query({ text: sql, params: [], mode: 'status', where: 'Pool.release' }, null);
      conn._dirty = false;
      return true;
    } catch {
      return false;
    }
  }

  private _putIdle(conn: Connection): void {
    if (this._closing !== null) {
      this._discard(conn);
      return;
    }
    this._idle.push(conn);
    conn._idleSince = now();
    if (this._lifetime > 0 && this._sweep === null) this._sweep = addTimer(now() + this._lifetime, this);
  }

  /** @internal The idle sweep: closes connections idle for `maxInactiveConnectionLifetime`. */
  _fire(): void {
    this._sweep = null;
    const limit = now() - this._lifetime;
    let next = Infinity;
    for (const conn of [...this._idle]) {
      const since = conn._idleSince;
      if (since <= limit) {
        this._idle.splice(this._idle.indexOf(conn), 1);
        this._discard(conn);
      } else next = Math.min(next, since + this._lifetime);
    }
    if (next !== Infinity) this._sweep = addTimer(next, this);
  }

  /** A connection the server dropped: out of the idle list at once (in use: dropped on release). */
  private _lost(conn: Connection): void {
    const at = this._idle.indexOf(conn);
    if (at >= 0) {
      this._idle.splice(at, 1);
      this._discard(conn);
    }
  }

  private _discard(conn: Connection, close: (c: Connection) => Promise<void> = (c) => c.close()): void {
    if (!this._open.delete(conn)) return;
    conn._onLost = null;
    const closing = close(conn).finally(() => this._closingConnections.delete(closing));
    this._closingConnections.add(closing);
  }

  private async _closeAll(close: (c: Connection) => Promise<void>): Promise<void> {
    if (this._sweep !== null) cancelTimer(this._sweep);
    this._sweep = null;
    this._idle.length = 0;
    for (const conn of [...this._open]) this._discard(conn, close);
    await Promise.all([...this._closingConnections]);
  }

  override toString(): string {
    return `<Pool size=${this._open.size} idle=${this._idle.length} inUse=${this._inUse} max=${this._maxSize}${this._closing ? ' closing' : ''}>`;
  }
}

/**
 * A connection acquired from a `Pool`: every method of a `Connection` but
 * `close`, until it is released (`await using`, `release()`); after that its
 * methods throw `InvalidStateError`. Releasing rolls back an open
 * transaction and resets the session (`RESET ALL`, `UNLISTEN *`, advisory
 * locks), as asyncpg does.
 *
 * @example Released at the end of the block
 * ```ts
 * import { createPool } from 'tsaio/pg';
 * await using pool = await createPool({ dsn: process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test', minSize: 1 });
 * {
 *   await using conn = await pool.acquire();
 *   console.log(await conn.fetchval('SELECT 1')); // 1
 * } // released here
 * ```
 */
export class PoolConnection extends ConnectionLike implements AsyncDisposable {
  private _conn: Connection | null;
  private _releasing: Promise<void> | null = null;

  /** @internal Use `pool.acquire()`. */
  constructor(
    private readonly _pool: Pool,
    conn: Connection,
    private readonly _held: Held,
  ) {
    super();
    this._conn = conn;
  }

  /** The server process serving this connection. */
  get pid(): number {
    return this._connection('PoolConnection.pid').pid;
  }

  /** True while a transaction is open on the server. */
  isInTransaction(): boolean {
    return this._connection('PoolConnection.isInTransaction').isInTransaction();
  }

  /** True once released (or lost). */
  isClosed(): boolean {
    return this._conn === null || this._conn.isClosed();
  }

  /** Gives the connection back to its pool; a second call does nothing. */
  release(): Promise<void> {
    if (this._releasing === null) {
      const conn = this._conn!;
      this._conn = null;
      this._releasing = this._pool._giveBack(conn, this._held, true);
    }
    return this._releasing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.release();
  }

  private _connection(where: string): Connection {
    if (this._conn === null) throw new InvalidStateError(`${where}: the connection was released to the pool`);
    return this._conn;
  }

  /** @internal */
  _use<T>(where: string, _scope: Scope | null, fn: (conn: Connection) => Promise<T>): Promise<T> {
    try {
      return this._connection(where)._use(where, _scope, fn);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** @internal */
  _defaultTimeout(): number | null {
    return this._conn?._defaultTimeout() ?? null;
  }

  /** @internal */
  _kind(): string {
    return 'PoolConnection';
  }

  /** @internal */
  _newTransaction(opts: TransactionOptions): Transaction {
    return new Transaction(this, this._connection('PoolConnection.transaction'), opts);
  }

  override toString(): string {
    return this._conn === null ? '<PoolConnection released>' : `<PoolConnection pid=${this._conn.pid}>`;
  }
}
