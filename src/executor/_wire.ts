/**
 * Private: what goes between a pool and its workers (threads, child
 * processes, the sync worker), and errors made fit to cross: an error is sent
 * as its name, message, stack, `code` and other plain fields, and rebuilt on
 * the other side (a `CancelledError` or `TimeoutError` as the core's own class).
 *
 * @module
 */

import { inspect, types } from 'node:util';
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

/**
 * `msg` as a message to a worker (`run` or `cancel` with a numeric id), or
 * `null` for anything else: a worker ignores what no pool sends, and
 * answers a `run` whose job or arguments are malformed with an error.
 */
export function asCall(msg: unknown): ToWorker | null {
  if (msg === null || typeof msg !== 'object') return null;
  const { t, id } = msg as { t?: unknown; id?: unknown };
  if (typeof id !== 'number' || !Number.isFinite(id)) return null;
  if (t === 'cancel') {
    const reason = (msg as { reason?: unknown }).reason;
    return { t, id, reason: typeof reason === 'string' ? reason : '' };
  }
  if (t !== 'run') return null;
  const { job, args, chunk } = msg as { job?: unknown; args?: unknown; chunk?: unknown };
  return { t, id, job: job as JobSpec, args: args as unknown[], chunk: chunk === true };
}

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

/** `read()`, or `fallback` if it throws: a hostile value's getters and traps may throw anything. */
function attempt<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

const INSPECT = {
  customInspect: false,
  showProxy: false,
  getters: false,
  depth: 1,
  maxArrayLength: 10,
  maxStringLength: 100,
  breakLength: Infinity,
} as const;

/**
 * Best-effort text for any value, for a message: `Symbol(x)`, `[Function:
 * f]`, `null`, `a Proxy of {}`. Never throws and runs none of the value's
 * own code (no getter, trap, `toString` or custom inspect).
 */
export function describeValue(value: unknown): string {
  const proxy = types.isProxy(value);
  const text = attempt(
    () => inspect(value, INSPECT).replace(/\s+/g, ' '),
    typeof value === 'object' ? 'an object' : `a ${typeof value}`,
  );
  const short = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return proxy ? `a Proxy of ${short}` : short;
}

/** Why an operation failed, as text (its message, shortened), whatever `error` is. */
export function reasonOf(error: unknown): string {
  const thrown = () => `${describeValue(error)} was thrown`;
  const text = attempt(() => {
    const message = types.isProxy(error) ? undefined : (error as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message : thrown();
  }, thrown());
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** The error sent for a thrown value that cannot cross as it is. */
function standIn(error: Error): Wired {
  return { error: true, name: error.name, message: error.message, stack: error.stack, props: {} };
}

/**
 * `thrown` as something structured clone can carry. Never throws, whatever
 * was thrown: an error's readable fields are kept (a field whose getter
 * throws is left out); a value that cannot be cloned (a Proxy, a Symbol, a
 * function, an object with a throwing getter) is sent as a `TypeError` that
 * describes it; `null` and `undefined` as an `Error` that says so.
 */
export function wireError(thrown: unknown, depth = 0): Wired {
  try {
    if (!types.isProxy(thrown) && (types.isNativeError(thrown) || thrown instanceof Error))
      return wireErrorObject(thrown as Error, depth);
    if (thrown === null || thrown === undefined)
      return standIn(new Error(`the job threw ${thrown}, not an error`));
    return { error: false, value: structuredClone(thrown) };
  } catch (why) {
    return standIn(
      new TypeError(
        `the job threw ${describeValue(thrown)}, which cannot be sent back from the worker: ${reasonOf(why)}`,
      ),
    );
  }
}

/** An error's name, message, stack, plain own fields and cause, each read on its own. */
function wireErrorObject(thrown: Error, depth: number): Wired {
  const unreadable = (what: string) => (why: unknown) =>
    `(the ${what} of the error the job threw could not be read: ${reasonOf(why)})`;
  const read = <T>(get: () => T, fallback: (why: unknown) => T): T => {
    try {
      return get();
    } catch (why) {
      return fallback(why);
    }
  };
  const name = read(
    () => String(thrown.name),
    () => 'Error',
  );
  const message = read(() => String(thrown.message), unreadable('message'));
  const stack = read(
    () => {
      const text: unknown = thrown.stack;
      return typeof text === 'string' ? text : undefined;
    },
    () => undefined,
  );
  const props: Record<string, unknown> = {};
  for (const key of attempt(() => Object.keys(thrown), [] as string[])) {
    if (key === 'cause') continue;
    const value = attempt(() => (thrown as unknown as Record<string, unknown>)[key], undefined);
    if (value === null || PLAIN.has(typeof value)) props[key] = value;
  }
  const code = attempt(() => (thrown as { code?: unknown }).code, undefined);
  if (PLAIN.has(typeof code)) props['code'] = code;
  const wired: Wired = { error: true, name, message, stack, props };
  const cause = attempt(() => thrown.cause, undefined);
  if (cause !== undefined && depth < 5) wired.cause = wireError(cause, depth + 1);
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
