/**
 * The errors of `tsaio/http`, after aiohttp's `ClientError` family, typed
 * and coded like undici's: each class has a stable `code` and the core's
 * `Symbol.for` brand, so `instanceof` holds across two installed copies.
 * Timeouts are the core `TimeoutError`, with a `kind` saying which timeout
 * fired.
 *
 * @module
 */

import { TimeoutError } from '../exceptions.js';
import { brand } from '../_lowlevel.js';

/**
 * Base class of the client's errors. Same as `aiohttp.ClientError`.
 *
 * @example
 * ```ts
 * import { ClientSession, ClientError } from 'tsaio/http';
 * await using session = new ClientSession();
 * try { await session.get('http://127.0.0.1:1/'); } catch (e) { console.log(e instanceof ClientError); } // true
 * ```
 */
export class ClientError extends Error {
  declare readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
brand(ClientError, 'TSAIO_HTTP_ERR', 'http');

/**
 * The connection failed: refused, reset, closed early, or the server sent
 * something that is not HTTP. Same as `aiohttp.ClientConnectionError`.
 * `cause` is the underlying error.
 *
 * @example
 * ```ts
 * import { ClientSession, ClientConnectionError } from 'tsaio/http';
 * await using session = new ClientSession();
 * try { await session.get('http://127.0.0.1:1/'); }
 * catch (e) { console.log(e instanceof ClientConnectionError); } // true: nothing listens on port 1
 * ```
 */
export class ClientConnectionError extends ClientError {
  constructor(
    message: string,
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
brand(ClientConnectionError, 'TSAIO_HTTP_ERR_CONNECTION', 'http');

/**
 * A response with a 4xx/5xx status, when `raiseForStatus` is on. Same as
 * `aiohttp.ClientResponseError`.
 *
 * @example
 * ```ts
 * import { ClientSession, ClientResponseError } from 'tsaio/http';
 * import { startTestServer } from 'tsaio/http';
 * await using server = await startTestServer();
 * await using session = new ClientSession({ baseUrl: server.url, raiseForStatus: true });
 * try { await session.get('/status/404'); } catch (e) { if (e instanceof ClientResponseError) console.log(e.status); } // 404
 * ```
 */
export class ClientResponseError extends ClientError {
  constructor(
    readonly status: number,
    readonly url: string,
    readonly headers: Headers,
    options?: ErrorOptions,
  ) {
    super(`${status} for ${url}`, options);
  }
}
brand(ClientResponseError, 'TSAIO_HTTP_ERR_RESPONSE', 'http');

/**
 * A response body larger than the request's `maxBodySize`: its declared
 * `content-length` is over the limit (the request rejects at the headers), or
 * more bytes than the limit arrived (the body read rejects). The socket is
 * closed; nothing past the limit is kept. After undici's
 * `ResponseExceededMaxSizeError`.
 *
 * @example
 * ```ts
 * import { ClientSession, ResponseTooLargeError, startTestServer } from 'tsaio/http';
 * await using server = await startTestServer();
 * await using session = new ClientSession({ baseUrl: server.url, maxBodySize: 1024 });
 * try { await session.get('/bytes/2048'); }
 * catch (e) { if (e instanceof ResponseTooLargeError) console.log(e.code, e.limit); } // TSAIO_HTTP_ERR_RESPONSE_TOO_LARGE 1024
 * ```
 */
export class ResponseTooLargeError extends ClientError {
  constructor(
    readonly url: string,
    /** The limit, in bytes. */
    readonly limit: number,
    /** The declared length, or the bytes received when the limit was passed. */
    readonly size: number,
    options?: ErrorOptions,
  ) {
    super(`the response body of ${url} is larger than maxBodySize (${size} > ${limit} bytes)`, options);
  }
}
brand(ResponseTooLargeError, 'TSAIO_HTTP_ERR_RESPONSE_TOO_LARGE', 'http');

/** Which timeout of a request fired. */
export type TimeoutKind = 'total' | 'connect' | 'sockRead';

/** A core `TimeoutError` that says which of the session's timeouts fired. */
export type HttpTimeoutError = TimeoutError & { readonly kind: TimeoutKind; readonly url: string };

/** Makes the `TimeoutError` for `kind` on `url`. */
export function httpTimeout(
  kind: TimeoutKind,
  url: string,
  ms: number | null,
  cause?: unknown,
): HttpTimeoutError {
  const limit = ms === null ? '' : ` (${ms} ms)`;
  const error = new TimeoutError(`${kind} timeout${limit} for ${url}`, { cause });
  return Object.assign(error, { kind, url }) as HttpTimeoutError;
}
