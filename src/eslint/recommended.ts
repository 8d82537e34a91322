/**
 * The recommended lint config of `tsaio/eslint`, and the plugin that holds
 * tsaio's own rule.
 *
 * @module
 */

import { passSignal, type LintRule } from './passsignal.js';

/** A flat-config object: a name, the plugins its rules need, and rule settings. */
export interface LintConfig {
  readonly name: string;
  readonly plugins: Readonly<Record<string, unknown>>;
  readonly rules: Readonly<Record<string, string | readonly unknown[]>>;
}

/**
 * tsaio's own rules, by the name ESLint gives them after the plugin's
 * (`tsaio/pass-signal`).
 *
 * @example Turning one rule on by hand
 * ```ts
 * import tsaio, { rules } from 'tsaio/eslint';
 * console.log(Object.keys(rules)); // [ 'pass-signal' ]
 * // eslint.config.js: { plugins: { tsaio }, rules: { 'tsaio/pass-signal': 'error' } }
 * console.log(tsaio.rules === rules); // true
 * ```
 */
export const rules: Readonly<Record<'pass-signal', LintRule>> = { 'pass-signal': passSignal };

/** The plugin object (the package's default export); `configs` is filled in below. */
export const plugin = {
  meta: { name: 'tsaio' },
  rules,
  configs: {} as { recommended: LintConfig },
};

/**
 * The recommended rules: a promise must be awaited, returned, or passed on
 * (`no-floating-promises`, the forgotten `await`); a promise is not a boolean
 * or a void callback (`no-misused-promises`); only thenables are awaited
 * (`await-thenable`); no `async` executor for `new Promise`
 * (`no-async-promise-executor`); the `AbortSignal` in scope is passed to
 * calls that accept one (`tsaio/pass-signal`).
 *
 * @example Using it in eslint.config.js
 * ```ts
 * import tsaio from 'tsaio/eslint';
 * console.log(tsaio.configs.recommended.rules['@typescript-eslint/no-floating-promises']); // error
 * console.log(tsaio.configs.recommended.rules['tsaio/pass-signal']); // error
 * // eslint.config.js:
 * //   import tseslint from 'typescript-eslint';
 * //   import tsaio from 'tsaio/eslint';
 * //   export default tseslint.config(
 * //     ...tseslint.configs.recommendedTypeChecked,
 * //     { languageOptions: { parserOptions: { projectService: true } } },
 * //     tsaio.configs.recommended,
 * //   );
 * ```
 */
export const recommended: LintConfig = {
  name: 'tsaio/recommended',
  plugins: { tsaio: plugin },
  rules: {
    '@typescript-eslint/no-floating-promises': 'error',
    '@typescript-eslint/no-misused-promises': 'error',
    '@typescript-eslint/await-thenable': 'error',
    'no-async-promise-executor': 'error',
    'tsaio/pass-signal': 'error',
  },
};

plugin.configs.recommended = recommended;

/**
 * The configs of `tsaio/eslint`, as ESLint plugins name them.
 *
 * @example
 * ```ts
 * import { configs } from 'tsaio/eslint';
 * console.log(configs.recommended.name); // tsaio/recommended
 * ```
 */
export const configs = plugin.configs;
