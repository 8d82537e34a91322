/**
 * Codecs turn queue items into message bytes and back. JSON is the default;
 * any object with `encode`/`decode` will do.
 *
 * @module
 */

import { CodecError } from './errors.js';

/**
 * How items of type `T` travel: `encode` makes the bytes of a message,
 * `decode` reads them back. Either may throw; the queue turns what they
 * throw into a `CodecError`.
 */
export interface Codec<T> {
  encode(item: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The default codec: `JSON.stringify` to UTF-8 and back. What JSON cannot
 * carry is refused with a `CodecError` rather than sent altered: `undefined`,
 * functions and symbols at the top level, `bigint`s, cycles. (Inside objects,
 * JSON's own rules apply: `undefined` fields are dropped, `NaN` becomes
 * `null`, `Date`s become strings.) Same role as the JSON serializer of
 * Celery and arq.
 *
 * @example
 * ```ts
 * import { JsonCodec } from 'tsaio/nats';
 * const codec = new JsonCodec<{ n: number }>();
 * console.log(codec.decode(codec.encode({ n: 1 }))); // { n: 1 }
 * ```
 */
export class JsonCodec<T = unknown> implements Codec<T> {
  /**
   * @param item The item.
   * @returns Its JSON text as UTF-8 bytes.
   * @throws {CodecError} If JSON cannot represent it.
   */
  encode(item: T): Uint8Array {
    let text: string | undefined;
    try {
      text = JSON.stringify(item);
    } catch (error) {
      throw new CodecError(`JsonCodec cannot encode the item: ${(error as Error).message}`, { cause: error });
    }
    if (text === undefined) {
      throw new CodecError(
        `JsonCodec cannot encode ${typeof item === 'function' ? 'a function' : String(item)}`,
      );
    }
    return encoder.encode(text);
  }

  /**
   * @param bytes A message's data.
   * @returns The item.
   * @throws {CodecError} If the bytes are not UTF-8 JSON.
   */
  decode(bytes: Uint8Array): T {
    try {
      return JSON.parse(decoder.decode(bytes)) as T;
    } catch (error) {
      const head = Buffer.from(bytes.subarray(0, 40)).toString('latin1');
      throw new CodecError(
        `JsonCodec cannot decode a message of ${bytes.length} bytes starting ${JSON.stringify(head)}: ` +
          (error as Error).message,
        { cause: error },
      );
    }
  }
}

/** Runs `codec.encode`, turning what it throws into a `CodecError`. */
export function encodeWith<T>(codec: Codec<T>, item: T): Uint8Array {
  try {
    const bytes = codec.encode(item);
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(`encode returned ${typeof bytes}, not a Uint8Array`);
    }
    return bytes;
  } catch (error) {
    if (error instanceof CodecError) throw error;
    throw new CodecError(`the codec cannot encode the item: ${(error as Error).message}`, { cause: error });
  }
}

/** Runs `codec.decode`, turning what it throws into a `CodecError`. */
export function decodeWith<T>(codec: Codec<T>, bytes: Uint8Array): T {
  try {
    return codec.decode(bytes);
  } catch (error) {
    if (error instanceof CodecError) throw error;
    throw new CodecError(
      `the codec cannot decode a message of ${bytes.length} bytes: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}
