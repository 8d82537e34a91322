/**
 * Private: loading an optional peer dependency (a database or messaging
 * driver) for the subpath that stands on it.
 *
 * `tsaio/pg`, `tsaio/sqlite` and `tsaio/nats` need a driver the user installs
 * beside tsaio (`npm i pg`); `npm i tsaio` alone builds nothing native. A
 * static `import pg from 'pg'` without `pg` installed fails before any of
 * tsaio's code runs, with Node's "Cannot find package 'pg'" that names
 * neither the subpath nor the fix. The drivers are CommonJS, so the subpaths
 * load them synchronously through `createRequire` instead: importing the
 * subpath without its driver throws an error that says what to install, and
 * `require('tsaio/pg')` keeps working (no top-level await).
 *
 * @module
 */

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The error for `subpath` when its driver package `name` is not installed; keeps Node's `code`. */
export function missingDriver(
  subpath: string,
  name: string,
  packages: readonly string[],
  cause: unknown,
): Error {
  const error = new Error(
    `${subpath} needs the package '${name}' (an optional peer dependency of tsaio), which is not ` +
      `installed: install it beside tsaio with \`npm i ${packages.join(' ')}\``,
    { cause },
  );
  return Object.assign(error, { code: 'ERR_MODULE_NOT_FOUND' });
}

/** True when `error` says that `name` itself (not something it requires) cannot be found. */
function isMissing(error: unknown, name: string): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return (
    e?.code === 'MODULE_NOT_FOUND' &&
    typeof e.message === 'string' &&
    e.message.startsWith(`Cannot find module '${name}'`)
  );
}

/** Where `name` resolves from tsaio's install; throws `missingDriver` when it is not installed. */
export function resolveDriver(name: string, subpath: string, packages: readonly string[]): string {
  try {
    return require.resolve(name);
  } catch (error) {
    if (isMissing(error, name)) throw missingDriver(subpath, name, packages, error);
    throw error;
  }
}

/** Loads the CommonJS driver `name` for `subpath`; throws `missingDriver` when it is not installed. */
export function loadDriver(name: string, subpath: string, packages: readonly string[] = [name]): unknown {
  resolveDriver(name, subpath, packages);
  return require(name) as unknown;
}
