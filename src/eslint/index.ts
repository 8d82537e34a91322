/**
 * `tsaio/eslint`: lint rules for code that uses tsaio, for ESLint's flat
 * config with typescript-eslint. They catch the seed's pitfall 2 before the
 * code runs: Python warns "coroutine was never awaited" at run time; in
 * TypeScript a forgotten `await` is a floating promise, and
 * `no-floating-promises` reports it as you type. The rules need type
 * information (typescript-eslint's `projectService`).
 *
 * This file only re-exports, and gives the default export ESLint plugins have.
 *
 * @module
 */

import { configs } from './recommended.js';

export { configs, recommended, type LintConfig } from './recommended.js';

/** The default export, shaped as ESLint plugins are: `tsaio.configs.recommended`. */
export default { configs };
