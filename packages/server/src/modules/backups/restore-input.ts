import { type ArchiveSource, fileSource } from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';
import type { RestoreSource } from './backup-types.js';
import { openFromCopies } from './copy-reader.js';
import type { BackupsDeps } from './backups-deps.js';

/** Room left on the spool's disk besides the copy itself. */
const SPOOL_MARGIN_BYTES = 64 * 1024 * 1024;

/**
 * Whether a stored backup is copied to local disk before it is restored. A custom archive this
 * service wrote streams from storage to pg_restore in order. Tar archives (structure checked
 * apart, several passes) and foreign custom archives (written to a seekable file: their data
 * order is not guaranteed to be the one a streamed pg_restore needs) are read from a local copy.
 */
export function mustSpool(source: Pick<RestoreSource, 'backupId' | 'format' | 'foreign'>): boolean {
  if (source.backupId === null) return false; // a local file already
  return source.format === 'tar' || (source.format === 'custom' && source.foreign);
}

/** Refuses, changing nothing, a restore whose local copy would not fit. */
export async function requireSpoolSpace(deps: Pick<BackupsDeps, 'restoreSpool'>, source: RestoreSource): Promise<void> {
  if (!mustSpool(source)) return;
  const free = await deps.restoreSpool.freeBytes();
  if (free < source.sizeBytes + SPOOL_MARGIN_BYTES) {
    throw new ServiceError(
      'storage/insufficient-space',
      `Restoring ${source.label} needs a local copy of ${mib(source.sizeBytes)} MiB first (a tar or uploaded archive), but the upload directory has ${mib(free)} MiB free. Free space there, or set UPLOAD_TEMP_DIR to a larger disk. Nothing was changed.`,
      { neededBytes: source.sizeBytes + SPOOL_MARGIN_BYTES, freeBytes: free },
    );
  }
}

const mib = (bytes: number) => Math.ceil(bytes / 1024 / 1024);

/** The source as it is: the stored object streamed from storage, or the file from outside. */
export function directInput(
  deps: Pick<BackupsDeps, 'placement' | 'copies' | 'expansionLimit'>,
  source: RestoreSource,
  identities: readonly string[] = [],
): ArchiveSource & { sha256: string; contentSha256: string | null } {
  const { fileName, filePath } = source;
  return {
    expansionLimit: deps.expansionLimit,
    format: source.format,
    codec: source.codec,
    encrypted: source.encrypted ?? false,
    identities,
    sizeBytes: source.sizeBytes,
    sha256: source.sha256,
    contentSha256: source.contentSha256,
    open: async () =>
      fileName !== null
        ? (await openFromCopies(deps, { id: source.backupId!, fileName }, fileName)).stream
        : (await fileSource(filePath!)).open(),
  };
}

/** What a restore job reads: the direct input, or a local copy of it (mustSpool). `release` deletes a copy. */
export async function openRestoreInput(
  deps: Pick<BackupsDeps, 'placement' | 'copies' | 'restoreSpool' | 'expansionLimit'>,
  source: RestoreSource,
  signal: AbortSignal,
  identities: readonly string[] = [],
): Promise<{ source: ReturnType<typeof directInput>; release(): Promise<void> }> {
  const direct = directInput(deps, source, identities);
  if (!mustSpool(source)) return { source: direct, release: async () => {} };
  await requireSpoolSpace(deps, source);
  const copy = await deps.restoreSpool.copy(direct, signal);
  return { source: { ...direct, ...copy.source }, release: copy.release };
}
