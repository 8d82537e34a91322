/**
 * Private: what `loop.runInExecutor` needs from an executor, and the default
 * executor's registry. The core imports no I/O part: `tsaio/executor`
 * registers its shared thread pool here when it is imported, and
 * `runInExecutor(null, ...)` asks for it.
 *
 * @module
 */

import type { Future } from './futures.js';

/**
 * Anything with `submit(job, ...args)` returning a `Future` or a promise:
 * `ThreadPoolExecutor`, `ProcessPoolExecutor` (from `tsaio/executor`) or one of your own.
 */
export interface ExecutorLike {
  submit(job: any, ...args: any[]): Future<any> | PromiseLike<any>;
}

let makeDefault: (() => ExecutorLike) | null = null;

/** Called by `tsaio/executor` when it is imported: how to get the default executor. */
export function registerDefaultExecutor(get: () => ExecutorLike): void {
  makeDefault = get;
}

/** The default executor; a `TypeError` that says what to import when none is registered. */
export function defaultExecutor(where: string): ExecutorLike {
  if (makeDefault === null) {
    throw new TypeError(
      `${where}: there is no default executor yet; import 'tsaio/executor' once (it registers a shared ThreadPoolExecutor), or pass an executor`,
    );
  }
  return makeDefault();
}
