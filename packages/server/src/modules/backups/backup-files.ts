import {
  type ArchiveFormat,
  type ArchiveSource,
  type ByteSource,
  type Codec,
  type InspectRequest,
  type PgTools,
  extensionFor,
} from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';
import type { BackupRow, backups } from '../../db/schema.js';
import type { BackupManifest } from '../../storage/manifest.js';
import { firstStoredCopy, openFromCopies } from './copy-reader.js';
import type { BackupsDeps } from './backups-deps.js';

const MAX_DESCRIPTION = 500;

export function validDescription(raw: string | undefined): string {
  const description = (raw ?? '').trim();
  if (description.length > MAX_DESCRIPTION) {
    throw new ServiceError('input/invalid', `The description is longer than ${MAX_DESCRIPTION} characters.`);
  }
  return description;
}

/** Generated from time, database and id: user text never becomes a path. */
export function backupFileName(now: number, database: string, id: string, format: ArchiveFormat, codec: Codec): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\..*$/, 'Z');
  const safeDb = database.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40) || 'db';
  return `${stamp}-${safeDb}-${id.slice(0, 8)}${extensionFor(format, codec)}`;
}

/** The roles and grants kept beside a backup: its name says which backup it belongs to. */

/** What a sealed manifest shows until it is opened with an identity: its fields are encrypted. */
export const SEALED_DESCRIPTION = '(encrypted)';

export function rowFromManifest(manifest: BackupManifest, targetId: string | null): typeof backups.$inferInsert {
  // A sealed manifest (rescanned) has no schema fields in clear: placeholders stand in for them.
  const sealed = manifest.sealedFields !== undefined;
  return {
    id: manifest.id,
    fileName: manifest.fileName,
    description: sealed ? SEALED_DESCRIPTION : manifest.description,
    format: manifest.format,
    sizeBytes: manifest.sizeBytes,
    sha256: manifest.sha256,
    codec: manifest.codec,
    contentSha256: manifest.contentSha256,
    serverVersion: manifest.serverVersion,
    clientVersion: manifest.clientVersion,
    databaseName: manifest.databaseName ?? null,
    durationMs: manifest.durationMs,
    tableCount: manifest.tableCount ?? null,
    tableSizes: manifest.tableSizes ?? [],
    origin: manifest.origin,
    targetId,
    globalsFileName: manifest.globalsFileName ?? null,
    createdBy: manifest.createdBy ?? null,
    recipientFingerprints: manifest.recipientFingerprints ?? [],
    createdAt: new Date(manifest.createdAt),
  };
}

/** Some copy of the backup can be read (its file is there on a destination that answers). */
export async function requireFile(deps: Pick<BackupsDeps, 'placement' | 'copies'>, backup: BackupRow): Promise<void> {
  if (await firstStoredCopy(deps, backup)) return;
  throw new ServiceError(
    'backup/file-missing',
    `The file of backup ${backup.id} (${backup.fileName}) is missing from every destination that holds a copy.`,
  );
}

/** A stored backup as the engine reads it: a stream from the first copy that answers, opened on each read. */
export function storedSource(
  deps: Pick<BackupsDeps, 'placement' | 'copies' | 'expansionLimit'>,
  backup: BackupRow,
  /** What opens an encrypted backup (given per request, never stored). */
  identities: readonly string[] = [],
): ArchiveSource {
  return {
    identities,
    ...(deps.expansionLimit ? { expansionLimit: deps.expansionLimit } : {}),
    open: async () => (await openFromCopies(deps, backup, backup.fileName)).stream,
    sizeBytes: backup.sizeBytes,
    format: backup.format as ArchiveFormat,
    codec: backup.codec as Codec,
    encrypted: backup.recipientFingerprints.length > 0,
  };
}

/** For reading a backup before anything is stored or restored (outside a job, so with its own bound). */
export function inspectRequest<S>(
  deps: Pick<BackupsDeps, 'runner' | 'expansionLimit'>,
  source: S,
  tools: PgTools,
  signal = AbortSignal.timeout(10 * 60_000),
): Omit<InspectRequest, 'source'> & { source: S & Pick<ByteSource, 'expansionLimit'> } {
  return { runner: deps.runner, tools, source: { ...source, expansionLimit: deps.expansionLimit }, signal };
}
