/**
 * `tsaio/eslint`: lint rules for code that uses tsaio, for ESLint's flat
 * config with typescript-eslint. They catch, before the code runs, the
 * forgotten `await` (Python warns "coroutine was never awaited" at run time;
 * in TypeScript it is a floating promise, and `no-floating-promises` reports
 * it as you type), and its cancellation twin: a signal in scope that a call
 * could take and is not given (`tsaio/pass-signal`). The rules need type
 * information (typescript-eslint's `projectService`).
 *
 * This file only re-exports, and gives the default export ESLint plugins have.
 *
 * @module
 */

import { plugin } from './recommended.js';

export { configs, recommended, rules, type LintConfig } from './recommended.js';
export { passSignal, type LintRule } from './passsignal.js';

/** The default export, shaped as ESLint plugins are: `meta`, `rules`, `configs.recommended`. */
export default plugin;
