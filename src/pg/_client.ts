/**
 * Private: the parts of node-postgres's `Client` and of its config that
 * tsaio uses, declared here so that tsaio's published declarations need
 * neither `pg` nor `@types/pg` to type-check. `_wire.ts` checks that a real
 * `pg.Client` has this shape.
 *
 * @module
 */

import type { ConnectionOptions } from 'node:tls';

/** Where and how to connect: the node-postgres client config that tsaio sets. */
export interface ClientConfig {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** TLS: `true`, or node's `tls.connect` options. */
  ssl?: boolean | ConnectionOptions;
  /** Command-line options for the server process (`-c name=value ...`). */
  options?: string;
}

/** One statement as tsaio hands it to node-postgres. */
export interface QueryConfig {
  text: string;
  values?: unknown[];
  name?: string;
  rowMode?: 'array';
}

/** What node-postgres resolves a statement to (the parts tsaio reads). */
export interface QueryResult {
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
}

/** A node-postgres `Client`, as tsaio uses it. */
export interface Client {
  readonly port: number;
  /** node-postgres's pipeline mode (its `pipeline` option): queries are sent without waiting for the previous one's answer. */
  pipeline: boolean;
  readonly database?: string | undefined;
  connect(): Promise<unknown>;
  query(config: QueryConfig | string): Promise<QueryResult>;
  end(): Promise<void>;
  getTransactionStatus(): string | null;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  once(event: 'end', listener: () => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
}
