/**
 * Private: turns `json` / `data` request options into an undici body and a
 * content type, failing at the call for what cannot be sent.
 *
 * @module
 */

import { Readable } from 'node:stream';
import { FormData as UndiciFormData } from 'undici';
import { describe } from '../_lowlevel.js';

/** A request body undici accepts, with the content type it implies. */
export interface EncodedBody {
  body: string | Uint8Array | Readable | FormData | null;
  contentType: string | null;
  /** False for a stream: it cannot be sent twice, so it is never retried. */
  replayable: boolean;
}

/** No body (shared: never mutated). */
export const NO_BODY: EncodedBody = Object.freeze({ body: null, contentType: null, replayable: true });

/** What `data` may be: a form (object or `URLSearchParams`), text, bytes, a `FormData`, or an async iterable of chunks. */
export type RequestData =
  | Record<string, string | number | boolean>
  | URLSearchParams
  | string
  | Uint8Array
  | ArrayBuffer
  | FormData
  | AsyncIterable<Uint8Array | string>;

/** Encodes `json` or `data` (not both). */
export function encodeBody(json: unknown, data: RequestData | undefined, hasJson: boolean): EncodedBody {
  if (hasJson && data !== undefined) throw new TypeError('request: give either json or data, not both');
  if (hasJson) {
    let text: string | undefined;
    try {
      text = JSON.stringify(json);
    } catch (error) {
      throw new TypeError(`request: json is not serializable: ${(error as Error).message}`, { cause: error });
    }
    if (text === undefined) throw new TypeError(`request: json is not serializable: ${describe(json)}`);
    return { body: text, contentType: 'application/json', replayable: true };
  }
  if (data === undefined || data === null) return NO_BODY;
  if (typeof data === 'string')
    return { body: data, contentType: 'text/plain;charset=UTF-8', replayable: true };
  if (data instanceof Uint8Array)
    return { body: data, contentType: 'application/octet-stream', replayable: true };
  if (data instanceof ArrayBuffer) {
    return { body: new Uint8Array(data), contentType: 'application/octet-stream', replayable: true };
  }
  if (data instanceof URLSearchParams) {
    return { body: data.toString(), contentType: 'application/x-www-form-urlencoded', replayable: true };
  }
  if (data instanceof FormData) {
    // undici encodes only its own FormData class; Node 20's global one is another.
    const form = new UndiciFormData();
    for (const [name, value] of data) form.append(name, value);
    return { body: form as unknown as FormData, contentType: null, replayable: true };
  }
  if (typeof (data as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    return {
      body: Readable.from(data as AsyncIterable<Uint8Array | string>),
      contentType: 'application/octet-stream',
      replayable: false,
    };
  }
  if (typeof data === 'object') {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(data)) form.append(key, String(value));
    return { body: form.toString(), contentType: 'application/x-www-form-urlencoded', replayable: true };
  }
  throw new TypeError(`request: data cannot be sent: ${describe(data)}`);
}
