// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * typescript-eslint's recommended and type-checked rules over every file tsconfig.json covers
 * (src, routes, test, bench, emulators, demo). Formatting is Prettier's (.prettierrc.json), not ESLint's.
 */
export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test/browser/screenshots/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // async without await is how a fake or a synchronous body implements a Promise-returning interface: a throw becomes a rejection.
      '@typescript-eslint/require-await': 'off',
      // `_name` marks a parameter an interface requires and a destructured field left out on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // Tests and benchmarks read JSON bodies (supertest's res.body, JSON.parse) as `any` and then assert their shape.
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Plain JavaScript: no type information; CommonJS files (preloads, configs) load modules with require.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: { globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' } },
  },
);
