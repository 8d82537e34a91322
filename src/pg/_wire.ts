/**
 * Private: what `tsaio/pg` asks of node-postgres — opening a `Client`,
 * describing a statement (Parse + Describe + Sync, through node-postgres's
 * public "submittable" interface), PostgreSQL's cancel request (node-postgres's
 * own `Connection.cancel`), and turning what node-postgres throws into
 * tsaio's typed errors. No protocol message is written here by hand.
 *
 * @module
 */

import type Pg from 'pg';
import type { Client, ClientConfig } from './_client.js';
import { pg } from './_driver.js';
import { typeParsers } from './_types.js';
import {
  ConnectionDoesNotExistError,
  PostgresConnectionError,
  PostgresError,
  errorClassFor,
  type PostgresErrorFields,
} from './errors.js';

/** What a statement's Describe said: its parameters' type OIDs and its columns. */
export interface Description {
  params: number[];
  fields: { name: string; dataTypeID: number }[];
}

/** The node-postgres internals tsaio reads: the protocol connection, its statement table. */
export interface WireConnection {
  on(event: string, listener: (msg: never) => void): void;
  parse(msg: { name: string; text: string; types: number[] }): void;
  describe(msg: { type: 'S' | 'P'; name: string }): void;
  sync(): void;
  parsedStatements: Record<string, string>;
  stream: { destroy(error?: Error): void; cork(): void; uncork(): void };
}

/** The socket-level view of a node-postgres `Client`. */
export function wireOf(client: Client): WireConnection {
  return (client as unknown as { connection: WireConnection }).connection;
}

/** A `Client` with tsaio's type parsers; not connected yet. */
export function newClient(config: ClientConfig): Client {
  const client: Pg.Client = new pg.Client({ ...config, types: typeParsers });
  return client;
}

/**
 * A node-postgres submittable that parses `text` as the statement `name` and
 * describes it; node-postgres records it as parsed, so later executions of
 * `name` send only Bind/Execute. The parameter types arrive in a
 * ParameterDescription message, which node-postgres does not route to
 * queries: the connection's listener (`onParameterDescription`) hands them in.
 */
export class DescribeStatement {
  readonly promise: Promise<Description>;
  private _resolve!: (d: Description) => void;
  private _reject!: (e: unknown) => void;
  private _error: unknown = null;
  params: number[] = [];
  private _fields: Description['fields'] = [];

  constructor(
    readonly name: string,
    readonly text: string,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
  }

  submit(connection: WireConnection): null {
    connection.parse({ name: this.name, text: this.text, types: [] });
    connection.describe({ type: 'S', name: this.name });
    connection.sync();
    return null;
  }

  handleRowDescription(msg: { fields: Description['fields'] }): void {
    this._fields = msg.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
  }

  handleError(error: unknown): void {
    // An ErrorResponse ends the statement; node-postgres calls nothing else for it.
    this._error = error;
    this._reject(error);
  }

  handleReadyForQuery(): void {
    if (this._error === null) this._resolve({ params: this.params, fields: this._fields });
  }

  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}

/**
 * Sends PostgreSQL's cancel request for whatever `client`'s backend is
 * running, on a new connection, as node-postgres's `Client.cancel` does, and
 * resolves once the server has closed that connection (it has then signalled
 * the backend). Never rejects: a cancel request that cannot be delivered
 * changes nothing.
 */
export function sendCancelRequest(client: Client): Promise<void> {
  const { processID, secretKey } = client as unknown as { processID: number; secretKey: number };
  const params = client as unknown as { host: string; port: number };
  const con = new pg.Connection() as unknown as WireConnection & {
    connect(portOrPath: number | string, host?: string): void;
    cancel(pid: number, key: number): void;
    once(event: string, fn: () => void): void;
  };
  return new Promise((resolve) => {
    con.on('error', () => resolve());
    con.once('end', () => resolve());
    con.once('connect', () => con.cancel(processID, secretKey));
    if (params.host?.startsWith('/')) con.connect(`${params.host}/.s.PGSQL.${params.port}`);
    else con.connect(params.port, params.host);
  });
}

interface DriverError {
  message?: string;
  code?: string;
  severity?: string;
  detail?: string;
  hint?: string;
  position?: string;
  internalPosition?: string;
  internalQuery?: string;
  where?: string;
  schema?: string;
  table?: string;
  column?: string;
  dataType?: string;
  constraint?: string;
  routine?: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** A server error (node-postgres's `DatabaseError`) as the typed `PostgresError` for its SQLSTATE. */
export function serverError(error: unknown): PostgresError | null {
  const e = error as DriverError | null;
  if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || !SQLSTATE.test(e.code))
    return null;
  if (!(error instanceof pg.DatabaseError)) return null;
  const fields: PostgresErrorFields = {
    severity: e.severity,
    detail: e.detail,
    hint: e.hint,
    position: e.position,
    internalPosition: e.internalPosition,
    internalQuery: e.internalQuery,
    where: e.where,
    schemaName: e.schema,
    tableName: e.table,
    columnName: e.column,
    dataTypeName: e.dataType,
    constraintName: e.constraint,
    routine: e.routine,
  };
  const cls = errorClassFor(e.code);
  return new cls(e.message ?? 'PostgreSQL error', e.code, fields, { cause: error });
}

/** What a failed query throws: the server's typed error, or the connection's loss. */
export function queryError(error: unknown, lost: Error | null): Error {
  const typed = serverError(error);
  if (typed !== null) return typed;
  if (lost !== null) return lost;
  if (error instanceof TypeError || error instanceof RangeError) return error;
  return connectionLost(error);
}

/** `ConnectionDoesNotExistError` for a connection that went away in the middle of an operation. */
export function connectionLost(cause: unknown): ConnectionDoesNotExistError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new ConnectionDoesNotExistError(
    `the connection was closed in the middle of an operation (${why})`,
    '08003',
    {},
    { cause },
  );
}

/** What a failed connect throws: the server's typed error, or `PostgresConnectionError` (08001). */
export function connectError(error: unknown, where: string): Error {
  const typed = serverError(error);
  if (typed !== null) return typed;
  const why = error instanceof Error ? error.message : String(error);
  return new PostgresConnectionError(`could not connect to ${where}: ${why}`, '08001', {}, { cause: error });
}
