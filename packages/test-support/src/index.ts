import type {} from './provided-context.js';

export { createTestDatabase, databaseUrl, dropDatabase, withSql } from './databases.js';
export type { TestDatabase } from './databases.js';
export { loadFeatureRichSchema, mutateFeatureRichDatabase } from './feature-rich.js';
export { diffFingerprints, fingerprint } from './fingerprint.js';
export type {
  ColumnFingerprint,
  Fingerprint,
  PolicyFingerprint,
  SequenceFingerprint,
  TableFingerprint,
} from './fingerprint.js';
export { freePort, startThrowawayPostgres } from './throwaway-postgres.js';
export type { ThrowawayPostgres } from './throwaway-postgres.js';
