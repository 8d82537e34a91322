/**
 * `connect`: a connection to a NATS server with JetStream, on the official
 * client (`@nats-io/transport-node`, `@nats-io/jetstream`). It reconnects by
 * itself when the server goes away and comes back, and tells the queues
 * opened on it when it is lost, so that a put waiting for the server's answer
 * can fail at once instead of hanging.
 *
 * @module
 */

import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { InvalidStateError, cancelledFrom } from '../exceptions.js';
import { CancelScope, ParkingLot, checkSignal, describe } from '../_lowlevel.js';
import { jetstream, jetstreamManager, natsConnect } from './_driver.js';
import { NatsError, NoServerError } from './errors.js';

/** The address `connect()` uses when given none: the usual local server. */
export const DEFAULT_SERVER = '127.0.0.1:4222';

/** Options of `connect`. */
export interface ConnectOptions {
  /** One address or several (`host:port` or `nats://host:port`); default `127.0.0.1:4222`. */
  servers?: string | readonly string[];
  /** The connection's name, as the server's monitoring shows it. */
  name?: string;
  /** How long to wait for the first connection, in ms (default 5,000). */
  timeout?: number;
  /** How many times to try to reconnect after losing the server (default -1: for ever). */
  maxReconnectAttempts?: number;
  /** Wait between two reconnect attempts, in ms (default 500). */
  reconnectTimeWait?: number;
  /** Any other option of the official client, passed through as is. */
  client?: Partial<NodeConnectionOptions>;
  /** Aborting it abandons the connect (`CancelledError`); a connection made meanwhile is closed. */
  signal?: AbortSignal;
}

/** Something opened on a connection that `close()` closes first (a queue, an executor). */
export interface Closeable {
  close(): Promise<void>;
}

/**
 * A connection to NATS with JetStream. Made by `connect`; `await using` closes
 * it (and everything opened on it). `raw`, `js` and `jsm` are the official
 * client's connection, JetStream client and JetStream manager, for anything
 * tsaio does not wrap. Same role as nats.py's `NATS` client object.
 *
 * @example The official client underneath
 * ```ts
 * import { connect } from 'tsaio/nats';
 * await using conn = await connect();
 * console.log(conn.server, (await conn.jsm.getAccountInfo()).streams >= 0); // 127.0.0.1:4222 true
 * ```
 */
export class Connection implements AsyncDisposable {
  private _connected = true;
  private readonly _lostHooks = new Set<() => void>();
  private readonly _reconnectHooks = new Set<() => void>();
  private readonly _waitingForServer = new ParkingLot<void>('nats reconnect');
  private readonly _opened = new Set<Closeable>();
  private _closing: Promise<void> | null = null;
  private readonly _statusLoop: Promise<void>;

  /** @internal Use `connect()`. */
  constructor(
    readonly raw: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly servers: readonly string[],
  ) {
    this._statusLoop = this._followStatus();
  }

  /** True while the connection to the server is up (false while it reconnects, and once closed). */
  get connected(): boolean {
    return this._connected && this._closing === null;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this._closing !== null;
  }

  /** The address of the server currently connected to. */
  get server(): string {
    return this.raw.getServer();
  }

  private async _followStatus(): Promise<void> {
    for await (const status of this.raw.status()) {
      if (status.type === 'disconnect') {
        this._connected = false;
        for (const hook of [...this._lostHooks]) hook();
      } else if (status.type === 'reconnect') {
        this._connected = true;
        this._waitingForServer.unparkAll(undefined);
        for (const hook of [...this._reconnectHooks]) hook();
      }
    }
  }

  /** @internal Runs `hook` whenever the connection is lost; returns the undo. */
  _onLost(hook: () => void): () => void {
    this._lostHooks.add(hook);
    return () => this._lostHooks.delete(hook);
  }

  /** @internal Runs `hook` whenever the connection comes back; returns the undo. */
  _onReconnect(hook: () => void): () => void {
    this._reconnectHooks.add(hook);
    return () => this._reconnectHooks.delete(hook);
  }

  /** @internal Resolves once connected (at once if it is); rejects if closed or `signal` aborts. */
  _whenConnected(signal: AbortSignal | undefined): Promise<void> {
    if (this._closing !== null) return Promise.reject(this._closedError());
    if (this._connected) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(cancelledFrom(signal.reason));
    return this._waitingForServer.park(signal);
  }

  /** @internal The error for a use after `close()`. */
  _closedError(): InvalidStateError {
    return new InvalidStateError(`the NATS connection to ${this.servers.join(', ')} is closed`);
  }

  /** @internal Registers something `close()` closes first; returns the undo. */
  _adopt(child: Closeable): () => void {
    if (this._closing !== null) throw this._closedError();
    this._opened.add(child);
    return () => this._opened.delete(child);
  }

  /**
   * Closes everything opened on this connection (queues, executors), then
   * the connection. Safe to call twice.
   *
   * @returns A promise that resolves once the connection is closed.
   */
  close(): Promise<void> {
    this._closing ??= (async () => {
      await Promise.allSettled([...this._opened].map((c) => c.close()));
      this._waitingForServer.rejectAll(() => this._closedError());
      if (!this.raw.isClosed()) await this.raw.close();
      await this._statusLoop;
      this._connected = false;
    })();
    return this._closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  toString(): string {
    return `<Connection ${this.servers.join(',')} ${this.closed ? 'closed' : this._connected ? 'connected' : 'reconnecting'}>`;
  }
}

function normalize(arg: string | readonly string[] | ConnectOptions | undefined): ConnectOptions {
  if (arg === undefined) return {};
  if (typeof arg === 'string' || Array.isArray(arg)) return { servers: arg as string | readonly string[] };
  if (typeof arg !== 'object' || arg === null) {
    throw new TypeError(`connect: expected server addresses or an options object, received ${describe(arg)}`);
  }
  return arg as ConnectOptions;
}

function serverList(servers: string | readonly string[] | undefined): string[] {
  const list =
    servers === undefined ? [DEFAULT_SERVER] : typeof servers === 'string' ? [servers] : [...servers];
  if (list.length === 0 || list.some((s) => typeof s !== 'string' || s.trim() === '')) {
    throw new TypeError(`connect: servers must be non-empty strings, received ${describe(servers)}`);
  }
  return list;
}

async function open(opts: ConnectOptions, servers: string[]): Promise<Connection> {
  let raw: NatsConnection;
  try {
    raw = await natsConnect({
      maxReconnectAttempts: opts.maxReconnectAttempts ?? -1,
      reconnectTimeWait: opts.reconnectTimeWait ?? 500,
      timeout: opts.timeout ?? 5000,
      ...(opts.name !== undefined ? { name: opts.name } : {}),
      ...opts.client,
      servers,
    });
  } catch (error) {
    throw new NoServerError(
      `no NATS server answered at ${servers.join(', ')}: ${(error as Error).message}`,
      servers,
      { cause: error },
    );
  }
  try {
    const jsm = await jetstreamManager(raw);
    return new Connection(raw, jetstream(raw), jsm, servers);
  } catch (error) {
    await raw.close().catch(() => {});
    if ((error as Error).name === 'JetStreamNotEnabled') {
      throw new NoServerError(
        `the NATS server at ${servers.join(', ')} answered, but JetStream is not enabled on it ` +
          '(start nats-server with -js)',
        servers,
        { cause: error },
      );
    }
    throw new NatsError(`JetStream check failed at ${servers.join(', ')}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The cancel scope of `connect`, on its signal: aborting rejects the connect and closes the connection once made. */
class Connecting extends CancelScope {
  constructor(
    private readonly _opening: Promise<Connection>,
    private readonly _reject: (reason: unknown) => void,
  ) {
    super();
  }

  override _onCancel(reason: unknown): void {
    this._reject(reason);
    this._opening.then(
      (c) => c.close(),
      () => {},
    );
  }
}

/**
 * Connects to a NATS server with JetStream. Same role as `nats.connect` of
 * nats.py, and `await using` closes it as `async with` does there.
 *
 * @param servers Addresses (`'127.0.0.1:4222'`, an array), or an options object.
 * @returns A `Connection`.
 * @throws {NoServerError} If no server answers, or it has no JetStream.
 * @throws {CancelledError} If `signal` aborts first.
 *
 * @example Connect, use, close
 * ```ts
 * import { connect } from 'tsaio/nats';
 * await using conn = await connect('127.0.0.1:4222');
 * console.log(conn.connected); // true
 * ```
 */
export async function connect(servers?: string | readonly string[] | ConnectOptions): Promise<Connection> {
  const opts = normalize(servers);
  const signal = checkSignal(opts.signal, 'connect');
  const list = serverList(opts.servers);
  if (signal?.aborted) throw cancelledFrom(signal.reason);
  const opening = open(opts, list);
  if (signal === undefined) return opening;
  return new Promise<Connection>((resolve, reject) => {
    const scope = new Connecting(opening, reject).open(signal, null);
    opening.then(
      (c) => {
        scope.end();
        if (scope.aborted) void c.close();
        else resolve(c);
      },
      (e: unknown) => {
        scope.end();
        reject(e);
      },
    );
  });
}
