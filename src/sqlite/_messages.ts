/**
 * Private: the messages between a `Connection` and its worker thread.
 *
 * @module
 */

import type { MessagePort } from 'node:worker_threads';

/** A parameter list: positional (`?`) or named (`:name`, `@name`, `$name`). */
export type Params = readonly unknown[] | Readonly<Record<string, unknown>>;

/** What the main thread asks. `id` matches the reply. */
export type Request =
  | { id: number; op: 'execute'; sql: string; params: Params | undefined; isolation: string | null }
  | { id: number; op: 'executemany'; sql: string; list: readonly Params[]; isolation: string | null }
  | { id: number; op: 'executescript'; sql: string }
  | { id: number; op: 'fetch'; cursor: number; n: number }
  | { id: number; op: 'closeCursor'; cursor: number }
  | { id: number; op: 'commit' | 'rollback' | 'close' };

/** What a statement gave back. */
export interface Outcome {
  /** Column names, or `null` for a statement that returns no rows. */
  columns: string[] | null;
  /** The first rows (as arrays), or the rows fetched. */
  rows: unknown[][];
  /** Non-zero while more rows wait in the worker under this cursor id. */
  cursor: number;
  lastrowid: number | bigint | null;
  rowcount: number;
  /** Whether a transaction is open after the statement. */
  inTransaction: boolean;
}

/** The worker's answer. `skipped`: the request was cancelled before it ran, and did not run. */
export type Reply =
  | { id: number; ok: true; result: Outcome }
  | { id: number; ok: false; skipped?: true; error: { name: string; message: string; code?: string } };

/** Options the worker opens the database with. */
export interface OpenOptions {
  path: string;
  /**
   * Cancelled request ids: the main thread writes a request's id at
   * `id % CANCEL_SLOTS` when its signal aborts; the worker skips a request
   * it finds there instead of running it.
   */
  cancelled: Int32Array;
  /** The shared memory of the request and reply areas (`_channel.ts`). */
  channel: SharedArrayBuffer;
  /** The port for what does not fit in the channel's areas (transferred to the worker). */
  port: MessagePort;
  readonly: boolean;
  /** Busy timeout, ms. */
  timeout: number;
}

/** Slots of `OpenOptions.cancelled`: more than the requests in flight at once. */
export const CANCEL_SLOTS = 256;

/** Rows sent with a reply before the rest waits in the worker. */
export const CHUNK = 256;
