import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';
import vue from './packages/web/eslint-vue.js';

const TRANSPORT = ['**/graphql/**', '**/http/**', '**/cli/**'];

/** Files matching `files` may not import what matches `forbidden` (type-only imports included). */
function boundary(files, forbidden, message) {
  return { files, rules: { 'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message }] }] } };
}

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
  {
    // Import cycles between files (no-cycle skips type-only imports: the folder rules below keep those apart).
    files: ['packages/engine/src/**/*.ts', 'packages/server/src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // How to parse the imported files (TypeScript), and to find them (.js specifiers name .ts files).
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['packages/engine/tsconfig.json', 'packages/server/tsconfig.json'],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: { 'import-x/no-cycle': 'error' },
  },
  // Boundaries between folders: each layer imports only the ones below it.
  boundary(
    ['packages/engine/**/*.ts'],
    ['@pgbs/server', '@pgbs/server/*', '**/server/**'],
    'The engine imports nothing of the server.',
  ),
  boundary(
    ['packages/server/src/modules/**/*.ts'],
    TRANSPORT,
    'Domain modules never import the transport (graphql/, http/, cli/): the transport calls them.',
  ),
  boundary(
    ['packages/server/src/graphql/**/*.ts'],
    ['**/http/**', '**/cli/**'],
    'GraphQL is hosted by the HTTP layer, not the other way round: what it needs from a request comes through its context.',
  ),
  boundary(
    ['packages/server/src/jobs/**/*.ts'],
    ['**/modules/jobs/**', ...TRANSPORT],
    'The queue and its worker sit below the job operations (modules/jobs) and the transport.',
  ),
  boundary(
    ['packages/server/src/db/**/*.ts'],
    ['**/jobs/**', '**/modules/**', ...TRANSPORT],
    'The metadata schema is the bottom layer of the server.',
  ),
);
