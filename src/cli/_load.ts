/**
 * How `tsaio worker MODULE` finds and loads its module, from the user's
 * current directory (never from where tsaio is installed): a path
 * (`./jobs.js`, `jobs.js`, `/abs/jobs.mjs`) is a file there; anything else is a
 * package resolved from there. A TypeScript module (`.ts`, `.mts`, `.cts`)
 * runs through the project's own `tsx` when it has one; without one the
 * error says how to get it.
 *
 * @module
 */

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError, describeError } from './_common.js';

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx']);

/** True when `specifier` is written as a path (`./x`, `../x`, `/x`), not as a package name. */
function looksLikePath(specifier: string): boolean {
  return isAbsolute(specifier) || /^\.\.?([\\/]|$)/.test(specifier);
}

/**
 * Resolves `specifier` as `require` would from a file in `cwd`: its path;
 * `'import-only'` for a package found whose exports have no `require`
 * condition; `null` when there is none.
 */
function resolveFrom(cwd: string, specifier: string): string | null {
  try {
    return createRequire(join(cwd, 'noop.js')).resolve(specifier);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' ? IMPORT_ONLY : null;
  }
}

/** A package `require` finds but may not load (its exports are for `import` only). */
const IMPORT_ONLY = 'import-only';

/** tsx's loader (what `node --import tsx` loads), resolved from `cwd`, loaded once. */
let tsxLoaded: Promise<boolean> | null = null;
function loadTsx(cwd: string): Promise<boolean> {
  tsxLoaded ??= (async () => {
    const loader = resolveFrom(cwd, 'tsx');
    if (loader === null) return false;
    await import(pathToFileURL(loader).href);
    return true;
  })();
  return tsxLoaded;
}

/** What to do when a TypeScript module cannot run. */
function howToRunTypeScript(specifier: string): string {
  return (
    `cannot run the TypeScript module ${specifier}: Node.js needs tsx for it. ` +
    'Install it in this project (npm i -D tsx), or run tsaio through it: ' +
    `node --import tsx node_modules/.bin/tsaio worker ${specifier}`
  );
}

/**
 * Imports the module `specifier` names, resolved from `cwd`; a `UsageError`
 * that says what was looked for when it cannot.
 *
 * @example
 * ```ts
 * const ns = await importFromCwd('./jobs.js'); // the exports of ./jobs.js in the current directory
 * ```
 */
export async function importFromCwd(
  specifier: string,
  cwd: string = process.cwd(),
): Promise<Record<string, unknown>> {
  const local = resolve(cwd, specifier);
  let url: string;
  if (existsSync(local)) url = pathToFileURL(local).href;
  else if (looksLikePath(specifier))
    throw new UsageError(`cannot find module ${specifier}: no file ${local}`);
  else {
    const resolved = resolveFrom(cwd, specifier);
    if (resolved === null) {
      throw new UsageError(
        `cannot find module ${specifier}: no file ${local}, and no package ${specifier} from ${cwd}`,
      );
    }
    // An import-only package: import() resolves it, from tsaio's own node_modules up.
    url = resolved === IMPORT_ONLY ? specifier : pathToFileURL(resolved).href;
  }
  const typescript = url.startsWith('file:') && TYPESCRIPT.has(extname(new URL(url).pathname));
  if (typescript) await loadTsx(cwd);
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    if (typescript && (error as NodeJS.ErrnoException).code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new UsageError(howToRunTypeScript(specifier));
    }
    throw new UsageError(`cannot load module ${specifier}: ${describeError(error)}`);
  }
}
