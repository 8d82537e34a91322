/**
 * Why one request of `tsaio fetch` failed, said in the terms of the command
 * line: no class names, no names of the library's functions, a flag when one
 * decides it (`timed out after 0.2 s (--timeout)`).
 *
 * @module
 */

import { ClientConnectionError, ResponseTooLargeError } from '../http/index.js';
import { seconds } from './_common.js';

/** What the command knows that the error does not. */
export interface ExplainHints {
  /** The `--timeout` of each request, in seconds. */
  timeout?: number;
}

/** The system's error code of `error` or of one of its causes (`ECONNREFUSED`, ...), if any. */
function systemCode(error: unknown): string | null {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && !code.startsWith('TSAIO_')) return code;
  }
  return null;
}

/** The host (and port) of `url`, or `url` itself when it does not parse. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

const CONNECTION_WORDS: Readonly<Record<string, (host: string) => string>> = {
  ECONNREFUSED: (host) => `connection refused: ${host}`,
  ENOTFOUND: (host) => `host not found: ${host.replace(/:\d+$/, '')}`,
  EAI_AGAIN: (host) => `DNS lookup failed (try again later): ${host.replace(/:\d+$/, '')}`,
  ECONNRESET: (host) => `connection reset by ${host}`,
  EPIPE: (host) => `connection closed by ${host} while sending`,
  ETIMEDOUT: (host) => `connection timed out: ${host}`,
  EHOSTUNREACH: (host) => `host unreachable: ${host}`,
  ENETUNREACH: (host) => `network unreachable: ${host}`,
};

/** The deepest message of `error`'s causes (the system's own words). */
function innermost(error: Error): string {
  let e: Error = error;
  while (e.cause instanceof Error) e = e.cause;
  return e.message;
}

/**
 * One line saying why a request failed, for a user of the command line.
 *
 * @example
 * ```ts
 * explainError(new TypeError('bad')); // 'bad'
 * ```
 */
export function explainError(error: unknown, hints: ExplainHints = {}): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') {
    const kind = (error as { kind?: string }).kind;
    if (kind === 'connect') return 'timed out while connecting';
    if (kind === 'sockRead') return 'timed out waiting for data';
    return hints.timeout === undefined
      ? 'timed out'
      : `timed out after ${seconds(hints.timeout, 3)} s (--timeout)`;
  }
  if (error instanceof ResponseTooLargeError) {
    return `body larger than --max-body-size (${error.limit} bytes)`;
  }
  if (error instanceof ClientConnectionError) {
    const code = systemCode(error);
    const words = code === null ? undefined : CONNECTION_WORDS[code];
    if (words !== undefined) return words(hostOf(error.url));
    if (code !== null && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|SSL/.test(code)) {
      return `TLS: ${innermost(error)}`;
    }
    return `connection failed: ${innermost(error)}`;
  }
  // The library's own messages start with the function that threw ("ClientSession: ...").
  return error.message.replace(/^[A-Z]\w*(\.\w+)?: /, '') || error.name;
}
