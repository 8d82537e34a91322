/**
 * Private: the shared-memory channel between a `Connection` and its worker
 * thread, and the encoding of requests and replies in it.
 *
 * One `SharedArrayBuffer` per connection holds a header of `Int32`s, a
 * request area and a reply area. The main thread writes a batch of requests
 * (every call posted since the last batch, in call order) into the request
 * area, then bumps `H_BATCH` and notifies; the worker, blocked in
 * `Atomics.wait` on `H_BATCH` (after a short spin), runs them in order and
 * writes each reply into the reply area, bumping `H_DONE` and notifying after
 * each. The main thread reads the replies as `H_DONE` moves, and writes the
 * next batch once every reply of this one was read: one batch in flight at a
 * time, the areas rewritten from their start for each batch.
 *
 * A request or reply too big for its area goes through a private
 * `MessagePort` instead (structured clone); its entry in the area says so,
 * and the other side takes it with `receiveMessageOnPort`, in order.
 *
 * @module
 */

import type { Outcome, Params, Reply, Request } from './_messages.js';

/** Header slots (`Int32Array` indexes). */
export const H_BATCH = 0; // main: batches written so far (the worker waits on it)
export const H_COUNT = 1; // main: requests in the current batch
export const H_DONE = 2; // worker: replies written so far, wrapping at 2^31

const HEADER_BYTES = 64;
/** The request area: big enough for any ordinary batch; bigger requests go through the port. */
export const REQUEST_BYTES = 256 * 1024;
/** The reply area: a chunk of rows (`CHUNK`) of ordinary size fits many times over. */
export const REPLY_BYTES = 1024 * 1024;
export const REQUEST_START = HEADER_BYTES;
export const REPLY_START = HEADER_BYTES + REQUEST_BYTES;
export const CHANNEL_BYTES = REPLY_START + REPLY_BYTES;
/** Room kept at the end of the reply area for each reply still to come to say "through the port". */
export const MARKER_BYTES = 8;

/** Thrown by a `Wire` writing past its limit; the writer rewinds and sends the entry through the port. */
export const FULL: unique symbol = Symbol('full');

const T_NULL = 0;
const T_INT = 1;
const T_FLOAT = 2;
const T_TEXT = 3;
const T_BYTES = 4;
const T_BIGINT = 5;

/** The requests a worker serves, in the order of their codes on the wire. */
export const OPS = [
  'execute',
  'executemany',
  'executescript',
  'fetch',
  'closeCursor',
  'commit',
  'rollback',
  'close',
] as const;
const OP_CODE = new Map<string, number>(OPS.map((op, i) => [op, i]));
/** The op of an entry whose request (or reply) went through the port. */
export const VIA_PORT = 255;

const P_NONE = 0;
const P_LIST = 1;
const P_NAMED = 2;

/** Reply statuses. */
const R_OK = 0;
const R_ERROR = 1;
const R_SKIPPED = 2;

interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  utf8Write(s: string, offset: number, length: number): number;
}

/** A reader and writer of values over the channel's memory; `pos` is an absolute byte offset. */
export class Wire {
  readonly u8: Uint8Array;
  readonly dv: DataView;
  readonly buf: FastBuffer;
  pos = 0;
  limit = 0;

  constructor(readonly sab: SharedArrayBuffer) {
    this.u8 = new Uint8Array(sab);
    this.dv = new DataView(sab);
    this.buf = Buffer.from(sab) as FastBuffer;
  }

  /** Positions the wire at `pos`, writing no further than `limit`. */
  at(pos: number, limit: number): this {
    this.pos = pos;
    this.limit = limit;
    return this;
  }

  private room(n: number): number {
    const at = this.pos;
    if (at + n > this.limit) throw FULL;
    this.pos = at + n;
    return at;
  }

  putU8(v: number): void {
    this.u8[this.room(1)] = v;
  }

  putI32(v: number): void {
    this.dv.setInt32(this.room(4), v, true);
  }

  putF64(v: number): void {
    this.dv.setFloat64(this.room(8), v, true);
  }

  putText(s: string): void {
    const n = s.length;
    const at = this.room(4 + n); // at least one byte a character
    const u8 = this.u8;
    let i = 0;
    for (const start = at + 4; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      u8[start + i] = c;
    }
    if (i === n) {
      this.dv.setInt32(at, n, true);
      return;
    }
    // Not ASCII: UTF-8 (a lone surrogate becomes U+FFFD, as SQLite's binding of it does).
    const bytes = n * 3 <= this.limit - at - 4 ? -1 : Buffer.byteLength(s, 'utf8');
    if (bytes > this.limit - at - 4) throw FULL;
    const written = this.buf.utf8Write(s, at + 4, this.limit - at - 4);
    this.dv.setInt32(at, written, true);
    this.pos = at + 4 + written;
  }

  putBytes(b: Uint8Array): void {
    this.putI32(b.byteLength);
    this.u8.set(b, this.room(b.byteLength));
  }

  putValue(v: unknown): void {
    switch (typeof v) {
      case 'number':
        if ((v | 0) === v && !Object.is(v, -0)) {
          this.putU8(T_INT);
          this.putI32(v);
        } else {
          this.putU8(T_FLOAT);
          this.putF64(v);
        }
        return;
      case 'string':
        this.putU8(T_TEXT);
        this.putText(v);
        return;
      case 'bigint':
        this.putU8(T_BIGINT);
        this.putText(v.toString());
        return;
    }
    if (v === null || v === undefined) this.putU8(T_NULL);
    else if (v instanceof Uint8Array) {
      this.putU8(T_BYTES);
      this.putBytes(v);
    } else throw new TypeError(`a value of type ${typeof v} cannot cross to the SQLite worker`);
  }

  getU8(): number {
    return this.u8[this.pos++]!;
  }

  getI32(): number {
    const v = this.dv.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  getF64(): number {
    const v = this.dv.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  getText(): string {
    const n = this.getI32();
    const at = this.pos;
    this.pos = at + n;
    return this.buf.utf8Slice(at, at + n);
  }

  /** Bytes as a `Buffer` of their own (a copy: the area is rewritten by the next batch). */
  getBytes(): Buffer {
    const n = this.getI32();
    const at = this.pos;
    this.pos = at + n;
    return Buffer.from(this.u8.subarray(at, at + n));
  }

  getValue(): unknown {
    switch (this.getU8()) {
      case T_NULL:
        return null;
      case T_INT:
        return this.getI32();
      case T_FLOAT:
        return this.getF64();
      case T_TEXT:
        return this.getText();
      case T_BYTES:
        return this.getBytes();
      case T_BIGINT:
        return BigInt(this.getText());
      default:
        throw new RangeError('the channel holds a value of no known type');
    }
  }

  putParams(params: Params | undefined): void {
    if (params === undefined) {
      this.putU8(P_NONE);
    } else if (Array.isArray(params)) {
      this.putU8(P_LIST);
      this.putI32(params.length);
      for (let i = 0; i < params.length; i++) this.putValue(params[i]);
    } else {
      const keys = Object.keys(params);
      this.putU8(P_NAMED);
      this.putI32(keys.length);
      for (const k of keys) {
        this.putText(k);
        this.putValue((params as Record<string, unknown>)[k]);
      }
    }
  }

  getParams(): Params | undefined {
    const kind = this.getU8();
    if (kind === P_NONE) return undefined;
    const n = this.getI32();
    if (kind === P_LIST) {
      const list = new Array<unknown>(n);
      for (let i = 0; i < n; i++) list[i] = this.getValue();
      return list;
    }
    const named: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const k = this.getText();
      named[k] = this.getValue();
    }
    return named;
  }

  /** Writes `req`; throws `FULL` (with `pos` left anywhere) when it does not fit. */
  putRequest(req: Request): void {
    this.putU8(OP_CODE.get(req.op)!);
    this.putI32(req.id | 0);
    switch (req.op) {
      case 'execute':
        this.putText(req.sql);
        this.putValue(req.isolation);
        this.putParams(req.params);
        return;
      case 'executemany':
        this.putText(req.sql);
        this.putValue(req.isolation);
        this.putI32(req.list.length);
        for (const params of req.list) this.putParams(params);
        return;
      case 'executescript':
        this.putText(req.sql);
        return;
      case 'fetch':
        this.putI32(req.cursor);
        this.putI32(req.n);
        return;
      case 'closeCursor':
        this.putI32(req.cursor);
        return;
      default:
        return;
    }
  }

  /** Says that the next request (or reply) `id` is in the port. */
  putViaPort(id: number): void {
    this.putU8(VIA_PORT);
    this.putI32(id | 0);
  }

  /** The next request, or `VIA_PORT` when it is in the port. */
  getRequest(): Request | typeof VIA_PORT {
    const code = this.getU8();
    const id = this.getI32();
    if (code === VIA_PORT) return VIA_PORT;
    const op = OPS[code];
    switch (op) {
      case 'execute': {
        const sql = this.getText();
        const isolation = this.getValue() as string | null;
        return { id, op, sql, isolation, params: this.getParams() };
      }
      case 'executemany': {
        const sql = this.getText();
        const isolation = this.getValue() as string | null;
        const n = this.getI32();
        const list: Params[] = new Array<Params>(n);
        for (let i = 0; i < n; i++) list[i] = this.getParams() ?? [];
        return { id, op, sql, isolation, list };
      }
      case 'executescript':
        return { id, op, sql: this.getText() };
      case 'fetch': {
        const cursor = this.getI32();
        return { id, op, cursor, n: this.getI32() };
      }
      case 'closeCursor':
        return { id, op, cursor: this.getI32() };
      case 'commit':
      case 'rollback':
      case 'close':
        return { id, op };
      default:
        throw new RangeError(`the channel holds a request of no known op (${code})`);
    }
  }

  /** Writes `reply`; throws `FULL` when it does not fit. */
  putReply(reply: Reply): void {
    this.putU8(reply.ok ? R_OK : reply.skipped === true ? R_SKIPPED : R_ERROR);
    this.putI32(reply.id | 0);
    if (reply.ok) {
      const o = reply.result;
      this.putU8((o.inTransaction ? 1 : 0) | (o.columns !== null ? 2 : 0));
      this.putValue(o.lastrowid);
      this.putValue(o.rowcount);
      this.putI32(o.cursor);
      if (o.columns !== null) {
        this.putI32(o.columns.length);
        for (const c of o.columns) this.putText(c);
      }
      const rows = o.rows;
      this.putI32(rows.length);
      if (rows.length === 0) return;
      const width = rows[0]!.length;
      this.putI32(width);
      for (const row of rows) for (let i = 0; i < width; i++) this.putValue(row[i]);
    } else if (reply.skipped !== true) {
      this.putText(reply.error.name);
      this.putText(reply.error.message);
      this.putValue(reply.error.code ?? null);
    }
  }

  /** The next reply, or `VIA_PORT` when it is in the port. */
  getReply(): Reply | typeof VIA_PORT {
    const status = this.getU8();
    const id = this.getI32();
    if (status === VIA_PORT) return VIA_PORT;
    if (status === R_SKIPPED) {
      return { id, ok: false, skipped: true, error: { name: 'CancelledError', message: 'cancelled' } };
    }
    if (status === R_ERROR) {
      const name = this.getText();
      const message = this.getText();
      const code = this.getValue();
      return { id, ok: false, error: typeof code === 'string' ? { name, message, code } : { name, message } };
    }
    const flags = this.getU8();
    const lastrowid = this.getValue() as Outcome['lastrowid'];
    const rowcount = this.getValue() as number;
    const cursor = this.getI32();
    let columns: string[] | null = null;
    if ((flags & 2) !== 0) {
      const n = this.getI32();
      columns = new Array<string>(n);
      for (let i = 0; i < n; i++) columns[i] = this.getText();
    }
    const count = this.getI32();
    const rows: unknown[][] = new Array<unknown[]>(count);
    if (count > 0) {
      const width = this.getI32();
      for (let r = 0; r < count; r++) {
        const row = new Array<unknown>(width);
        for (let i = 0; i < width; i++) row[i] = this.getValue();
        rows[r] = row;
      }
    }
    return {
      id,
      ok: true,
      result: { columns, rows, cursor, lastrowid, rowcount, inTransaction: (flags & 1) !== 0 },
    };
  }
}
