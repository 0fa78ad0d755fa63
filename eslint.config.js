// ESLint with typescript-eslint's type-aware rules over the TypeScript sources, workers, tests
// and bench; formatting is Prettier's (npm run lint checks both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', '.services/', '.cache/', 'models/.venv/', 'models/training/work/', 'bench/results/', 'test-artifacts/', 'src/dashboard/static/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test/describe/it return promises the runner itself awaits.
      // Nearly every async-without-await is a Source/Sink/Query/Pacer method or test fake that must return a
      // promise: `async` turns a throw into a rejection, so dropping it would change behaviour.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a deliberately unused binding (`for await (const _ of ...)`, a rest-sibling drop).
      '@typescript-eslint/no-unused-vars': ['error', { varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] }],
    },
  },
);
