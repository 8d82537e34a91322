/**
 * Private, inside a worker: loads a job and runs it. A job sent as source is
 * compiled once per worker in the worker's global scope (so it sees no
 * closure of the caller's); a module job is imported once. A job that
 * declares more parameters than the arguments it is given gets an
 * `AbortSignal` as its last argument, aborted when the caller cancels it.
 *
 * @module
 */

import { isMainThread, workerData } from 'node:worker_threads';
import { CancelledError } from '../exceptions.js';
import { describeValue, type JobSpec } from './_wire.js';

type JobFn = (...args: unknown[]) => unknown;

const compiled = new Map<string, JobFn>();
// Sources compiled by esbuild (tsx) with `keepNames` call a `__name` helper
// that a function sent alone does not carry: give the worker a harmless one.
(globalThis as { __name?: unknown }).__name ??= (target: unknown) => target;

/** The function `spec` names. */
async function loadJob(spec: JobSpec): Promise<JobFn> {
  const { kind, source, url, name } = (spec ?? {}) as Partial<Record<string, unknown>>;
  const valid =
    kind === 'source'
      ? typeof source === 'string'
      : kind === 'module' && typeof url === 'string' && URL.canParse(url) && typeof name === 'string';
  if (!valid) throw new TypeError(`the worker was sent a malformed job: ${describeValue(spec)}`);
  if (spec.kind === 'source') {
    let fn = compiled.get(spec.source);
    if (fn === undefined) {
      fn = (0, eval)(`(${spec.source})`) as JobFn;
      compiled.set(spec.source, fn);
    }
    return fn;
  }
  if (/\.[cm]?tsx?$/.test(new URL(spec.url).pathname)) await tsxHooks();
  const mod = (await import(spec.url)) as Record<string, unknown>;
  const fn = mod[spec.name];
  if (typeof fn !== 'function') {
    throw new TypeError(
      `the module ${spec.url} has no exported function ${JSON.stringify(spec.name)} (found ${typeof fn})`,
    );
  }
  return fn as JobFn;
}

let hooks: Promise<void> | null = null;

/**
 * In a thread of a process run under tsx: registers tsx's module hooks, once
 * (Node 20 does not pass them on to threads; see `_spawn.ts`).
 */
function tsxHooks(): Promise<void> {
  // A thread is told in its workerData; a child process (started without tsx's flags) in argv[2].
  const data = isMainThread
    ? { tsx: process.argv[2] }
    : (workerData as { tsx?: string | null; tsxRegistered?: boolean } | null);
  const api = data?.tsx;
  if (api == null || data?.tsxRegistered === true) return Promise.resolve();
  return (hooks ??= import(api).then((m: { register(): unknown }) => {
    m.register();
  }));
}

/** The jobs running in this worker that can be cancelled, by id. */
const controllers = new Map<number, AbortController>();
/** Jobs received and not started yet (their module may be loading). */
const waiting = new Set<number>();
/** Of those, the ones cancelled meanwhile: they will not run. */
const early = new Set<number>();

/** Loads and runs job `id`: what a worker does with each job it is sent. */
export async function execute(id: number, spec: JobSpec, args: unknown[], chunk: boolean): Promise<unknown> {
  if (!Array.isArray(args))
    throw new TypeError(`the worker was sent a malformed argument list: ${describeValue(args)}`);
  waiting.add(id);
  try {
    const fn = await loadJob(spec);
    return await runJob(id, fn, args, chunk);
  } finally {
    waiting.delete(id);
    early.delete(id);
  }
}

/** Runs `fn` on `args` (or on each of them, for a chunk), passing a signal when it declares a parameter for one. */
async function runJob(id: number, fn: JobFn, args: unknown[], chunk: boolean): Promise<unknown> {
  waiting.delete(id);
  if (early.has(id)) throw new CancelledError('cancelled before it started');
  const wantsSignal = fn.length > (chunk ? 1 : args.length);
  let ctl: AbortController | undefined;
  if (wantsSignal) {
    ctl = new AbortController();
    controllers.set(id, ctl);
  }
  try {
    if (!chunk) return await (wantsSignal ? fn(...args, ctl!.signal) : fn(...args));
    const out: unknown[] = [];
    for (const arg of args) out.push(await (wantsSignal ? fn(arg, ctl!.signal) : fn(arg)));
    return out;
  } finally {
    if (ctl !== undefined) controllers.delete(id);
  }
}

/** Aborts the signal of job `id`, if it has one; a job that has not started yet will not run at all. */
export function cancelJob(id: number, reason: string): void {
  const ctl = controllers.get(id);
  if (ctl !== undefined) ctl.abort(new CancelledError(reason));
  else if (waiting.has(id)) early.add(id);
}
