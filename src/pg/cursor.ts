/**
 * `Cursor`, after `asyncpg.cursor`: a server-side cursor (`DECLARE ...
 * CURSOR`, `FETCH n`), read in chunks or with `for await`.
 *
 * @module
 */

import { InvalidStateError } from '../exceptions.js';
import { describe } from '../_lowlevel.js';
import type { QueryOptions } from './_args.js';
import type { Row } from './_call.js';
import type { ConnectionLike } from './_queryable.js';

let cursorId = 0;

/**
 * A server-side cursor, opened on first use, inside the transaction that
 * must be open on its connection. `for await` reads `prefetch` rows per
 * round trip and closes the cursor at the end or on `break`. Same as
 * asyncpg's `Cursor` / `CursorFactory`.
 *
 * @example Chunks
 * ```ts
 * import { connect } from 'tsaio/pg';
 * await using conn = await connect(process.env.DATABASE_URL ?? 'postgres://127.0.0.1/test');
 * await using tx = await conn.transaction();
 * await using cur = tx.cursor('SELECT n FROM generate_series(1, 5) AS n');
 * console.log(await cur.fetch(2), await cur.fetchrow()); // [ { n: 1 }, { n: 2 } ] { n: 3 }
 * ```
 */
export class Cursor<R extends Row = Row> implements AsyncIterable<R>, AsyncDisposable {
  private _name: string | null = null;
  private _opening: Promise<string> | null = null;
  private _closed = false;

  /** @internal Use `conn.cursor()`. */
  constructor(
    private readonly _owner: ConnectionLike,
    /** The query. */
    readonly sql: string,
    private readonly _params: readonly unknown[],
    /** Rows per round trip for `for await`. */
    readonly prefetch: number,
    private readonly _opts: QueryOptions,
  ) {}

  private _open(opts: QueryOptions): Promise<string> {
    if (this._closed) return Promise.reject(new InvalidStateError('Cursor: the cursor is closed'));
    this._opening ??= (async () => {
      const where = 'Cursor';
      const name = `tsaio_cursor_${++cursorId}`;
      const text = `DECLARE ${name} NO SCROLL CURSOR FOR ${this.sql}`;
      await this._owner._use(where, null, async (conn) => {
        if (!conn.isInTransaction()) {
          throw new InvalidStateError(
            `${where}: a cursor can only be used inside a transaction (conn.transaction())`,
          );
        }
      });
      await this._owner._request(
        where,
        { text, params: this._params, mode: 'status', where, cache: false },
        opts,
      );
      this._name = name;
      return name;
    })();
    return this._opening;
  }

  /**
   * Reads the next `n` rows (fewer at the end; `[]` after it).
   *
   * @param n How many rows.
   * @param opts `{ signal, timeout }`.
   */
  async fetch(n: number, opts: QueryOptions = this._opts): Promise<R[]> {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`Cursor.fetch: n must be a positive integer, received ${describe(n)}`);
    }
    const name = await this._open(opts);
    if (this._closed) return [];
    const where = 'Cursor.fetch';
    const res = await this._owner._request(
      where,
      { text: `FETCH ${n} FROM ${name}`, params: [], mode: 'rows', where, cache: false },
      opts,
    );
    return res.rows as R[];
  }

  /** Reads the next row, or `null` at the end. */
  async fetchrow(opts: QueryOptions = this._opts): Promise<R | null> {
    return (await this.fetch(1, opts))[0] ?? null;
  }

  /** Closes the cursor on the server (if its transaction is still open); closing twice, or after the transaction, is harmless. */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    if (this._opening === null) return;
    const name = await this._opening.catch(() => null);
    if (name === null) return;
    const where = 'Cursor.close';
    try {
      await this._owner._use(where, null, async (conn) => {
        if (conn._txStatus() !== 'T') return; // the transaction ended (or failed): the cursor is gone
        await conn._query({ text: `CLOSE ${name}`, params: [], mode: 'status', where, cache: false }, null);
      });
    } catch {
      // The transaction or the connection is gone, and the cursor with it.
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<R> {
    try {
      for (;;) {
        const rows = await this.fetch(this.prefetch);
        yield* rows;
        if (rows.length < this.prefetch) return;
      }
    } finally {
      await this.close();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    return `<Cursor ${this._name ?? 'unopened'}${this._closed ? ' closed' : ''}>`;
  }
}
