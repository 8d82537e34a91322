// Lint rules for tsaio. `no-floating-promises` is the forgotten `await` (the
// second pitfall of docs/pitfalls.md) caught before the code runs, and
// `tsaio/pass-signal` its cancellation twin, a signal in scope not passed on;
// `tsaio/eslint` (src/eslint/index.ts) ships the same rules for users, and
// test/pitfalls.test.ts checks that every one of them is on here too.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { tsImport } from 'tsx/esm/api';

// tsaio's own plugin, from its source: linting needs no build first.
const { default: tsaio } = await tsImport('./src/eslint/index.ts', import.meta.url);

export default tseslint.config(
  // The fixtures are the pitfalls themselves: test/pitfalls.test.ts and
  // test/eslint-pass-signal.test.ts lint them and expect the errors.
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'docs/api/',
      'test/fixtures/pitfall-floating.ts',
      'test/fixtures/pass-signal-reported.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      'no-async-promise-executor': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-this-alias': 'off',
      '@typescript-eslint/no-redundant-type-constituents': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  // The library's own code and the command pass every signal on. Not on in
  // test/ (25 reports, most on purpose: a body that ignores its signal is what
  // those tests test) nor in examples/ (5).
  {
    files: ['src/**/*.ts'],
    plugins: { tsaio },
    rules: { 'tsaio/pass-signal': 'error' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
