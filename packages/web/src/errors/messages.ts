import type { CombinedError } from '@urql/vue';
import { RequestTimeoutError } from '@/api/timeout-fetch';
import type { ErrorCode } from '@/graphql/error-codes';

/**
 * What the panel says for each stable error code (the schema's ErrorCode enum: a code without words
 * here does not compile). The server's own message may carry tool output, so the panel shows these
 * words instead.
 */
const MESSAGES: Record<ErrorCode, string> = {
  'auth/unauthenticated': 'Your session has ended. Please log in again.',
  'auth/forbidden': 'Your account is not allowed to do this. Only administrators can manage backups.',
  'auth/invalid-credentials': 'The email or password is not correct.',
  'auth/user-exists': 'A user with this email already exists.',
  'auth/rate-limited': 'Too many attempts. Wait a few minutes and try again.',
  'auth/token-not-found': 'This API token does not exist (it may have been revoked already).',
  'auth/user-not-found': 'This user does not exist (it may have been removed already).',
  'auth/last-admin': 'This is the last administrator: create another one before removing it.',

  'backup/not-found': 'This backup no longer exists. The list has been refreshed.',
  'backup/in-use': 'This backup is being used by a running job or read by a download. Try again when it has finished.',
  'backup/copy-not-found': 'This backup has no copy on that destination.',
  'backup/checksum-mismatch':
    'The backup file is damaged: its checksum does not match the one recorded when it was made.',
  'backup/file-missing': 'The backup file is missing from the storage directory.',
  'backup/delete-incomplete':
    'The backup could not be removed from every destination (one did not answer). Delete it again once they answer.',
  'backup/delete-failed': 'This copy could not be removed: its destination did not answer.',
  'backup/already-encrypted-to-current':
    'This backup is encrypted to its target’s current recipients already: nothing to re-encrypt.',
  'backup/switch-unconfirmed':
    'The re-encryption could not confirm which objects the catalog names (the metadata database stopped answering): both old and new were kept. Remove the ones the backup does not name.',
  'copy/failed': 'The copy to this destination failed; it is retried.',
  'backup/disk-full': 'The storage is full. Delete old backups or free some space, then try again.',
  'backup/confirmation-mismatch': 'The name you typed does not match the backup’s file name.',
  'backup/permission-denied':
    'The service’s role may not read everything in the database. Back up with the owner’s connection (docs/security.md).',

  'archive/unknown-format':
    'This file is not a PostgreSQL backup. Use a custom-format dump (.dump, .backup), a tar archive or plain SQL (.sql, .sql.gz).',
  'archive/corrupt': 'The backup file is corrupt and cannot be read.',
  'archive/truncated': 'The backup file is incomplete: it ends before its last entry.',
  'archive/too-new': 'This backup was made by a newer pg_dump than the restore tools on the server can read.',
  'archive/empty': 'The backup file is empty.',
  'archive/window-too-large':
    'The zstd file needs more memory to decompress than allowed (made with zstd --long or --ultra?). Recompress it with default settings.',
  'archive/expansion-too-large':
    'The file decompresses to far more than its size (more than MAX_EXPANSION_RATIO times): refused as a decompression bomb. Nothing was changed.',

  'restore/unsafe-sql':
    'The SQL file contains commands that are not allowed in a restore (psql meta-commands such as \\! or \\copy). Nothing was changed.',
  'restore/failed': 'The restore failed and was rolled back: the database is exactly as it was before.',
  'restore/missing-role':
    'The backup refers to database roles that do not exist on this server. Retry with “Skip ownership” and “Skip privileges”. Nothing was changed.',
  'restore/confirmation-mismatch': 'The database name you typed does not match the target database.',
  'restore/unsafe-owner':
    'Restores are refused: the database’s owner has rights that reach outside this database (see Settings → General and docs/security.md). Nothing was changed.',
  'restore/not-owner':
    'Restores are refused: the service connects as a role that is neither the database’s owner nor a member of it. Connect as the owner (docs/security.md). Nothing was changed.',
  'restore/unrestorable':
    'The backup holds objects the database’s owner cannot create, or the database holds objects it cannot drop. Retry with “Leave these out”, or have a superuser handle them. Nothing was changed.',
  'restore/source-mismatch':
    'This backup is of another database. Acknowledge the mismatch to restore it all the same. Nothing was changed.',
  'restore/target-busy':
    'Other sessions hold locks the restore needs. Retry when they are done, or let the restore terminate them. Nothing was changed.',
  'restore/cannot-terminate':
    'The service’s role may not terminate other sessions (it needs pg_signal_backend). Restore without terminating them. Nothing was changed.',

  'job/cancelled': 'The job was cancelled. Nothing was changed.',
  'job/timeout': 'The job took longer than the configured time limit and was stopped. Nothing was changed.',
  'job/busy': 'Another backup or restore is running. Wait for it to finish, then try again.',
  'job/not-found': 'This job no longer exists.',
  'job/interrupted': 'The job was interrupted because the server stopped while it ran.',
  'job/stalled':
    'The job made no progress for too long (no data moved and the database did no work for it) and was stopped. Nothing was kept.',
  'job/not-queued': 'The job could not be queued. Check that the service’s metadata database is reachable, then retry.',
  'job/unknown-kind': 'No instance of the service knows how to run this kind of job. Update the service.',

  'upload/too-large': 'The file is larger than the server accepts.',
  'request/too-large': 'The request is larger than the server accepts.',
  'request/method-not-allowed': 'GraphQL operations are sent with POST.',
  'query/too-complex': 'The server refused the request as too complex.',
  'metadata/unavailable':
    'The service cannot reach its own database right now (it may be restarting). Nothing was changed; try again in a moment.',
  'storage/insufficient-space':
    'Not enough free space for the local copy this restore needs. Free space in the upload directory (UPLOAD_TEMP_DIR). Nothing was changed.',
  'storage/size-mismatch':
    'The stored backup is not the size its catalog records: it was changed or replaced in storage. Nothing was restored.',
  'upload/invalid': 'The upload could not be read. Choose the file again and retry.',

  'download/link-invalid': 'The download link has expired. Click “Download” again.',

  'pg/version-mismatch':
    'The PostgreSQL client tools on the server are older than the database server. Install newer client tools.',
  'pg/tool-not-found': 'The PostgreSQL client tools (pg_dump, pg_restore, psql) are not installed on the server.',
  'pg/connection-failed': 'The server cannot connect to the database.',
  'pg/tool-failed': 'A PostgreSQL tool failed. The server log has the details.',

  'config/invalid': 'The server is misconfigured. The server log has the details.',
  'input/invalid': 'Some of the values sent are not valid.',

  'target/not-found': 'This target does not exist (it may have been removed).',
  'target/disabled': 'This target is disabled. Enable it on the Targets page first.',
  'target/none': 'No target database yet. Add one on the Targets page.',
  'target/invalid-name':
    'A target name is 1 to 63 characters: lower-case letters, digits, “_” and “-”, starting with a letter or digit.',
  'target/invalid-url': 'The URL is not a valid postgres:// URL (postgres://user@host:5432/database).',
  'target/password-in-url': 'Leave the password out of the URL and type it in the Password field instead.',
  'target/name-taken': 'Another target already has this name. Choose another one.',
  'target/managed-by-env':
    'This target comes from the server’s configuration (DATABASE_URL) and cannot be changed here.',
  'target/child-of-server':
    'This database belongs to a whole-server target, which would add it back: exclude it there, or disable it.',
  'key/missing':
    'No master key is configured, so a password cannot be stored. Set MASTER_KEY or MASTER_KEY_FILE on the server (docs/operations.md, “Keys”).',
  'key/unknown': 'A stored password was sealed with a key the server no longer has. Set the password again.',
  'key/invalid': 'The server’s master key is not valid. The server log has the details.',
  'key/invalid-recipient': 'This is not an age recipient: it starts with age1 and is 62 characters long.',
  'key/invalid-identity': 'This is not an age identity: the key file holds a line starting with AGE-SECRET-KEY-1.',
  'key/wrong-identity': 'This key does not open the backup: it was encrypted to other recipients. Nothing was written.',
  'key/identity-required':
    'This backup is encrypted: give the age identity (key file) that opens it. Nothing was changed.',
  'key/mixed-recipients': 'age encrypts to recipients or to a passphrase, not both. Choose one.',
  'key/no-recipient': 'Encryption is on but there is no recipient to encrypt to. Add a key first.',
  'key/not-found': 'This key does not exist. The list has been refreshed.',
  'key/invalid-name':
    'A key name is 1 to 63 lower-case letters, digits, ".", "_" or "-", and cannot be "none" or start with "age1".',
  'key/name-taken': 'A key with this name exists already.',
  'key/recipient-exists': 'This recipient is registered already.',
  'key/retired': 'This key is retired: new backups cannot be encrypted to it.',
  'key/in-use': 'Targets still encrypt to this key. Give them other keys first.',
  'key/last-recipient':
    'Some backups can be opened only with this key. Keep its identity safe, and confirm by naming those backups.',
  'credential/tampered': 'A stored password cannot be opened: it was changed or copied. Set the password again.',
  'config/import-invalid': 'The configuration document is not valid. Nothing was imported.',
  'schedule/invalid-cron':
    'The cron expression is not valid: five fields (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly.',
  'schedule/invalid-time-zone': 'The time zone is not valid: use an IANA name such as Europe/Berlin or UTC.',
  'schedule/invalid-missed-policy': 'The missed-run policy must be “run-once” or “skip”.',
  'schedule/invalid-retries': 'The number of retries must be a whole number from 0 to 10.',
  'schedule/not-found': 'This target has no schedule.',
  'retention/invalid-policy': 'The retention policy is not valid: every count must be a whole number of 0 or more.',
  'retention/destination-not-used':
    'This target neither backs up to that destination nor has backups there: its rules cannot be set.',
  'destination/not-found': 'This destination no longer exists. The list has been refreshed.',
  'destination/invalid-name':
    'A destination name is 1 to 63 characters: lower-case letters, digits, “_” and “-”, starting with a letter or digit.',
  'destination/name-taken': 'Another destination already has this name. Choose another one.',
  'destination/managed-by-env':
    'This destination comes from the server’s configuration (BACKUP_DIR) and cannot be changed here.',
  'destination/in-use':
    'Targets still send their backups to this destination, or copies are stored there: change those targets first.',
  'destination/auth-failed':
    'The storage refused the credentials: check the access key id and secret, and that they may use this bucket.',
  'destination/bucket-missing': 'The bucket does not exist. Create it first, or correct its name.',
  'destination/unreachable': 'The storage cannot be reached. Check the endpoint or region, and the network.',
  'destination/failed': 'The storage refused the request. The server log has the details.',
  'destination/credentials-required':
    'This S3 destination has no stored credentials. Give them, or choose explicitly to use the service’s own (its environment or instance role).',
  'destination/endpoint-forbidden':
    'This endpoint is a link-local or cloud metadata address, which hands out the machine’s own credentials. Nothing was changed.',
  'destination/environment-credentials-refused':
    'The service’s own credentials are sent only to AWS or to endpoints its operator allows (S3_ENV_CREDENTIALS_ENDPOINTS). Give this destination credentials of its own.',
};

export const GENERIC_MESSAGE = 'Something went wrong. Try again; if it keeps failing, the server log has the details.';
export const TIMEOUT_MESSAGE = 'The server did not answer in time. Check your connection and try again.';
export const NETWORK_MESSAGE = 'The server cannot be reached. Check your connection and try again.';

const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(MESSAGES, code);

export function messageFor(code: string | null | undefined): string {
  return code && isErrorCode(code) ? MESSAGES[code] : GENERIC_MESSAGE;
}

/**
 * Refusals whose server message is composed by the service from what it found (which databases,
 * which objects, which rights), with no tool output: more useful than the general words.
 */
const SPECIFIC_REFUSALS: ReadonlySet<string> = new Set<ErrorCode>([
  'restore/source-mismatch',
  'restore/unrestorable',
  'restore/missing-role',
  'restore/unsafe-owner',
  'restore/not-owner',
  'restore/cannot-terminate',
]);

/** A mutation's CodedError in human words. */
export function describeRefusal(refusal: { code?: string | null; message?: string | null } | undefined): string {
  if (refusal?.code && refusal.message && SPECIFIC_REFUSALS.has(refusal.code)) return refusal.message;
  return messageFor(refusal?.code);
}

/** A failed request (network, timeout, or a top-level GraphQL error) in human words. */
export function describeRequestError(error: CombinedError): string {
  if (error.networkError instanceof RequestTimeoutError) return TIMEOUT_MESSAGE;
  const code = error.graphQLErrors.map((e) => e.extensions?.code).find((c) => typeof c === 'string');
  if (typeof code === 'string') return messageFor(code);
  if (error.networkError) return NETWORK_MESSAGE;
  return GENERIC_MESSAGE;
}
