/**
 * `ClientResponse`, after `aiohttp.ClientResponse`.
 *
 * @module
 */

import type { Dispatcher } from 'undici';
import { translateError, type RequestScope } from './_scope.js';

type Body = Dispatcher.ResponseData['body'];

/**
 * A response whose headers have arrived; the body is read with `text()`,
 * `json()`, `bytes()` or `for await (const chunk of response)`. Dispose it
 * (`await using`) or read it whole: an unread body is drained or destroyed
 * on dispose, so its connection goes back to the pool clean. The request's
 * signal and total timeout also govern reading the body.
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
    status: number,
    private readonly _rawHeaders: Record<string, string | string[] | undefined>,
    private readonly _body: Body,
    private readonly _scope: RequestScope,
  ) {
    this.method = method;
    this.url = url;
    this.status = status;
  }

  /** The headers (case-insensitive `get`), made on first use. */
  get headers(): Headers {
    this._headers ??= toHeaders(this._rawHeaders);
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
    return new TextDecoder().decode(await this.bytes());
  }

  /** The body parsed as JSON. */
  async json<T = unknown>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }

  /** The whole body. */
  async bytes(): Promise<Uint8Array> {
    this._claim();
    try {
      if (this._scope.timeouts.sockRead === null) return new Uint8Array(await this._body.arrayBuffer());
      const chunks: Uint8Array[] = [];
      for await (const chunk of this._chunks()) chunks.push(chunk);
      return Buffer.concat(chunks);
    } catch (error) {
      throw translateError(error, this._scope);
    } finally {
      this._finish();
    }
  }

  /** The body chunk by chunk. */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    this._claim();
    try {
      yield* this._chunks();
    } catch (error) {
      throw translateError(error, this._scope);
    } finally {
      this._finish();
    }
  }

  /**
   * Releases the connection: an unread body is drained (small) or the socket
   * destroyed (large), so the pool never holds a half-read connection.
   */
  async close(): Promise<void> {
    if (this._closed) return;
    this._closed = true;
    if (!this._used) {
      this._used = true;
      try {
        await this._body.dump({ limit: 64 * 1024 });
      } catch {
        // A body that fails while being drained is gone all the same.
      }
    }
    this._scope.end();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  toString(): string {
    return `<ClientResponse(${this.url}) [${this.status}]>`;
  }

  /** The body's chunks, each within the sockRead timeout of the one before. */
  private async *_chunks(): AsyncGenerator<Uint8Array> {
    this._scope.armRead();
    for await (const chunk of this._body) {
      this._scope.disarmRead();
      yield chunk as Uint8Array;
      this._scope.armRead();
    }
  }

  private _claim(): void {
    if (this._used) throw new TypeError(`the body of ${String(this)} was already read`);
    this._used = true;
  }

  private _finish(): void {
    this._closed = true;
    this._scope.end();
  }
}

function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.append(name, value);
  }
  return headers;
}
