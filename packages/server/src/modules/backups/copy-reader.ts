import type { Readable } from 'node:stream';
import type { BackupRow } from '../../db/schema.js';
import { ServiceError } from '../../errors/service-error.js';
import type { PlacedStorage } from './backup-placement.js';
import type { BackupsDeps } from './backups-deps.js';
import type { ReadLease } from './copy-leases.js';

type ReaderDeps = Pick<BackupsDeps, 'placement' | 'copies'>;

/**
 * Where a backup can be read: its complete copies in its target's destination order. A backup
 * recorded before copies existed has none: it is on the local destination.
 */
export async function readableCopies(
  deps: ReaderDeps,
  backup: Pick<BackupRow, 'id'>,
  options: { except?: string } = {},
): Promise<PlacedStorage[]> {
  const copies = await deps.copies.ofBackup(backup.id);
  const ids =
    copies.length === 0
      ? [deps.placement.localId]
      : copies.filter((copy) => copy.state === 'complete').map((copy) => copy.destinationId);
  const placed: PlacedStorage[] = [];
  for (const destinationId of ids) {
    if (destinationId === options.except) continue;
    // A destination removed since, or whose credentials no longer open, is one copy less.
    const storage = await deps.placement.storage(destinationId).catch(() => null);
    if (storage) placed.push({ destinationId, storage });
  }
  return placed;
}

/**
 * Opens an object of a backup from the first copy whose storage answers: an open that fails (a
 * destination down, an object gone) tries the next copy, before any byte is used.
 */
export async function openFromCopies(
  deps: ReaderDeps,
  backup: Pick<BackupRow, 'id' | 'fileName'>,
  name: string,
  options: { except?: string; range?: { start: number; end: number } } = {},
): Promise<{ stream: Readable } & PlacedStorage> {
  const failures: string[] = [];
  for (const placed of await readableCopies(deps, backup, options)) {
    try {
      return { ...placed, stream: await placed.storage.openRead(name, options.range) };
    } catch (error) {
      failures.push(`${placed.storage.location}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new ServiceError(
    'backup/file-missing',
    failures.length === 0
      ? `Backup ${backup.id} (${backup.fileName}) has no complete copy to read.`
      : `No copy of backup ${backup.id} (${backup.fileName}) could be read: ${failures.join('; ')}`,
  );
}

/** The first copy whose destination answers and holds the file, with its size there; null: none does. */
export async function firstStoredCopy(
  deps: ReaderDeps,
  backup: Pick<BackupRow, 'id' | 'fileName'>,
): Promise<(PlacedStorage & { sizeBytes: number }) | null> {
  for (const copy of await readableCopies(deps, backup)) {
    const stat = await copy.storage.stat(backup.fileName).catch(() => null);
    if (stat) return { ...copy, sizeBytes: stat.sizeBytes };
  }
  return null;
}

/**
 * As firstStoredCopy, for a read outside a job (a download): the copy is leased until the caller
 * releases it, so no prune, delete or re-encryption on any instance changes it meanwhile. What is
 * read is named by the row the lease was taken with (`backup`), not by one read before it: a
 * re-encryption may have switched the names in between. A copy claimed by a delete since it was
 * listed is skipped.
 */
export async function leasedStoredCopy(
  deps: ReaderDeps & Pick<BackupsDeps, 'leases'>,
  backupId: string,
  purpose: string,
): Promise<(PlacedStorage & { sizeBytes: number; lease: ReadLease; backup: BackupRow }) | null> {
  for (const copy of await readableCopies(deps, { id: backupId })) {
    const lease = await deps.leases.acquire(backupId, copy.destinationId, purpose);
    if (!lease) continue;
    const stat = await copy.storage.stat(lease.backup.fileName).catch(() => null);
    if (stat) return { ...copy, sizeBytes: stat.sizeBytes, lease, backup: lease.backup };
    await lease.release();
  }
  return null;
}
