/**
 * `Cursor`, after `aiosqlite.Cursor` / `sqlite3.Cursor`.
 *
 * @module
 */

import { describe } from '../_lowlevel.js';
import { CHUNK, type Outcome } from './_messages.js';
import type { CallOptions, Connection } from './connection.js';

/** Rows as objects keyed by column name (`'object'`) or as arrays (`'array'`). */
export type RowMode = 'object' | 'array';

/** A row: an object keyed by column name, or an array with `rowMode: 'array'`. */
export type Row = Record<string, unknown> | unknown[];

/**
 * The result of `execute`: its rows (read with `fetchone`, `fetchmany`,
 * `fetchall` or `for await`), `lastrowid`, `rowcount` and `description`.
 * The first rows come with the result; the rest stay in the worker and are
 * fetched in chunks. Closing it (or `await using`) frees them. Same as
 * `aiosqlite.Cursor`.
 *
 * @example Reading rows
 * ```ts
 * import { connect } from 'tsaio/sqlite';
 * await using db = await connect(':memory:');
 * await using cur = await db.execute('SELECT value AS n FROM json_each(?)', ['[1,2,3]']);
 * console.log(await cur.fetchone(), await cur.fetchmany(5), await cur.fetchone()); // { n: 1 } [ { n: 2 }, { n: 3 } ] null
 * ```
 */
export class Cursor implements AsyncIterable<Row>, AsyncDisposable {
  /** The rowid of the last row inserted (or `null`). Same as `Cursor.lastrowid`. */
  readonly lastrowid: number | bigint | null;
  /** Rows changed by an INSERT/UPDATE/DELETE (the total for `executemany`); -1 for a SELECT. */
  readonly rowcount: number;
  /** How many rows `fetchmany()` reads by default (1, as in Python). */
  arraysize = 1;
  private readonly _columns: string[] | null;
  private _rows: unknown[][];
  private _at = 0;
  private _cursor: number;
  private _closed = false;

  /** @internal Made by `Connection.execute`. */
  constructor(
    private readonly _conn: Connection,
    outcome: Outcome,
    private readonly _mode: RowMode,
  ) {
    this._columns = outcome.columns;
    this._rows = outcome.rows;
    this._cursor = outcome.cursor;
    this.lastrowid = outcome.lastrowid;
    this.rowcount = outcome.rowcount;
  }

  /** The column names (Python's `description` holds them as 7-tuples), or `null` when the statement returns no rows. */
  get description(): readonly string[] | null {
    return this._columns;
  }

  /** The next row, or `null` at the end. Same as `Cursor.fetchone`. */
  async fetchone(opts?: CallOptions): Promise<Row | null> {
    if (this._at >= this._rows.length && !(await this._more(CHUNK, opts))) return null;
    return this._row(this._rows[this._at++]!);
  }

  /** Up to `size` rows (default `arraysize`); `[]` at the end. Same as `Cursor.fetchmany`. */
  async fetchmany(size: number = this.arraysize, opts?: CallOptions): Promise<Row[]> {
    if (!Number.isInteger(size) || size < 0) {
      throw new RangeError(
        `Cursor.fetchmany: size must be a non-negative integer, received ${describe(size)}`,
      );
    }
    const taken: unknown[][] = [];
    while (taken.length < size) {
      if (this._at >= this._rows.length && !(await this._refill(taken, size - taken.length, opts))) break;
      const end = Math.min(this._rows.length, this._at + size - taken.length);
      for (; this._at < end; this._at++) taken.push(this._rows[this._at]!);
    }
    return taken.map((values) => this._row(values));
  }

  /** Every remaining row. Same as `Cursor.fetchall`. */
  async fetchall(opts?: CallOptions): Promise<Row[]> {
    const taken: unknown[][] = [];
    for (;;) {
      for (; this._at < this._rows.length; this._at++) taken.push(this._rows[this._at]!);
      if (!(await this._refill(taken, -1, opts))) return taken.map((values) => this._row(values));
    }
  }

  /**
   * `_more` for a fetch that has `taken` rows so far: if it fails (it was
   * cancelled, say), the rows go back to the cursor first, so that the fetch
   * takes nothing and the next one finds them.
   */
  private async _refill(taken: unknown[][], n: number, opts: CallOptions | undefined): Promise<boolean> {
    try {
      return await this._more(n < 0 ? -1 : Math.max(n, CHUNK), opts);
    } catch (error) {
      this._rows = taken.concat(this._rows.slice(this._at));
      this._at = 0;
      throw error;
    }
  }

  /** Frees the rows still waiting in the worker; closing twice is harmless. */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    this._rows = [];
    this._at = 0;
    const cursor = this._cursor;
    this._cursor = 0;
    if (cursor !== 0 && !this._conn.closed)
      await this._conn._call({ op: 'closeCursor', cursor }, 'Cursor.close', {});
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Row> {
    try {
      for (let row = await this.fetchone(); row !== null; row = await this.fetchone()) yield row;
    } finally {
      await this.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Fetches the next chunk from the worker; false when there is none. */
  private async _more(n: number, opts: CallOptions | undefined): Promise<boolean> {
    if (this._cursor === 0) return false;
    const got = await this._conn._call({ op: 'fetch', cursor: this._cursor, n }, 'Cursor.fetch', opts ?? {});
    this._rows = got.rows;
    this._at = 0;
    this._cursor = got.cursor;
    return got.rows.length > 0;
  }

  private _row(values: unknown[]): Row {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v instanceof Uint8Array && !Buffer.isBuffer(v))
        values[i] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
    if (this._mode === 'array') return values;
    const row: Record<string, unknown> = {};
    const columns = this._columns!;
    for (let i = 0; i < columns.length; i++) row[columns[i]!] = values[i];
    return row;
  }

  toString(): string {
    return `<Cursor rowcount=${this.rowcount}${this._closed ? ' closed' : ''}>`;
  }
}
