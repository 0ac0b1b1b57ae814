import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The panel's end-to-end suite (`pnpm --filter @pgbs/web test:e2e`): the real server on a throwaway
// PostgreSQL, the built panel, and Debian's Chromium driven by playwright-core. Kept out of the root
// `vitest run`, whose projects do not include e2e/.
export default defineConfig({
  // As in the root config: the server's source must get the same (CommonJS) graphql as Yoga and Pothos.
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    name: 'e2e',
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['e2e/**/*.e2e.test.ts'],
    globalSetup: ['e2e/global-setup.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // One browser walks through the flows in order: a failure stops the rest.
    fileParallelism: false,
    bail: 1,
  },
});
