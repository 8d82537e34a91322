/**
 * `ClientResponse`, after `aiohttp.ClientResponse`.
 *
 * @module
 */

import { DRAIN_LIMIT, type Exchange, type RawHeaders } from './_exchange.js';
import { translateError, type RequestScope } from './_scope.js';

const decoder = new TextDecoder();

/**
 * Ends the scope of a response that was dropped unread and unclosed: its
 * slot, timer entry and signal hook go, and a body still coming closes its
 * socket. The scope never references its response, so the response can be
 * collected while the scope is still open.
 */
const unread = new FinalizationRegistry<RequestScope>((scope) => scope.end());

/**
 * A response whose headers have arrived; the body is read with `text()`,
 * `json()`, `bytes()` or `for await (const chunk of response)`. Dispose it
 * (`await using`) or read it whole: an unread body is drained or destroyed
 * on dispose, so its connection goes back to the pool clean. The request's
 * signal and total timeout also govern reading the body. A response dropped
 * without being read or closed gives back what it holds (its connection
 * slot, its timer, its hook on the signal) once it is garbage-collected.
 *
 * @example
 * ```ts
 * import { ClientSession, startTestServer } from 'tsaio/http';
 * await using server = await startTestServer();
 * await using session = new ClientSession({ baseUrl: server.url });
 * await using resp = await session.get('/json');
 * console.log(resp.status, resp.headers.get('content-type')); // 200 application/json
 * ```
 */
export class ClientResponse implements AsyncIterable<Uint8Array>, AsyncDisposable {
  /** The status code. */
  readonly status: number;
  private _headers: Headers | null = null;
  /** The final URL, after redirects. */
  readonly url: string;
  /** The request's method. */
  readonly method: string;
  private _used = false;
  private _closed = false;

  /** @internal */
  constructor(
    method: string,
    url: string,
    private readonly _exchange: Exchange,
    private readonly _scope: RequestScope,
  ) {
    this.method = method;
    this.url = url;
    this.status = _exchange.status;
    unread.register(this, _scope, this);
  }

  /** The headers (case-insensitive `get`), made on first use. */
  get headers(): Headers {
    this._headers ??= toHeaders(this._exchange.headers);
    return this._headers;
  }

  /** True for a 2xx status. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** True once the body was read (or the response closed). */
  get bodyUsed(): boolean {
    return this._used;
  }

  /** The body as text (UTF-8). */
  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  /** The body parsed as JSON. */
  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  /** The whole body. */
  bytes(): Promise<Uint8Array> {
    if (this._used) return Promise.reject(this._usedError());
    this._used = true;
    let body: Uint8Array | Promise<Uint8Array>;
    try {
      this._scope.check();
      body = this._exchange.all();
    } catch (error) {
      this._finish();
      return Promise.reject(translateError(error, this._scope));
    }
    if (body instanceof Uint8Array) {
      this._finish();
      return Promise.resolve(body);
    }
    return this._bytesLater(body);
  }

  /** The body chunk by chunk. */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this._used) throw this._usedError();
    this._used = true;
    try {
      for (;;) {
        this._scope.check();
        const chunk = await this._exchange.read();
        if (chunk === null) return;
        yield chunk;
      }
    } catch (error) {
      throw translateError(error, this._scope);
    } finally {
      this._finish();
    }
  }

  /**
   * Releases the connection: an unread body is drained (at most 64 KiB,
   * arriving within a second) or the socket closed (larger or slower), so
   * the pool never holds a half-read connection.
   */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    unread.unregister(this);
    if (!this._used) {
      this._used = true;
      await this._exchange.dump(DRAIN_LIMIT);
    }
    this._scope.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    return `<ClientResponse(${this.url}) [${this.status}]>`;
  }

  private async _bytesLater(body: Promise<Uint8Array>): Promise<Uint8Array> {
    try {
      return await body;
    } catch (error) {
      throw translateError(error, this._scope);
    } finally {
      this._finish();
    }
  }

  private _usedError(): TypeError {
    return new TypeError(`the body of ${String(this)} was already read`);
  }

  private _finish(): void {
    if (!this._closed) unread.unregister(this);
    this._closed = true;
    this._scope.end();
  }
}

function toHeaders(raw: RawHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.append(name, value);
  }
  return headers;
}
