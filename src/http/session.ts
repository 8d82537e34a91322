/**
 * `ClientSession`, after `aiohttp.ClientSession`, on undici's `Agent`
 * (`dispatch`/`request`, not its `fetch`).
 *
 * @module
 */

import { Agent, type Dispatcher } from 'undici';
import { InvalidStateError, cancelledFrom } from '../exceptions.js';
import { Semaphore, type Held } from '../locks.js';
import { RateLimiter } from '../ratelimit.js';
import { sleep } from '../sleep.js';
import { checkCount, checkSignal, debugState, describe, hooks } from '../_lowlevel.js';
import { NO_BODY, encodeBody, type EncodedBody, type RequestData } from './_body.js';
import { ConnectTracker } from './_connector.js';
import { DRAIN_LIMIT, Exchange } from './_exchange.js';
import { OpenRequests, RequestScope, translateError, type Limits, type Timeouts } from './_scope.js';
import { ClientError, ClientResponseError } from './errors.js';
import { ClientResponse } from './response.js';

/** Anything `new Headers(...)` takes. */
export type HeadersLike = ConstructorParameters<typeof Headers>[0];

/** The timeouts of a session or a request, in ms; `null` turns one off. */
export interface TimeoutOptions {
  /** The whole request, from the call until the body is read (default 300,000). */
  total?: number | null;
  /**
   * Getting a connection: from handing the request to the pool until it is on
   * a connection — opening one, or waiting for one of the origin's busy
   * `limitPerHost` connections (default: none, as aiohttp; `total` still covers it).
   */
  connect?: number | null;
  /**
   * The longest silence of the server while it owes bytes: from sending the
   * request until the headers, then between body chunks, the headers
   * restarting the clock (default: none).
   */
  sockRead?: number | null;
}

/** Options of `new ClientSession(...)`. */
export interface ClientSessionOptions {
  /** Relative request URLs are resolved against it. */
  baseUrl?: string | URL;
  /** Headers sent with every request. */
  headers?: HeadersLike;
  /** Timeouts; a number is `total`. */
  timeout?: TimeoutOptions | number;
  /** At most this many requests in flight at once, over all origins: sent, and their body not yet all in (default 100). */
  limit?: number;
  /** At most this many connections to one origin (default 0: only `limit`). */
  limitPerHost?: number;
  /** Reject 4xx/5xx responses with `ClientResponseError` (default false). */
  raiseForStatus?: boolean;
  /** Retry a failed attempt up to this many times (default 0: `n` means at most `n + 1` attempts). */
  retries?: number;
  /** Exponential backoff with full jitter: the nth retry waits a random time up to `min(max, base * 2^n)` ms. */
  retryBackoff?: { base?: number; max?: number };
  /** Methods that may be retried (default the idempotent ones). */
  retryMethods?: readonly string[];
  /** Statuses that are retried (default 429, 502, 503, 504); `Retry-After` is honoured. */
  retryStatuses?: readonly number[];
  /** At most this many requests started per second (a token bucket), or a `RateLimiter` of your own. */
  rateLimit?: number | RateLimiter;
  /** Follow redirects (default true), at most `maxRedirects` (default 10). */
  followRedirects?: boolean;
  maxRedirects?: number;
  /**
   * How long an idle pooled connection stays open, in ms (default 4,000). A
   * server's `Keep-Alive: timeout=` hint can shorten it, never lengthen it.
   */
  keepAliveTimeout?: number;
  /**
   * The largest response body accepted, in bytes (default `null`: no limit).
   * A larger one rejects with `ResponseTooLargeError` — at the headers when
   * its `content-length` says so, else from the body read once the limit is
   * passed — and its socket is closed.
   */
  maxBodySize?: number | null;
}

/** Options of one request. */
export interface RequestOptions {
  /** A value sent as JSON (`application/json`). */
  json?: unknown;
  /** A form, text, bytes, a `FormData` or an async iterable of chunks. */
  data?: RequestData;
  /** Headers for this request (over the session's). */
  headers?: HeadersLike;
  /** Query parameters appended to the URL. */
  params?:
    Record<string, string | number | boolean | readonly (string | number | boolean)[]> | URLSearchParams;
  /** Timeouts for this request (over the session's); a number is `total`. */
  timeout?: TimeoutOptions | number;
  /** Aborting it cancels the request at any stage, reading the body included. */
  signal?: AbortSignal;
  /** Override the session's `raiseForStatus`. */
  raiseForStatus?: boolean;
  /** Override the session's `retries`. */
  retries?: number;
  /** Override the session's `followRedirects`. */
  followRedirects?: boolean;
  /** Override the session's `maxBodySize` (`null`: no limit). */
  maxBodySize?: number | null;
}

/** What one attempt of a request sends. */
interface Outgoing {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: EncodedBody;
}

const NO_OPTIONS: RequestOptions = Object.freeze({});
const IDEMPOTENT = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'];
const CREDENTIALS = ['authorization', 'proxy-authorization', 'cookie'];
const RETRY_STATUSES = [429, 502, 503, 504];
const METHOD = /^[A-Za-z]+$/;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function checkMs(value: unknown, what: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(
      `ClientSession: ${what} must be a non-negative number of ms or null, received ${describe(value)}`,
    );
  }
  return value === Infinity ? null : value;
}

function checkSize(value: unknown, what: string): number | null {
  if (value === null || value === undefined || value === Infinity) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `ClientSession: ${what} must be a non-negative whole number of bytes or null, received ${describe(value)}`,
    );
  }
  return value;
}

function timeoutsOf(option: TimeoutOptions | number | undefined, base: Timeouts): Timeouts {
  if (option === undefined) return base;
  if (typeof option === 'number') return { ...base, total: checkMs(option, 'timeout') };
  if (option === null || typeof option !== 'object') {
    throw new TypeError(`ClientSession: timeout must be a number or an object, received ${describe(option)}`);
  }
  return {
    total: 'total' in option ? checkMs(option.total, 'timeout.total') : base.total,
    connect: 'connect' in option ? checkMs(option.connect, 'timeout.connect') : base.connect,
    sockRead: 'sockRead' in option ? checkMs(option.sockRead, 'timeout.sockRead') : base.sockRead,
  };
}

/**
 * One client for many requests: pooled keep-alive connections, default
 * headers and base URL, timeouts, a concurrency limit, retries with backoff,
 * a rate limit. Same as `aiohttp.ClientSession`. Close it (or `await using`)
 * to close every pooled connection.
 *
 * @example GET JSON, POST JSON
 * ```ts
 * import { ClientSession, startTestServer } from 'tsaio/http';
 * await using server = await startTestServer();
 * await using session = new ClientSession({ baseUrl: server.url, timeout: { total: 10_000 } });
 * const data = await (await session.get('/json')).json();
 * const echo = await (await session.post('/post', { json: { key: 'value' } })).json<{ json: unknown }>();
 * console.log(typeof data, echo.json); // object { key: 'value' }
 * ```
 */
export class ClientSession implements AsyncDisposable {
  private readonly _agent: Agent;
  private readonly _baseUrl: URL | undefined;
  private readonly _headers: Headers;
  /** The session's headers as the plain object undici takes (names in lower case); never mutated. */
  private readonly _plainHeaders: Record<string, string>;
  private readonly _timeouts: Timeouts;
  private readonly _maxBodySize: number | null;
  private readonly _connects = new ConnectTracker();
  private readonly _slots: Semaphore;
  private readonly _limiter: RateLimiter | null;
  private readonly _options: ClientSessionOptions;
  private readonly _retryMethods: readonly string[];
  private readonly _retryStatuses: readonly number[];
  private readonly _follow: boolean;
  private readonly _raise: boolean;
  private readonly _retries: number;
  private readonly _maxRedirects: number;
  /** Requests not yet ended: waiting for their response, or with a response not yet read or closed. */
  private readonly _open = new OpenRequests();
  private _closed = false;

  constructor(opts: ClientSessionOptions = {}) {
    if (opts === null || typeof opts !== 'object') {
      throw new TypeError(`ClientSession: options must be an object, received ${describe(opts)}`);
    }
    this._options = opts;
    this._retryMethods = opts.retryMethods ?? IDEMPOTENT;
    this._retryStatuses = opts.retryStatuses ?? RETRY_STATUSES;
    this._follow = opts.followRedirects ?? true;
    this._raise = opts.raiseForStatus ?? false;
    this._baseUrl = opts.baseUrl === undefined ? undefined : parseUrl(String(opts.baseUrl), undefined);
    this._headers = new Headers(opts.headers);
    this._plainHeaders = Object.fromEntries(this._headers);
    this._timeouts = timeoutsOf(opts.timeout, { total: 300_000, connect: null, sockRead: null });
    this._maxBodySize = checkSize(opts.maxBodySize, 'maxBodySize');
    const limit = checkCount(opts.limit, 'ClientSession', 'limit', 1, 100);
    const perHost = checkCount(opts.limitPerHost, 'ClientSession', 'limitPerHost', 0, 0);
    this._retries = checkCount(opts.retries, 'ClientSession', 'retries', 0, 0);
    this._maxRedirects = checkCount(opts.maxRedirects, 'ClientSession', 'maxRedirects', 0, 10);
    this._slots = new Semaphore(limit);
    this._limiter =
      opts.rateLimit === undefined
        ? null
        : opts.rateLimit instanceof RateLimiter
          ? opts.rateLimit
          : new RateLimiter({ rate: opts.rateLimit, interval: 1000 });
    const keepAlive = checkMs(opts.keepAliveTimeout, 'keepAliveTimeout') ?? 4_000;
    this._agent = new Agent({
      connections: perHost > 0 ? Math.min(perHost, limit) : limit,
      keepAliveTimeout: keepAlive,
      // A server's Keep-Alive hint is obeyed up to this: never longer than ours.
      keepAliveMaxTimeout: Math.max(1, keepAlive),
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: this._connects.connect,
    });
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this._closed;
  }

  get(url: string | URL, opts?: RequestOptions): Promise<ClientResponse> {
    return this.request('GET', url, opts);
  }
  post(url: string | URL, opts?: RequestOptions): Promise<ClientResponse> {
    return this.request('POST', url, opts);
  }
  put(url: string | URL, opts?: RequestOptions): Promise<ClientResponse> {
    return this.request('PUT', url, opts);
  }
  patch(url: string | URL, opts?: RequestOptions): Promise<ClientResponse> {
    return this.request('PATCH', url, opts);
  }
  delete(url: string | URL, opts?: RequestOptions): Promise<ClientResponse> {
    return this.request('DELETE', url, opts);
  }
  head(url: string | URL, opts?: RequestOptions): Promise<ClientResponse> {
    return this.request('HEAD', url, opts);
  }

  /**
   * Sends a request; resolves once the response headers arrived. Bad input
   * (a URL that is not one, a negative timeout, a `json` that cannot be
   * serialized) rejects at once, before anything is sent.
   */
  request(method: string, url: string | URL, opts: RequestOptions = NO_OPTIONS): Promise<ClientResponse> {
    let scope: RequestScope;
    let first: Outgoing;
    try {
      if (this._closed) throw new InvalidStateError('ClientSession.request: the session is closed');
      if (typeof method !== 'string' || !METHOD.test(method)) {
        throw new TypeError(`ClientSession.request: invalid method ${describe(method)}`);
      }
      const target = withParams(parseUrl(String(url), this._baseUrl), opts.params);
      const limits: Limits = {
        ...timeoutsOf(opts.timeout, this._timeouts),
        maxBodySize: 'maxBodySize' in opts ? checkSize(opts.maxBodySize, 'maxBodySize') : this._maxBodySize,
      };
      const signal = checkSignal(opts.signal, 'ClientSession.request');
      const body = encodeBody(opts.json, opts.data, 'json' in opts && opts.json !== undefined);
      first = {
        url: target,
        method: method.toUpperCase(),
        headers: this._headersFor(opts.headers, body.contentType),
        body,
      };
      if (signal?.aborted) throw cancelledFrom(signal.reason);
      scope = new RequestScope(target.href, limits, signal, this._open);
    } catch (error) {
      return Promise.reject(error);
    }
    const sent = this._send(first, scope, opts);
    // A trace shows the request until its headers arrived (retries and redirects included).
    if (debugState.tracing) hooks.wait(sent, `${first.method} ${first.url.href}`, 'http');
    return sent;
  }

  /**
   * Closes every connection: pooled ones, ones still opening, and those of
   * responses still open. A request still waiting for its response fails
   * with a `ClientError`, and so does reading a body not yet read. Never
   * waits for a server.
   */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    for (const scope of this._open.list()) scope.close();
    this._connects.abandonAll();
    // Nothing of ours is left in flight: idle sockets, and requests undici still had queued when they were aborted.
    await this._agent.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    return `<ClientSession${this._closed ? ' closed' : ''} base=${this._baseUrl?.href ?? 'none'} open=${this._open.size}>`;
  }

  /** The headers of one request: the session's object itself when the request adds none. */
  private _headersFor(extra: HeadersLike | undefined, contentType: string | null): Record<string, string> {
    if (extra === undefined && contentType === null) return this._plainHeaders;
    const merged = new Headers(this._headers);
    if (extra !== undefined) for (const [name, value] of new Headers(extra)) merged.set(name, value);
    if (contentType !== null && !merged.has('content-type')) merged.set('content-type', contentType);
    return Object.fromEntries(merged);
  }

  /** Sends the request, following redirects and retrying; every failure is one of tsaio's errors. */
  private async _send(first: Outgoing, scope: RequestScope, opts: RequestOptions): Promise<ClientResponse> {
    try {
      const retries =
        opts.retries === undefined ? this._retries : checkCount(opts.retries, 'ClientSession', 'retries');
      const follow = opts.followRedirects ?? this._follow;
      const retryable = retries > 0 && this._retryMethods.includes(first.method);
      let out = first;
      let attempt = 0;
      for (let hops = 0; ;) {
        const canRetry = attempt < retries && retryable && out.body.replayable;
        scope.check();
        // A real signal only for a wait that may last: no token, or no free slot.
        if (this._limiter !== null && !this._limiter.tryAcquire())
          await this._limiter.acquire({ signal: scope.signal });
        const held = this._slots.tryAcquire() ?? (await this._slots.acquire({ signal: scope.signal }));
        const exchange = this._dispatch(out, scope, held);
        try {
          await exchange.started;
        } catch (error) {
          const failure = translateError(error, scope);
          // A connection error; a timeout or an abort of ours is never retried.
          if (!scope.aborted && failure instanceof ClientError && canRetry) {
            await this._backoff(attempt++, null, scope);
            continue;
          }
          throw failure;
        }
        const status = exchange.status;
        const location = exchange.headers['location'];
        if (follow && REDIRECTS.has(status) && typeof location === 'string') {
          await exchange.dump(DRAIN_LIMIT);
          if (++hops > this._maxRedirects) {
            throw new ClientError(
              `too many redirects (more than ${this._maxRedirects}) from ${first.url.href}`,
            );
          }
          out = redirect(out, status, location);
          continue;
        }
        if (canRetry && this._retryStatuses.includes(status)) {
          await exchange.dump(DRAIN_LIMIT);
          await this._backoff(attempt++, retryAfter(exchange.headers['retry-after']), scope);
          continue;
        }
        const response = new ClientResponse(out.method, out.url.href, exchange, scope);
        if (status >= 400 && (opts.raiseForStatus ?? this._raise)) {
          await response.close();
          throw new ClientResponseError(status, out.url.href, response.headers);
        }
        return response;
      }
    } catch (error) {
      scope.end();
      throw translateError(error, scope);
    }
  }

  /** Hands one attempt to undici; the exchange takes the slot and frees it when the connection is. */
  private _dispatch(out: Outgoing, scope: RequestScope, held: Held): Exchange {
    const { url } = out;
    const exchange = new Exchange(scope, held, out.method, url, this._connects);
    scope.exchange = exchange;
    scope.armConnect();
    this._agent.dispatch(
      {
        origin: url.origin,
        path: pathOf(url),
        method: out.method as Dispatcher.HttpMethod,
        headers: out.headers,
        body: out.body.body as Dispatcher.DispatchOptions['body'],
      },
      exchange,
    );
    return exchange;
  }

  /**
   * Waits before retry number `attempt` (from 0): `Retry-After` if given,
   * else exponential backoff with full jitter; never longer than
   * `retryBackoff.max`.
   */
  private async _backoff(attempt: number, after: number | null, scope: RequestScope): Promise<void> {
    const base = this._options.retryBackoff?.base ?? 100;
    const max = this._options.retryBackoff?.max ?? 10_000;
    const delay = after === null ? Math.random() * Math.min(max, base * 2 ** attempt) : Math.min(after, max);
    await sleep(delay, undefined, { signal: scope.signal });
  }
}

/**
 * The request a redirect asks for, as fetch and aiohttp follow it: a 303,
 * and a 301/302 after a POST, become a GET without a body; credentials stay
 * with the origin they were given to.
 */
function redirect(out: Outgoing, status: number, location: string): Outgoing {
  const url = parseUrl(location, out.url);
  const headers = url.origin === out.url.origin ? out.headers : without(out.headers, CREDENTIALS);
  if (status === 303 || ((status === 301 || status === 302) && out.method === 'POST')) {
    const method = out.method === 'HEAD' ? 'HEAD' : 'GET';
    return { url, method, headers: without(headers, ['content-type']), body: NO_BODY };
  }
  if (out.body.body !== null && !out.body.replayable) {
    throw new ClientError(
      `cannot follow a ${status} redirect to ${url.href}: the streamed request body cannot be sent twice`,
    );
  }
  return { url, method: out.method, headers, body: out.body };
}

/** `Retry-After` in ms: seconds or an HTTP date; `null` if absent or unreadable. */
function retryAfter(value: string | string[] | undefined): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return null;
  const seconds = Number(text);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function parseUrl(url: string, base: URL | undefined): URL {
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch (error) {
    throw new TypeError(`ClientSession: not a valid URL: ${describe(url)}`, { cause: error });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`ClientSession: only http and https URLs are supported, received ${describe(url)}`);
  }
  return parsed;
}

/** A copy of `headers` without `names` (lower case). */
function without(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  const copy = { ...headers };
  for (const name of names) delete copy[name];
  return copy;
}

/** The request target: the URL without its origin and fragment. */
function pathOf(url: URL): string {
  const search = url.search;
  return search === '' ? url.pathname : url.pathname + search;
}

function withParams(url: URL, params: RequestOptions['params']): URL {
  if (params === undefined) return url;
  const entries = params instanceof URLSearchParams ? [...params] : Object.entries(params);
  for (const [key, value] of entries) {
    for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(v));
  }
  return url;
}
