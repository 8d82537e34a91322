/**
 * The recommended lint config of `tsaio/eslint`.
 *
 * @module
 */

/** A flat-config object: a name and rule settings. */
export interface LintConfig {
  readonly name: string;
  readonly rules: Readonly<Record<string, string | readonly unknown[]>>;
}

/**
 * The recommended rules: a promise must be awaited, returned, or passed on
 * (`no-floating-promises`, the forgotten `await`); a promise is not a boolean
 * or a void callback (`no-misused-promises`); only thenables are awaited
 * (`await-thenable`); no `async` executor for `new Promise`
 * (`no-async-promise-executor`).
 *
 * @example Using it in eslint.config.js
 * ```ts
 * import tsaio from 'tsaio/eslint';
 * console.log(tsaio.configs.recommended.rules['@typescript-eslint/no-floating-promises']); // error
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
  rules: {
    '@typescript-eslint/no-floating-promises': 'error',
    '@typescript-eslint/no-misused-promises': 'error',
    '@typescript-eslint/await-thenable': 'error',
    'no-async-promise-executor': 'error',
  },
};

/**
 * The configs of `tsaio/eslint`, as ESLint plugins name them.
 *
 * @example
 * ```ts
 * import { configs } from 'tsaio/eslint';
 * console.log(configs.recommended.name); // tsaio/recommended
 * ```
 */
export const configs = { recommended };
