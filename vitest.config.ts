import { defineConfig } from 'vitest/config';

// The fault-injection suite (kill -9, a full file system, fuzzed uploads) takes minutes, so it is
// not part of `pnpm test`: `PGBS_TEST_FAULTS=1 vitest run --project faults` (pnpm test:faults).
const withFaults = process.env['PGBS_TEST_FAULTS'] === '1';

export default defineConfig({
  // Node resolves "graphql" to its CommonJS build for the libraries (Yoga, Pothos); our source must
  // get the same one, or GraphQL's instanceof checks fail across the two copies.
  resolve: { alias: { graphql: 'graphql/index.js' } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/unit/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/test/integration/**/*.test.ts'],
          // One throwaway PostgreSQL for the whole run (or TEST_DATABASE_URL).
          globalSetup: ['packages/test-support/src/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // Tests share one server; each test file works in databases of its own.
          fileParallelism: true,
        },
      },
      ...(withFaults ? [faultsProject()] : []),
      {
        // The panel's Vite config (Vue plugin, "@" alias), not the root's Node-oriented one.
        extends: './packages/web/vite.config.ts',
        test: {
          name: 'web',
          environment: 'happy-dom',
          include: ['packages/web/test/**/*.test.ts'],
        },
      },
    ],
  },
});

function faultsProject() {
  return {
    extends: true,
    test: {
      name: 'faults',
      include: ['packages/*/test/faults/**/*.test.ts'],
      globalSetup: ['packages/test-support/src/global-setup.ts'],
      testTimeout: 180_000,
      hookTimeout: 120_000,
      fileParallelism: true,
    },
  } as const;
}
