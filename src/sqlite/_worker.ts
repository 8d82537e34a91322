/**
 * Private: the worker thread of one SQLite connection. It owns the
 * better-sqlite3 `Database`, runs every statement, and answers each request
 * in order. Python's transaction rules are applied here: before an
 * INSERT/UPDATE/DELETE/REPLACE outside a transaction it sends `BEGIN`.
 *
 * A SELECT's first rows go back with its reply; the rest wait under a
 * cursor id. better-sqlite3 runs nothing else on a connection while one of
 * its statements is being iterated, so before any other statement the open
 * cursors are read to their end into buffers here (as sqlite3 would keep
 * stepping them), and the loop stays free for their owners to read later.
 *
 * Requests come in batches through the channel's shared memory
 * (`_channel.ts`): the thread sleeps in `Atomics.wait` until the next
 * batch; it never returns to its event loop while the
 * connection is open.
 *
 * @module
 */

import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  H_BATCH,
  H_COUNT,
  H_DONE,
  MARKER_BYTES,
  OPS,
  REPLY_BYTES,
  REPLY_START,
  REQUEST_START,
  VIA_PORT,
  Wire,
} from './_channel.js';
import {
  CANCEL_SLOTS,
  CHUNK,
  type OpenOptions,
  type Outcome,
  type Params,
  type Reply,
  type Request,
} from './_messages.js';

const options = workerData as OpenOptions;
const port = parentPort!;

interface OpenCursor {
  iter: Iterator<unknown[]> | null;
  buffered: unknown[][];
}

const CACHE_SIZE = 128; // Python's cached_statements
const cache = new Map<string, Database.Statement>();
/** Column names of each reading statement, read once. */
const columnsOf = new WeakMap<Database.Statement, string[]>();
const cursors = new Map<number, OpenCursor>();
let nextCursor = 0;
let db: Database.Database;

/** First keyword (after comments) INSERT, UPDATE, DELETE or REPLACE: Python's test for an implicit BEGIN. */
const DML = /^(?:\s|--[^\n]*\n?|\/\*[\s\S]*?\*\/)*(INSERT|UPDATE|DELETE|REPLACE)\b/i;

function prepare(sql: string): Database.Statement {
  let stmt = cache.get(sql);
  if (stmt !== undefined) {
    cache.delete(sql);
  } else {
    stmt = db.prepare(sql);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(sql, stmt);
  return stmt;
}

/** Binary values arrive as `Uint8Array`s; better-sqlite3 binds `Buffer`s. */
function value(v: unknown): unknown {
  return v instanceof Uint8Array && !Buffer.isBuffer(v)
    ? Buffer.from(v.buffer, v.byteOffset, v.byteLength)
    : v;
}

function bind(params: Params | undefined): unknown[] {
  if (params === undefined) return [];
  if (Array.isArray(params)) return params.map(value);
  const named: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) named[k] = value(v);
  return [named];
}

/** Reads every open cursor to its end, so that another statement can run. */
function settleCursors(): void {
  for (const c of cursors.values()) {
    if (c.iter === null) continue;
    for (let r = c.iter.next(); !r.done; r = c.iter.next()) c.buffered.push(r.value);
    c.iter = null;
  }
}

function begin(sql: string, isolation: string | null): void {
  if (isolation !== null && !db.inTransaction && DML.test(sql)) prepare(`BEGIN ${isolation}`).run();
}

function outcome(
  columns: string[] | null,
  rows: unknown[][],
  cursor: number,
  lastrowid: Outcome['lastrowid'],
  rowcount: number,
): Outcome {
  return { columns, rows, cursor, lastrowid, rowcount, inTransaction: db.inTransaction };
}

/** Up to `n` rows (all for n < 0) from `c`; true in `more` while rows remain. */
function take(c: OpenCursor, n: number): { rows: unknown[][]; more: boolean } {
  const limit = n < 0 ? Infinity : n;
  const rows = c.buffered.length <= limit ? c.buffered.splice(0) : c.buffered.splice(0, limit);
  while (c.iter !== null && rows.length < limit) {
    const r = c.iter.next();
    if (r.done) c.iter = null;
    else rows.push(r.value);
  }
  return { rows, more: c.iter !== null || c.buffered.length > 0 };
}

function execute(sql: string, params: Params | undefined, isolation: string | null): Outcome {
  settleCursors();
  const stmt = prepare(sql);
  begin(sql, isolation);
  const args = bind(params);
  if (!stmt.reader) {
    const info = stmt.run(...args);
    return outcome(null, [], 0, info.lastInsertRowid, info.changes);
  }
  let columns = columnsOf.get(stmt);
  if (columns === undefined) {
    stmt.raw(true);
    columns = stmt.columns().map((c) => c.name);
    columnsOf.set(stmt, columns);
  }
  const open: OpenCursor = { iter: stmt.iterate(...args) as Iterator<unknown[]>, buffered: [] };
  const { rows, more } = take(open, CHUNK);
  if (!more) return outcome(columns, rows, 0, null, -1);
  const id = ++nextCursor;
  cursors.set(id, open);
  return outcome(columns, rows, id, null, -1);
}

function executemany(sql: string, list: readonly Params[], isolation: string | null): Outcome {
  settleCursors();
  const stmt = prepare(sql);
  if (stmt.reader) throw new TypeError('executemany() cannot run a statement that returns rows');
  begin(sql, isolation);
  let changes = 0;
  let last: number | bigint | null = null;
  for (const params of list) {
    const info = stmt.run(...bind(params));
    changes += info.changes;
    last = info.lastInsertRowid;
  }
  return outcome(null, [], 0, last, changes);
}

function endTransaction(sql: 'COMMIT' | 'ROLLBACK'): Outcome {
  settleCursors();
  if (db.inTransaction) prepare(sql).run();
  return outcome(null, [], 0, null, -1);
}

function handle(req: Request): Outcome {
  switch (req.op) {
    case 'execute':
      return execute(req.sql, req.params, req.isolation);
    case 'executemany':
      return executemany(req.sql, req.list, req.isolation);
    case 'executescript':
      // As Python's executescript: COMMIT what is pending, then run the script as it is.
      endTransaction('COMMIT');
      db.exec(req.sql);
      return outcome(null, [], 0, null, -1);
    case 'fetch': {
      const c = cursors.get(req.cursor);
      if (c === undefined) return outcome(null, [], 0, null, -1);
      const { rows, more } = take(c, req.n);
      if (!more) cursors.delete(req.cursor);
      return outcome(null, rows, more ? req.cursor : 0, null, -1);
    }
    case 'closeCursor': {
      cursors.get(req.cursor)?.iter?.return?.();
      cursors.delete(req.cursor);
      return outcome(null, [], 0, null, -1);
    }
    case 'commit':
      return endTransaction('COMMIT');
    case 'rollback':
      return endTransaction('ROLLBACK');
    case 'close':
      // As Python's close(): what was not committed is dropped.
      for (const c of cursors.values()) c.iter?.return?.();
      cursors.clear();
      cache.clear();
      db.close();
      return { columns: null, rows: [], cursor: 0, lastrowid: null, rowcount: -1, inTransaction: false };
  }
}

/** `read()`, or `fallback` if it throws. */
function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** An error's name, message and code as plain strings; never throws, whatever was thrown. */
function errorOf(error: unknown): Extract<Reply, { ok: false }>['error'] {
  const field = (key: 'name' | 'message' | 'code'): unknown =>
    attempt(() => (error as Record<string, unknown> | null)?.[key], undefined);
  const name = field('name');
  const message = field('message');
  const code = field('code');
  const out: Extract<Reply, { ok: false }>['error'] = {
    name: typeof name === 'string' ? name : 'Error',
    message:
      typeof message === 'string' ? message : attempt(() => String(error), 'an error that cannot be read'),
  };
  if (typeof code === 'string') out.code = code;
  return out;
}

const KNOWN_OPS = new Set<string>(OPS);

/** A request that came through the port, checked: an object with a numeric id and a known op. */
function asRequest(msg: unknown): Request {
  if (msg === null || typeof msg !== 'object') throw new TypeError('the worker was sent no request');
  const { id, op, unsendable } = msg as { id?: unknown; op?: unknown; unsendable?: unknown };
  if (typeof unsendable === 'string') throw new TypeError(`the request could not be sent: ${unsendable}`);
  if (typeof id !== 'number' || !Number.isInteger(id))
    throw new TypeError('the worker was sent a request with no id');
  if (typeof op !== 'string' || !KNOWN_OPS.has(op))
    throw new TypeError(`the worker was sent an unknown request: ${String(op)}`);
  return msg as Request;
}

/** Runs `req` (unless it was cancelled before it ran), and its reply. */
function run(req: Request): Reply {
  if (Atomics.load(options.cancelled, req.id % CANCEL_SLOTS) === (req.id | 0)) {
    // Cancelled before it ran: it leaves no trace.
    return { id: req.id, ok: false, skipped: true, error: { name: 'CancelledError', message: 'cancelled' } };
  }
  try {
    if (!KNOWN_OPS.has(req.op))
      throw new TypeError(`the worker was sent an unknown request: ${String(req.op)}`);
    return { id: req.id, ok: true, result: handle(req) };
  } catch (error) {
    return { id: req.id, ok: false, error: errorOf(error) };
  }
}

/** Posts a reply through the port; one that cannot be sent (it never should) is answered with an error instead. */
function post(reply: Reply): void {
  try {
    options.port.postMessage(reply);
  } catch (error) {
    options.port.postMessage({ id: reply.id, ok: false, error: errorOf(error) } satisfies Reply);
  }
}

const header = new Int32Array(options.channel, 0, 16);
/** The longest a reply written waits for the rest of its batch before the main thread is woken, ms. */
const NOTIFY_MS = 1;
/**
 * How long the thread watches for the next batch before it sleeps: the next statement of a task
 * that awaits one after another comes within microseconds, and waking a sleeping thread costs tens
 * of them (more on an idle machine, whose cores sleep too).
 */
const SPIN_MS = 0.05;
const requests = new Wire(options.channel);
const replies = new Wire(options.channel);

/**
 * Serves the channel until the connection is closed: waits for each batch,
 * runs its requests in order, and writes each reply (or, too big for the
 * area, posts it) as soon as it is made.
 */
function serve(): void {
  let batch = 0;
  let done = 0;
  for (;;) {
    // A short watch first (SPIN_MS), then sleep until the main thread's notify.
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(header, H_BATCH) === batch && performance.now() < until);
    while (Atomics.load(header, H_BATCH) === batch) Atomics.wait(header, H_BATCH, batch);
    batch = Atomics.load(header, H_BATCH);
    const count = Atomics.load(header, H_COUNT);
    let notified = performance.now();
    requests.at(REQUEST_START, REPLY_START);
    replies.at(REPLY_START, REPLY_START + REPLY_BYTES);
    let closed = false;
    let unreadable: unknown = null;
    for (let i = 0; i < count; i++) {
      let reply: Reply;
      let entry: Request | typeof VIA_PORT | null = null;
      try {
        if (unreadable === null) entry = requests.getRequest();
      } catch (error) {
        // The batch cannot be read past here (it never should happen): its other requests fail too.
        unreadable = error;
      }
      try {
        if (entry === null) throw unreadable;
        const req = entry === VIA_PORT ? asRequest(receiveMessageOnPort(options.port)?.message) : entry;
        reply = run(req);
        closed = req.op === 'close' && reply.ok;
      } catch (error) {
        reply = { id: entry === null || entry === VIA_PORT ? 0 : entry.id, ok: false, error: errorOf(error) };
      }
      const start = replies.pos;
      try {
        replies.limit = REPLY_START + REPLY_BYTES - MARKER_BYTES * (count - i);
        replies.putReply(reply);
      } catch {
        replies.at(start, REPLY_START + REPLY_BYTES);
        post(reply);
        replies.putViaPort(reply.id);
      }
      done = (done + 1) | 0;
      Atomics.store(header, H_DONE, done);
      // The main thread is woken once a batch (each wake costs it a trip through the kernel and the
      // scheduler), or sooner when the batch takes long: a reply waits at most NOTIFY_MS for the others.
      const now = i + 1 === count || closed ? 0 : performance.now();
      if (now === 0 || now - notified >= NOTIFY_MS) {
        Atomics.notify(header, H_DONE);
        notified = now === 0 ? performance.now() : now;
      }
      if (closed) return;
    }
  }
}

let opened = false;
try {
  db = new Database(options.path, {
    readonly: options.readonly,
    timeout: options.timeout,
    fileMustExist: options.readonly,
  });
  opened = true;
} catch (error) {
  port.postMessage({ id: 0, ok: false, error: errorOf(error) } satisfies Reply);
}
if (opened) {
  port.postMessage({ id: 0, ok: true, result: outcome(null, [], 0, null, -1) } satisfies Reply);
  // The thread now belongs to the channel: messages posted to it otherwise (there should be none;
  // `null`, garbage) are never read, and cannot take it down.
  serve();
}
options.port.close();
