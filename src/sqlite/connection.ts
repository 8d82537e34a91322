/**
 * `connect` and `Connection`, after `aiosqlite.connect` and
 * `aiosqlite.Connection`: SQLite through better-sqlite3 on a worker thread
 * of its own, so the event loop never runs SQL.
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { startWorkerThread } from '../executor/execargv.js';
import { InvalidStateError, cancelledFrom } from '../exceptions.js';
import {
  CancelScope,
  ParkingLot,
  checkFunction,
  checkSignal,
  checkSql,
  describe,
  resolveDriver,
} from '../_lowlevel.js';
import {
  CHANNEL_BYTES,
  FULL,
  H_BATCH,
  H_COUNT,
  H_DONE,
  REPLY_START,
  REQUEST_START,
  VIA_PORT,
  Wire,
} from './_channel.js';
import {
  CANCEL_SLOTS,
  type OpenOptions,
  type Outcome,
  type Params,
  type Reply,
  type Request,
} from './_messages.js';
import { Cursor, type RowMode } from './cursor.js';
import { WorkerCrashedError, errorFromWorker } from './errors.js';

// better-sqlite3 (an optional peer dependency) loads on the connections' worker threads; fail at
// import, with what to install, when it is missing, rather than at the first connect.
resolveDriver('better-sqlite3', 'tsaio/sqlite', ['better-sqlite3']);

/** Options of `connect`. */
export interface ConnectOptions {
  /** How long a statement waits for another connection's lock before `SQLITE_BUSY`, in ms (default 5,000, as Python). */
  timeout?: number;
  /** Open the database read-only (it must exist). */
  readonly?: boolean;
  /** Rows as objects keyed by column name (default) or as arrays. */
  rowMode?: RowMode;
  /**
   * The `BEGIN` sent before an INSERT/UPDATE/DELETE/REPLACE outside a
   * transaction: `'DEFERRED'` (default, as Python), `'IMMEDIATE'`,
   * `'EXCLUSIVE'`, or `null` for autocommit (no implicit transaction).
   */
  isolationLevel?: 'DEFERRED' | 'IMMEDIATE' | 'EXCLUSIVE' | null;
  /** Aborting it stops opening the database. */
  signal?: AbortSignal;
}

/** Options of one call. */
export interface CallOptions {
  /**
   * Aborting it cancels the call if its statement has not run yet: then it
   * never runs, and the call rejects with `CancelledError`. A statement the
   * worker has started finishes (SQLite cannot be interrupted safely), and
   * the call resolves with its result: it happened, and the caller learns
   * it. The next call given the aborted signal rejects at once.
   */
  signal?: AbortSignal;
}

/** Options of `execute`. */
export interface ExecuteOptions extends CallOptions {
  /** Override the connection's `rowMode` for this cursor. */
  rowMode?: RowMode;
}

/** Options of `transaction`. */
export interface TransactionOptions {
  /** `BEGIN DEFERRED` (default), `IMMEDIATE` (take the write lock at once) or `EXCLUSIVE`. */
  mode?: 'deferred' | 'immediate' | 'exclusive';
}

/** Requests the worker may be handed at once: later ones queue here, where a signal can still drop them. */
const WINDOW = CANCEL_SLOTS / 2;

/**
 * How long the main thread may wait synchronously for replies in one stretch,
 * ms, before it waits with `Atomics.waitAsync` and lets the event loop turn.
 */
const BLOCK_BUDGET_MS = 2;
/** The longest one synchronous wait for a reply, ms. */
const BLOCK_MAX_MS = 1;
/** How long the loop watches for the replies before it sleeps in `Atomics.wait` (see the worker's). */
const SPIN_MS = 0.05;

type WaitAsync = (
  typed: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * One call on its way to the worker and back, and its cancel scope, opened
 * on the call's signal. Cancelling it (the signal aborts) drops a call still
 * queued — its wait in the queue ends with the scope's signal — or, once the
 * call was posted, tells the worker to skip it if it has not started it.
 */
class Call extends CancelScope {
  posted = false;
  constructor(
    readonly conn: Connection,
    readonly request: Request,
    readonly where: string,
    readonly resolve: (o: Outcome) => void,
    readonly reject: (e: unknown) => void,
  ) {
    super();
  }

  override _onCancel(reason: unknown): void {
    this.conn._abandon(this, reason);
  }
}

/** The cancel scope of `connect`'s wait for the worker to open the database: aborting rejects the wait. */
class Opening extends CancelScope {
  constructor(private readonly _fail: (reason: unknown) => void) {
    super();
  }

  override _onCancel(reason: unknown): void {
    this._fail(reason);
  }
}

/**
 * What a queued call's wait comes to is handled elsewhere: taken from the
 * head of the queue, it is posted there and then (`Connection._reply`);
 * cancelled, its scope rejects the call (`Call._onCancel`).
 */
function ignore(): void {}

/** The reply of a call whose reply should be in the port and is not (it never should happen). */
function lostReply(call: Call): Reply {
  return { id: call.request.id, ok: false, error: { name: 'Error', message: 'the reply was lost' } };
}

/**
 * Starts the connection's worker thread, with the parent's flags that apply
 * to a thread (`workerExecArgv`: not `--input-type`, `-e` and the like).
 */
function worker(options: OpenOptions): Worker {
  const start = { workerData: options, transferList: [options.port] };
  if (!import.meta.url.endsWith('.ts'))
    return startWorkerThread(new URL('./_worker.js', import.meta.url), start);
  // From the TypeScript sources (the tests): the built worker when there is one (`npm test` builds
  // first), since registering tsx in each worker costs about half a second; else tsx.
  const built = new URL('../../dist/sqlite/_worker.js', import.meta.url);
  if (existsSync(built)) return startWorkerThread(built, start);
  const source = JSON.stringify(new URL('./_worker.ts', import.meta.url).href);
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${source}); })`;
  return startWorkerThread(boot, { ...start, eval: true });
}

function checkParams(params: unknown, where: string): Params | undefined {
  if (params === undefined || params === null) return undefined;
  if (Array.isArray(params)) return params.map((v, i) => toValue(v, where, i + 1));
  if (typeof params === 'object' && Object.getPrototypeOf(params) === Object.prototype) {
    const named: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(params)) named[k] = toValue(v, where, k);
    return named;
  }
  throw new TypeError(
    `${where}: parameters must be an array or a plain object of named values, received ${describe(params)}`,
  );
}

/** A value as SQLite binds it: `boolean` as 0/1, `Date` as ISO text (Python's adapters), `undefined` as NULL. */
function toValue(v: unknown, where: string, at: number | string): unknown {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'bigint':
      return v;
    case 'boolean':
      return v ? 1 : 0;
    case 'undefined':
      return null;
  }
  if (v === null || v instanceof Uint8Array) return v;
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new RangeError(`${where}: parameter ${at} is an invalid Date`);
    return v.toISOString();
  }
  throw new TypeError(
    `${where}: parameter ${at} cannot be bound: SQLite takes numbers, strings, bigints, bytes and null, received ${describe(v)}`,
  );
}

function checkRowMode(mode: unknown, where: string): RowMode {
  if (mode === undefined) return 'object';
  if (mode !== 'object' && mode !== 'array') {
    throw new TypeError(`${where}: rowMode must be 'object' or 'array', received ${describe(mode)}`);
  }
  return mode;
}

/**
 * Opens a SQLite database on a worker thread of its own. Same as
 * `aiosqlite.connect`.
 *
 * @param path The file (created if missing), or `':memory:'`.
 * @param opts `{ timeout, readonly, rowMode, isolationLevel, signal }`.
 * @returns The connection; close it (or `await using`) to end its worker thread.
 * @throws {OperationalError} when the file cannot be opened.
 *
 * @example The seed's aiosqlite example
 * ```ts
 * import { connect } from 'tsaio/sqlite';
 * await using db = await connect(':memory:');
 * await db.execute('CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY, name TEXT)');
 * await db.execute('INSERT INTO users(name) VALUES(?)', ['John Doe']);
 * await db.commit();
 * await using cursor = await db.execute('SELECT * FROM users');
 * for await (const row of cursor) console.log(row); // { id: 1, name: 'John Doe' }
 * ```
 */
export async function connect(path: string, opts: ConnectOptions = {}): Promise<Connection> {
  if (typeof path !== 'string' || path === '') {
    throw new TypeError(`connect: path must be a non-empty string, received ${describe(path)}`);
  }
  const timeout = opts.timeout ?? 5_000;
  if (typeof timeout !== 'number' || !(timeout >= 0) || !Number.isFinite(timeout)) {
    throw new RangeError(
      `connect: timeout must be a non-negative number of ms, received ${describe(timeout)}`,
    );
  }
  const signal = checkSignal(opts.signal, 'connect');
  if (signal?.aborted) throw cancelledFrom(signal.reason);
  const level = opts.isolationLevel === undefined ? 'DEFERRED' : opts.isolationLevel;
  if (level !== null && !['DEFERRED', 'IMMEDIATE', 'EXCLUSIVE'].includes(level)) {
    throw new RangeError(
      `connect: isolationLevel must be DEFERRED, IMMEDIATE, EXCLUSIVE or null, received ${describe(level)}`,
    );
  }
  const conn = new Connection(
    path,
    { path, readonly: opts.readonly === true, timeout: Math.round(timeout) },
    {
      rowMode: checkRowMode(opts.rowMode, 'connect'),
      isolation: level,
    },
  );
  await conn._opened(signal);
  return conn;
}

/**
 * A SQLite connection whose statements run on its own worker thread, one
 * at a time in call order. Python's transaction rules hold: an
 * INSERT/UPDATE/DELETE/REPLACE outside a transaction opens one, `commit()`
 * publishes it, `rollback()` drops it, and `close()` drops what was not
 * committed. Same as `aiosqlite.Connection`.
 *
 * @example Commit and rollback
 * ```ts
 * import { connect } from 'tsaio/sqlite';
 * await using db = await connect(':memory:');
 * await db.execute('CREATE TABLE t (n INTEGER)');
 * await db.execute('INSERT INTO t VALUES (1)');
 * await db.commit();
 * await db.execute('INSERT INTO t VALUES (2)');
 * await db.rollback();
 * console.log(await (await db.execute('SELECT count(*) AS n FROM t')).fetchone()); // { n: 1 }
 * ```
 */
export class Connection implements AsyncDisposable {
  /** The database file. */
  readonly path: string;
  /** @internal */ readonly _worker: Worker;
  private readonly _rowMode: RowMode;
  private readonly _isolation: string | null;
  private readonly _calls = new Map<number, Call>();
  private readonly _cancelled: Int32Array;
  /** The channel's header, its wire, and the port for what does not fit (`_channel.ts`). */
  private readonly _header: Int32Array;
  private readonly _wire: Wire;
  private readonly _port: MessagePort;
  /** Calls posted, not yet written to the channel, in call order. */
  private _outbox: Call[] = [];
  /** The calls of the batch in the channel, in order; `_read` of them are answered. */
  private _batch: Call[] = [];
  private _read = 0;
  /** Batches written, and replies read: the channel's `H_BATCH` and `H_DONE` as last seen. */
  private _batches = 0;
  private _done = 0;
  /** Where the next reply of the batch starts in the reply area. */
  private _replyAt = REPLY_START;
  private _flushQueued = false;
  private _waitingAsync = false;
  /** Until when (`performance.now()`) the main thread may still wait synchronously; 0: not set. */
  private _blockUntil = 0;
  /** Calls waiting for room in the window, in call order; a cancelled one leaves at once. */
  private readonly _queue = new ParkingLot<void>('sqlite.Connection call');
  private _inFlight = 0;
  private _nextId = 1;
  private _inTransaction = false;
  private _crashed: Error | null = null;
  private _closing: Promise<void> | null = null;
  private _exited: Promise<void>;
  private _ready: { resolve: () => void; reject: (e: unknown) => void } | null = null;

  /** @internal Use `connect()`. */
  constructor(
    path: string,
    open: Omit<OpenOptions, 'cancelled' | 'channel' | 'port'>,
    opts: { rowMode: RowMode; isolation: string | null },
  ) {
    this.path = path;
    this._rowMode = opts.rowMode;
    this._isolation = opts.isolation;
    this._cancelled = new Int32Array(new SharedArrayBuffer(CANCEL_SLOTS * 4));
    const channel = new SharedArrayBuffer(CHANNEL_BYTES);
    this._header = new Int32Array(channel, 0, 16);
    this._wire = new Wire(channel);
    const { port1, port2 } = new MessageChannel();
    this._port = port1;
    this._worker = worker({ ...open, cancelled: this._cancelled, channel, port: port2 });
    this._worker.on('message', (reply: Reply) => this._opening(reply));
    this._worker.on('error', (error) => this._crash(error));
    this._exited = new Promise((resolve) => {
      this._worker.once('exit', (code) => {
        this._crash(new Error(`the worker thread exited with code ${code}`));
        this._port.close();
        resolve();
      });
    });
  }

  /** @internal Resolves once the worker opened the database. */
  async _opened(signal: AbortSignal | undefined): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => (this._ready = { resolve, reject }));
    const scope = new Opening((reason) => this._ready?.reject(reason)).open(signal, null);
    try {
      await ready;
    } catch (error) {
      this._closing = this._worker.terminate().then(() => this._exited);
      await this._closing;
      throw error;
    } finally {
      scope.end();
    }
  }

  /** True while a transaction is open. Same as `sqlite3.Connection.in_transaction`. */
  get inTransaction(): boolean {
    return this._inTransaction;
  }

  /** The `BEGIN` mode of implicit transactions, or `null` (autocommit). Same as `isolation_level`. */
  get isolationLevel(): string | null {
    return this._isolation;
  }

  /** True once closed (or its worker crashed). */
  get closed(): boolean {
    return this._closing !== null || this._crashed !== null;
  }

  /**
   * Runs one statement and resolves to its cursor (rows as objects, or
   * arrays with `rowMode: 'array'`). Parameters are `?` (an array) or named
   * (`:name`, an object). Same as `aiosqlite.Connection.execute`.
   *
   * @param sql One SQL statement.
   * @param params Its parameters.
   * @param opts `{ signal, rowMode }`.
   * @returns The cursor: `fetchone`, `fetchmany`, `fetchall`, `for await`, `lastrowid`, `rowcount`.
   * @throws {OperationalError} for a syntax error, a missing table, a lock held past `timeout`.
   * @throws {IntegrityError} when a constraint fails.
   * @throws {TypeError} for a value SQLite cannot bind; {RangeError} for the wrong number of parameters.
   */
  async execute(sql: string, params?: Params, opts: ExecuteOptions = {}): Promise<Cursor> {
    const where = 'Connection.execute';
    const request = {
      op: 'execute',
      sql: checkSql(sql, where, true),
      params: checkParams(params, where),
      isolation: this._isolation,
    } as const;
    const rowMode = opts.rowMode === undefined ? this._rowMode : checkRowMode(opts.rowMode, where);
    return new Cursor(this, await this._call(request, where, opts), rowMode);
  }

  /**
   * Runs one statement once per parameter list (in the worker, in one go)
   * and resolves to a cursor whose `rowcount` is the total. Same as
   * `aiosqlite.Connection.executemany`.
   *
   * @example Bulk insert
   * ```ts
   * import { connect } from 'tsaio/sqlite';
   * await using db = await connect(':memory:');
   * await db.execute('CREATE TABLE t (n INTEGER)');
   * const cur = await db.executemany('INSERT INTO t VALUES (?)', [[1], [2], [3]]);
   * console.log(cur.rowcount); // 3
   * ```
   */
  async executemany(sql: string, paramsList: Iterable<Params>, opts: CallOptions = {}): Promise<Cursor> {
    const where = 'Connection.executemany';
    if (paramsList === null || typeof (paramsList as Iterable<Params>)?.[Symbol.iterator] !== 'function') {
      throw new TypeError(
        `${where}: paramsList must be an iterable of parameter lists, received ${describe(paramsList)}`,
      );
    }
    const list = Array.from(paramsList, (p) => checkParams(p, where) ?? []);
    const request = {
      op: 'executemany',
      sql: checkSql(sql, where, true),
      list,
      isolation: this._isolation,
    } as const;
    return new Cursor(this, await this._call(request, where, opts), this._rowMode);
  }

  /**
   * Commits what is pending, then runs a script of several statements as it
   * is (no implicit transaction). Same as `aiosqlite.Connection.executescript`.
   */
  async executescript(sql: string, opts: CallOptions = {}): Promise<Cursor> {
    const where = 'Connection.executescript';
    return new Cursor(
      this,
      await this._call({ op: 'executescript', sql: checkSql(sql, where, true) }, where, opts),
      this._rowMode,
    );
  }

  /** Commits the open transaction (nothing to do without one). Same as `aiosqlite.Connection.commit`. */
  async commit(opts: CallOptions = {}): Promise<void> {
    await this._call({ op: 'commit' }, 'Connection.commit', opts);
  }

  /** Rolls back the open transaction (nothing to do without one). Same as `aiosqlite.Connection.rollback`. */
  async rollback(opts: CallOptions = {}): Promise<void> {
    await this._call({ op: 'rollback' }, 'Connection.rollback', opts);
  }

  /**
   * Runs `body` in a transaction: `BEGIN` (or a savepoint when one is open),
   * then `COMMIT` when it returns or `ROLLBACK` when it throws; resolves to
   * what it returned. Python has `with conn:` for the commit/rollback half.
   *
   * @example Commit, or roll back on throw
   * ```ts
   * import { connect } from 'tsaio/sqlite';
   * await using db = await connect(':memory:');
   * await db.execute('CREATE TABLE t (n INTEGER)');
   * await db.transaction(async () => { await db.execute('INSERT INTO t VALUES (1)'); }, { mode: 'immediate' });
   * await db.transaction(async () => { await db.execute('INSERT INTO t VALUES (2)'); throw new Error('no'); }).catch(() => {});
   * console.log((await (await db.execute('SELECT count(*) AS n FROM t')).fetchone())?.n); // 1
   * ```
   */
  async transaction<T>(body: () => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
    const where = 'Connection.transaction';
    checkFunction(body, where, 'the body');
    const mode = opts.mode ?? 'deferred';
    if (!['deferred', 'immediate', 'exclusive'].includes(mode)) {
      throw new RangeError(
        `${where}: mode must be deferred, immediate or exclusive, received ${describe(mode)}`,
      );
    }
    const savepoint = this._inTransaction ? `tsaio_${this._nextId}` : null;
    const run = (sql: string) =>
      this._call({ op: 'execute', sql, params: undefined, isolation: null }, where, {});
    await run(savepoint === null ? `BEGIN ${mode.toUpperCase()}` : `SAVEPOINT ${savepoint}`);
    let result: T;
    try {
      result = await body();
    } catch (error) {
      const undo = savepoint === null ? ['ROLLBACK'] : [`ROLLBACK TO ${savepoint}`, `RELEASE ${savepoint}`];
      for (const sql of undo) if (!this.closed) await run(sql).catch(() => {});
      throw error;
    }
    await run(savepoint === null ? 'COMMIT' : `RELEASE ${savepoint}`);
    return result;
  }

  /**
   * Closes the database (what was not committed is dropped) and ends the
   * worker thread; resolves once the thread has exited. Closing twice is
   * harmless. Same as `aiosqlite.Connection.close`.
   */
  close(): Promise<void> {
    if (this._closing !== null) return this._closing;
    if (this._crashed !== null) return (this._closing = this._exited);
    const closing = this._call({ op: 'close' }, 'Connection.close', {}).then(
      () => this._exited,
      async (error) => {
        await this._worker.terminate();
        await this._exited;
        if (!(error instanceof WorkerCrashedError)) throw error;
      },
    );
    this._closing = closing;
    return closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Asks the worker; every call goes through here. */
  _call(body: RequestBody, where: string, opts: CallOptions): Promise<Outcome> {
    const signal = checkSignal(opts?.signal, where);
    if (signal?.aborted) return Promise.reject(cancelledFrom(signal.reason));
    if (this._closing !== null)
      return Promise.reject(new InvalidStateError(`${where}: the connection is closed`));
    if (this._crashed !== null) return Promise.reject(this._crashed);
    return new Promise<Outcome>((resolve, reject) => {
      const request = { ...body, id: this._nextId++ } as Request;
      const call = new Call(this, request, where, resolve, reject);
      this._calls.set(request.id, call);
      if (signal !== undefined) call.open(signal, null);
      if (this._inFlight < WINDOW && this._queue.size === 0) this._post(call);
      else this._queue.park(signal === undefined ? undefined : call.signal, call).then(undefined, ignore);
    });
  }

  /** Hands `call` to the worker: it joins the next batch, written once the calls of this turn are in. */
  private _post(call: Call): void {
    call.posted = true;
    if (this._inFlight++ === 0) this._worker.ref();
    this._outbox.push(call);
    if (this._batch.length === 0 && !this._flushQueued) {
      this._flushQueued = true;
      // After the microtasks of this turn: the calls that several tasks make in one turn go as one batch.
      process.nextTick(() => {
        this._flushQueued = false;
        if (this._batch.length === 0 && this._crashed === null) this._pump(this._write());
      });
    }
  }

  /**
   * @internal A call's scope was cancelled (its signal aborted): a queued
   * call has already left the queue, and rejects now; a posted one is
   * marked so that the worker skips it if it has not started it, and
   * settles when its reply comes (cancelled if it was skipped, with its
   * result if it ran).
   */
  _abandon(call: Call, reason: unknown): void {
    if (call.posted) {
      Atomics.store(this._cancelled, call.request.id % CANCEL_SLOTS, call.request.id | 0);
      return;
    }
    this._settle(call);
    call.reject(reason);
  }

  private _settle(call: Call): void {
    this._calls.delete(call.request.id);
    call.end();
  }

  /**
   * Writes the calls of the outbox into the request area, as many as fit
   * (one too big for the area alone goes through the port), and wakes the
   * worker. Returns whether a batch was written.
   */
  private _write(): boolean {
    const outbox = this._outbox;
    if (outbox.length === 0) return false;
    const wire = this._wire.at(REQUEST_START, REPLY_START);
    let n = 0;
    for (; n < outbox.length; n++) {
      const start = wire.pos;
      try {
        wire.putRequest(outbox[n]!.request);
      } catch (error) {
        wire.pos = start;
        if (n > 0 && error === FULL) break; // the rest go in the next batch
        const request = outbox[n]!.request;
        try {
          this._port.postMessage(request);
        } catch (unsendable) {
          // It never should happen (the values were checked): the worker answers it with the error.
          this._port.postMessage({ id: request.id, unsendable: String(unsendable) });
        }
        wire.putViaPort(request.id);
      }
    }
    this._batch = n === outbox.length ? outbox : outbox.slice(0, n);
    this._outbox = n === outbox.length ? [] : outbox.slice(n);
    this._read = 0;
    this._replyAt = REPLY_START;
    Atomics.store(this._header, H_COUNT, n);
    this._batches = (this._batches + 1) | 0;
    Atomics.store(this._header, H_BATCH, this._batches);
    Atomics.notify(this._header, H_BATCH);
    return true;
  }

  /**
   * Reads the replies of the batch as they come, and writes the next batch
   * when this one is answered. It waits synchronously (`Atomics.wait`,
   * never longer than `BLOCK_MAX_MS` at once nor
   * `BLOCK_BUDGET_MS` in one stretch): a statement of better-sqlite3 takes
   * microseconds, and a thread woken by the event loop tens of them. Past
   * that it waits with `Atomics.waitAsync`, and the event loop turns.
   */
  private _pump(busy: boolean): void {
    while (busy && this._crashed === null) {
      this._readReplies();
      if (this._read === this._batch.length) {
        this._batch = [];
        busy = this._write();
        continue;
      }
      const waited = this._waitSync();
      if (waited === 'timed-out') {
        // The worker is slow with this batch: the loop waits for it, free.
        this._waitAsync();
        return;
      }
      if (waited === 'budget') {
        // Replies come fast but the stretch is spent: one turn of the loop, then on.
        this._yield();
        return;
      }
    }
  }

  /** Waits for `H_DONE` to move, synchronously, within the budget of this stretch. */
  private _waitSync(): 'ok' | 'timed-out' | 'budget' {
    const now = performance.now();
    if (this._blockUntil === 0) this._blockUntil = now + BLOCK_BUDGET_MS;
    const ms = Math.min(BLOCK_MAX_MS, this._blockUntil - now);
    if (ms <= 0) return 'budget';
    // A short watch first: a reply a few µs away costs less than waking from a sleep.
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(this._header, H_DONE) === this._done && performance.now() < until);
    if (Atomics.load(this._header, H_DONE) !== this._done) return 'ok';
    if (Atomics.wait(this._header, H_DONE, this._done, ms) !== 'timed-out') return 'ok';
    return ms === BLOCK_MAX_MS ? 'timed-out' : 'budget';
  }

  /** Lets the event loop turn once (timers, I/O), then goes on reading with a new stretch. */
  private _yield(): void {
    if (this._waitingAsync) return;
    this._waitingAsync = true;
    setImmediate(() => {
      this._waitingAsync = false;
      this._blockUntil = 0;
      this._pump(this._batch.length > 0);
    });
  }

  /** Waits for `H_DONE` to move while the event loop turns, then goes on reading. */
  private _waitAsync(): void {
    if (this._waitingAsync) return;
    this._waitingAsync = true;
    const wait = waitAsync(this._header, H_DONE, this._done);
    const resume = (): void => {
      this._waitingAsync = false;
      this._blockUntil = 0; // a new turn of the loop: a new stretch of synchronous waits
      this._pump(this._batch.length > 0);
    };
    if (wait.async) void wait.value.then(resume);
    else queueMicrotask(resume);
  }

  /** Settles the calls of the batch whose replies the worker has written. */
  private _readReplies(): void {
    const done = Atomics.load(this._header, H_DONE);
    if (done === this._done) return;
    const wire = this._wire.at(this._replyAt, REPLY_START);
    while (this._done !== done && this._read < this._batch.length) {
      this._done = (this._done + 1) | 0;
      const call = this._batch[this._read++]!;
      const entry = wire.getReply();
      const reply =
        entry === VIA_PORT
          ? ((receiveMessageOnPort(this._port)?.message as Reply | undefined) ?? lostReply(call))
          : entry;
      this._answer(call, reply);
    }
    this._replyAt = wire.pos;
  }

  private _answer(call: Call, reply: Reply): void {
    this._settle(call);
    if (--this._inFlight === 0 && this._queue.size === 0 && this._closing === null) this._worker.unref();
    while (this._inFlight < WINDOW && this._queue.size > 0) {
      const next = this._queue.headPayload() as Call;
      this._queue.unparkOne(undefined);
      this._post(next);
    }
    // A statement that ran answers with what it did, even if its cancellation came meanwhile (the
    // contract's rule: its effect happened); one the worker skipped had none, and is cancelled.
    if (reply.ok) {
      this._inTransaction = reply.result.inTransaction;
      call.resolve(reply.result);
    } else if (reply.skipped === true) call.reject(call.aborted ? call.reason : cancelledFrom(undefined));
    else call.reject(errorFromWorker(reply.error, call.where));
  }

  /** The worker's first message: it opened the database, or could not. */
  private _opening(reply: Reply): void {
    if (reply.id !== 0) return;
    this._worker.unref(); // idle: an open connection alone does not keep the process alive
    if (reply.ok) this._ready?.resolve();
    else this._ready?.reject(errorFromWorker(reply.error, 'connect'));
  }

  /** The worker died: every pending call rejects with `WorkerCrashedError`. */
  private _crash(cause: unknown): void {
    if (this._crashed !== null) return;
    const closingNormally = this._closing !== null && this._calls.size === 0;
    const why = cause instanceof Error ? cause.message : String(cause);
    this._crashed = closingNormally
      ? new InvalidStateError('the connection is closed')
      : new WorkerCrashedError(
          `the SQLite worker thread of ${this.path} ended unexpectedly: ${why}`,
          'TSAIO_SQLITE_WORKER_CRASHED',
          { cause },
        );
    this._ready?.reject(this._crashed);
    for (const call of [...this._calls.values()]) {
      this._settle(call);
      call.reject(call.aborted ? call.reason : this._crashed);
    }
    this._queue.rejectAll(() => this._crashed);
    this._inFlight = 0;
    this._outbox = [];
    this._batch = [];
    Atomics.notify(this._header, H_DONE); // ends a pending waitAsync
  }

  toString(): string {
    return `<Connection ${JSON.stringify(this.path)}${this.closed ? ' closed' : ''}${this._inTransaction ? ' in transaction' : ''}>`;
  }
}
