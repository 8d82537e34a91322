/**
 * Private: what goes between a pool and its workers (threads, child
 * processes, the sync worker), and errors made fit to cross: an error is sent
 * as its name, message, stack, `code` and other plain fields, and rebuilt on
 * the other side (a `CancelledError` or `TimeoutError` as the core's own class).
 *
 * @module
 */

import { CancelledError, TimeoutError } from '../exceptions.js';

/** A job as it is sent: a function's source, or a module's export. */
export type JobSpec =
  { kind: 'source'; source: string; name: string } | { kind: 'module'; url: string; name: string };

/** Pool → worker. `chunk`: `args` is a list of single arguments, one call each (for `map`). */
export type ToWorker =
  | { t: 'run'; id: number; job: JobSpec; args: unknown[]; chunk: boolean }
  | { t: 'cancel'; id: number; reason: string };

/** Worker → pool. */
export type FromWorker =
  { t: 'done'; id: number; ok: true; value: unknown } | { t: 'done'; id: number; ok: false; error: Wired };

/** Caller → sync worker (`sync.ts`), and its answers (id 0: started; id -1: exiting). */
export type SyncCall =
  { t: 'run'; id: number; job: JobSpec; args: unknown[] } | { t: 'cancel'; id: number; reason: string };
export type SyncOutcome = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: Wired };

/** An error (or any thrown value) made fit for structured clone. */
export type Wired =
  | {
      error: true;
      name: string;
      message: string;
      stack: string | undefined;
      props: Record<string, unknown>;
      cause?: Wired;
    }
  | { error: false; value: unknown };

const PLAIN = new Set(['string', 'number', 'boolean', 'bigint']);

/** `thrown` as something structured clone can carry. */
export function wireError(thrown: unknown, depth = 0): Wired {
  if (!(thrown instanceof Error)) {
    try {
      return { error: false, value: structuredClone(thrown) };
    } catch {
      return { error: false, value: String(thrown) };
    }
  }
  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(thrown)) {
    if (key !== 'cause' && (value === null || PLAIN.has(typeof value))) props[key] = value;
  }
  const code = (thrown as { code?: unknown }).code;
  if (PLAIN.has(typeof code)) props['code'] = code;
  const wired: Wired = {
    error: true,
    name: thrown.name,
    message: thrown.message,
    stack: thrown.stack,
    props,
  };
  if (thrown.cause !== undefined && depth < 5) wired.cause = wireError(thrown.cause, depth + 1);
  return wired;
}

const BUILTIN: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
};

/** The error `wired` stands for, rebuilt: core errors as their classes, builtins as theirs, others as `Error` with their `name`. */
export function unwireError(wired: Wired): unknown {
  if (!wired.error) return wired.value;
  const cause = wired.cause === undefined ? undefined : unwireError(wired.cause);
  const options = cause === undefined ? undefined : { cause };
  let error: Error;
  if (wired.name === 'CancelledError') error = new CancelledError(wired.message, options);
  else if (wired.name === 'TimeoutError') error = new TimeoutError(wired.message, options);
  else error = new (BUILTIN[wired.name] ?? Error)(wired.message, options);
  if (error.name !== wired.name)
    Object.defineProperty(error, 'name', { value: wired.name, writable: true, configurable: true });
  for (const [key, value] of Object.entries(wired.props)) {
    Object.defineProperty(error, key, { value, writable: true, configurable: true, enumerable: true });
  }
  if (wired.stack !== undefined) error.stack = wired.stack;
  return error;
}
