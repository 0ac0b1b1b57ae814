import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from './packages/web/eslint-vue.js';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.data/**',
      '**/migrations/**',
      'packages/web/src/graphql/graphql-env.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue,
  {
    // The launchers and the build script are plain JavaScript for Node (no tsc to know its globals).
    files: ['packages/server/bin/**/*.js', 'packages/server/scripts/**/*.js'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
);
