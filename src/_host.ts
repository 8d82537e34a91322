/**
 * Private: what the core asks of the runtime beyond the language — Node's
 * `process` and built-in modules, and `setImmediate` — asked for only when a
 * feature needs it, so that importing `tsaio` loads no Node module and runs
 * unchanged in Deno, Bun and a browser.
 *
 * Built-in modules come from `process.getBuiltinModule` (Node 20.16+, Deno 2,
 * Bun): synchronous, so tracing can open its file and debug mode install its
 * promise hooks the moment they are turned on, as before. Where there is no
 * `process` (a browser) the answer is `undefined`, and the caller goes
 * without: see docs/design.md, "Runtimes".
 *
 * @module
 */

/** The runtime's `process`, or `undefined` where there is none (a browser). */
export const hostProcess: NodeJS.Process | undefined = (globalThis as { process?: NodeJS.Process }).process;

type Builtins = {
  'node:fs': typeof import('node:fs');
  'node:url': typeof import('node:url');
  'node:v8': typeof import('node:v8');
};

/** The Node built-in module `id` (`'node:fs'`), or `undefined` where the runtime has none. */
export function nodeModule<ID extends keyof Builtins>(id: ID): Builtins[ID] | undefined {
  const get = hostProcess?.getBuiltinModule as ((id: string) => object | undefined) | undefined;
  return typeof get === 'function' ? (get.call(hostProcess, id) as Builtins[ID] | undefined) : undefined;
}

/** `process.env[name]`, or `undefined` where there is no environment, or reading it is not allowed (Deno). */
export function envVar(name: string): string | undefined {
  try {
    return hostProcess?.env?.[name];
  } catch {
    return undefined;
  }
}

/** A timer or immediate that does not keep the process alive (where the runtime has that notion). */
export function unref(timer: unknown): void {
  (timer as { unref?: () => void } | null)?.unref?.();
}

/** A callback queued to run once, after pending I/O and timers' callbacks; `clearMacrotask` takes it back. */
export type Macrotask = unknown;

const native = (globalThis as { setImmediate?: typeof setImmediate }).setImmediate;
const nativeClear = (globalThis as { clearImmediate?: typeof clearImmediate }).clearImmediate;

/**
 * Where there is no `setImmediate` (a browser), a `MessageChannel` message
 * does the same: it runs after the microtasks, on a later turn, without the
 * 4 ms clamp of a nested `setTimeout(0)`.
 */
let port: { postMessage(id: number): void } | null = null;
const posted = new Map<number, () => void>();
let nextId = 0;

function postTask(callback: () => void): number {
  if (port === null) {
    const channel = new MessageChannel();
    const receiver = channel.port1 as unknown as { onmessage: (event: { data: number }) => void };
    // Setting `onmessage` (not addEventListener) also starts the port.
    receiver.onmessage = ({ data }) => {
      const fn = posted.get(data);
      if (fn === undefined) return;
      posted.delete(data);
      fn();
    };
    port = channel.port2;
  }
  const id = ++nextId;
  posted.set(id, callback);
  port.postMessage(id);
  return id;
}

/** `setImmediate(callback)`, or its stand-in where the runtime has none. */
export const setMacrotask: (callback: () => void) => Macrotask =
  native !== undefined ? (callback) => native(callback) : postTask;

/** Takes back what `setMacrotask` queued, if it has not run. */
export const clearMacrotask: (handle: Macrotask) => void =
  nativeClear !== undefined
    ? (handle) => nativeClear(handle as NodeJS.Immediate)
    : (handle) => void posted.delete(handle as number);
