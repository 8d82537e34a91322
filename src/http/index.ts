/**
 * `tsaio/http`: aiohttp for TypeScript — a client session on undici, and an
 * httpbin-style test server. This file only re-exports.
 *
 * @module
 */

export {
  ClientSession,
  type ClientSessionOptions,
  type HeadersLike,
  type RequestOptions,
  type TimeoutOptions,
} from './session.js';
export { ClientResponse } from './response.js';
export {
  ClientConnectionError,
  ClientError,
  ClientResponseError,
  ResponseTooLargeError,
  type HttpTimeoutError,
  type TimeoutKind,
} from './errors.js';
export type { RequestData } from './_body.js';
export { startTestServer, type TestServer, type TestServerOptions } from './server.js';
