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
export * from './hostile/index.js';
export { createOwnedDatabase, handOverExistingDatabase, ownerConnectionSql } from './owned-database.js';
export type { OwnedDatabase } from './owned-database.js';
export { dumpInEveryFormat, libpqEnv, runPgTool, runPgToolOrThrow } from './pg-tools.js';
export type { ToolResult } from './pg-tools.js';
export { BROKEN_PLAIN_DUMP } from './broken-dump.js';
export { startS3Server } from './s3/s3-server.js';
export type { S3TestServer } from './s3/s3-server.js';
