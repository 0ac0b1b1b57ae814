/**
 * Stable error codes. Clients (CLI, GraphQL, panel) map these to messages;
 * the codes never change meaning once released.
 */
export type ErrorCode =
  | 'pg/version-mismatch'
  | 'pg/tool-not-found'
  | 'pg/connection-failed'
  | 'pg/tool-failed'
  | 'backup/not-found'
  | 'backup/in-use'
  | 'backup/checksum-mismatch'
  | 'backup/file-missing'
  | 'backup/disk-full'
  | 'archive/unknown-format'
  | 'archive/corrupt'
  | 'archive/truncated'
  | 'archive/too-new'
  | 'archive/empty'
  | 'restore/unsafe-sql'
  | 'restore/failed'
  | 'restore/missing-role'
  | 'restore/confirmation-mismatch'
  | 'restore/unsafe-owner'
  | 'restore/not-owner'
  | 'restore/unrestorable'
  | 'restore/source-mismatch'
  | 'restore/target-busy'
  | 'restore/cannot-terminate'
  | 'backup/permission-denied'
  | 'job/cancelled'
  | 'job/timeout'
  | 'job/busy'
  | 'job/not-found'
  | 'job/interrupted'
  | 'job/stalled'
  | 'job/not-queued'
  | 'job/unknown-kind'
  | 'target/not-found'
  | 'config/invalid'
  | 'input/invalid'
  | 'auth/unauthenticated'
  | 'auth/forbidden'
  | 'auth/invalid-credentials'
  | 'auth/user-exists'
  | 'auth/rate-limited'
  | 'auth/token-not-found'
  | 'auth/user-not-found'
  | 'auth/last-admin'
  | 'upload/too-large'
  | 'upload/invalid'
  | 'download/link-invalid'
  | 'request/too-large'
  | 'query/too-complex'
  | 'backup/confirmation-mismatch'
  | 'schedule/invalid-cron'
  | 'schedule/invalid-time-zone'
  | 'schedule/invalid-missed-policy'
  | 'schedule/not-found'
  | 'retention/invalid-policy'
  | 'target/disabled'
  | 'target/none'
  | 'target/invalid-name'
  | 'target/invalid-url'
  | 'target/password-in-url'
  | 'target/name-taken'
  | 'target/managed-by-env'
  | 'target/child-of-server'
  | 'key/missing'
  | 'key/unknown'
  | 'key/invalid'
  | 'credential/tampered'
  | 'config/import-invalid';

export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function isEngineError(error: unknown, code?: ErrorCode): error is EngineError {
  return error instanceof EngineError && (code === undefined || error.code === code);
}
