/**
 * Private: a job as the caller gives it, turned into what is sent to a
 * worker. A job is a module and an export name — `{ module, name }`, or a
 * module path or URL alone for its default export — or a self-contained
 * function, sent as its source text.
 *
 * @module
 */

import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe } from '../_lowlevel.js';
import type { JobSpec } from './_wire.js';

/** A job: a self-contained function, a module (path or URL: its default export), or `{ module, name }`. */
export type Job<A extends unknown[] = any[], R = unknown> =
  ((...args: A) => R | PromiseLike<R>) | string | URL | { module: string | URL; name?: string };

const specs = new WeakMap<object, JobSpec>();

function moduleUrl(module: unknown, where: string): string {
  if (module instanceof URL) return module.href;
  if (typeof module === 'string') {
    if (/^(file|data|node):/.test(module)) return module;
    if (isAbsolute(module)) return pathToFileURL(module).href;
  }
  throw new TypeError(
    `${where}: a job module must be an absolute path or a URL (new URL('./jobs.js', import.meta.url)), received ${describe(module)}`,
  );
}

function fromFunction(fn: (...args: any[]) => unknown, where: string): JobSpec {
  const source = Function.prototype.toString.call(fn);
  const bad = (why: string) =>
    new TypeError(`${where}: the function ${fn.name || '(anonymous)'} cannot be sent to a worker: ${why}`);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source))
    throw bad('it is built in or bound; wrap it in a function of your own');
  if (/^class\b/.test(source)) throw bad('it is a class; send a function');
  try {
    // Compiles without running: a method shorthand `f() {}` is not an expression.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    new Function(`return (${source});`);
  } catch {
    throw bad('its source is not a function expression (a method? write it as `function` or an arrow)');
  }
  return { kind: 'source', source, name: fn.name || '(anonymous)' };
}

/** The spec sent for `job` (made once per function or job object). */
export function toSpec(job: unknown, where: string): JobSpec {
  if (typeof job === 'function') {
    let spec = specs.get(job);
    if (spec === undefined) specs.set(job, (spec = fromFunction(job as (...args: any[]) => unknown, where)));
    return spec;
  }
  if (typeof job === 'string' || job instanceof URL)
    return { kind: 'module', url: moduleUrl(job, where), name: 'default' };
  if (job !== null && typeof job === 'object' && 'module' in job) {
    let spec = specs.get(job);
    if (spec === undefined) {
      const name = (job as { name?: unknown }).name ?? 'default';
      if (typeof name !== 'string' || name === '') {
        throw new TypeError(
          `${where}: a job's export name must be a non-empty string, received ${describe(name)}`,
        );
      }
      specs.set(
        job,
        (spec = { kind: 'module', url: moduleUrl((job as { module: unknown }).module, where), name }),
      );
    }
    return spec;
  }
  throw new TypeError(
    `${where}: a job must be a function, a module path or URL, or { module, name }, received ${describe(job)}`,
  );
}

/** How a job is named in messages: `sum` or `work from file:///jobs.js`. */
export function jobLabel(spec: JobSpec): string {
  return spec.kind === 'source' ? `${spec.name}()` : `${spec.name}() from ${spec.url}`;
}

/** The note added to a `ReferenceError` of a job sent as source: it had no closure. */
export function closureHint(spec: JobSpec, error: unknown): unknown {
  if (spec.kind !== 'source' || !(error instanceof Error) || error.name !== 'ReferenceError') return error;
  error.message += ` (in job ${jobLabel(spec)}: a function sent as source carries no closure; pass the value as an argument, or export the function from a module)`;
  return error;
}
