import { ENGINE_ERROR_CODES } from '@pgbs/engine';

/**
 * Every stable error code a client can get: the engine's and the server's own. Clients (CLI,
 * GraphQL, panel) map these to messages; a code never changes meaning once released. The schema
 * exposes them as the ErrorCode enum, which types the panel's message table.
 */
export const ERROR_CODES = [
  ...ENGINE_ERROR_CODES,
  'backup/not-found',
  'backup/in-use',
  'backup/copy-not-found',
  'backup/file-missing',
  'backup/delete-incomplete',
  'backup/delete-failed',
  'backup/already-encrypted-to-current',
  'backup/switch-unconfirmed',
  'copy/failed',
  'backup/confirmation-mismatch',
  'restore/confirmation-mismatch',
  'restore/source-mismatch',
  'job/timeout',
  'job/busy',
  'job/not-found',
  'job/interrupted',
  'job/stalled',
  'job/not-queued',
  'job/unknown-kind',
  'target/not-found',
  'target/disabled',
  'target/none',
  'target/invalid-name',
  'target/invalid-url',
  'target/password-in-url',
  'target/name-taken',
  'target/managed-by-env',
  'target/child-of-server',
  'input/invalid',
  'auth/unauthenticated',
  'auth/forbidden',
  'auth/invalid-credentials',
  'auth/user-exists',
  'auth/rate-limited',
  'auth/token-not-found',
  'auth/user-not-found',
  'auth/last-admin',
  'upload/too-large',
  'upload/invalid',
  'download/link-invalid',
  'request/too-large',
  'request/method-not-allowed',
  'query/too-complex',
  'metadata/unavailable',
  'storage/insufficient-space',
  'storage/size-mismatch',
  'schedule/invalid-cron',
  'schedule/invalid-time-zone',
  'schedule/invalid-missed-policy',
  'schedule/invalid-retries',
  'schedule/not-found',
  'retention/invalid-policy',
  'retention/destination-not-used',
  'key/missing',
  'key/unknown',
  'key/invalid',
  'key/not-found',
  'key/invalid-name',
  'key/name-taken',
  'key/recipient-exists',
  'key/retired',
  'key/in-use',
  'key/last-recipient',
  'credential/tampered',
  'config/import-invalid',
  'destination/not-found',
  'destination/invalid-name',
  'destination/name-taken',
  'destination/managed-by-env',
  'destination/in-use',
  'destination/auth-failed',
  'destination/bucket-missing',
  'destination/unreachable',
  'destination/failed',
  'destination/credentials-required',
  'destination/endpoint-forbidden',
  'destination/environment-credentials-refused',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The GraphQL enum value of a code: enum values cannot hold "/" or "-", so restore/unsafe-sql is
 * RESTORE_UNSAFE_SQL. Every code is domain/words-with-dashes, so the panel maps a value back to
 * its code by type alone (the first "_" was the "/").
 */
export function errorCodeEnumValue(code: ErrorCode): string {
  return code.toUpperCase().replace(/[/-]/g, '_');
}
