import type { BackupsDeps } from './backups-deps.js';
import type { BackupCopyRow } from './copies-repository.js';

/** A copy as the API and the CLI show it: with its destination's name and kind. */
export interface BackupCopyView extends BackupCopyRow {
  destination: { id: string; name: string; kind: string };
}

export async function copiesWithDestinations(
  deps: Pick<BackupsDeps, 'copies'>,
  backupId: string,
): Promise<BackupCopyView[]> {
  const copies = await deps.copies.ofBackup(backupId);
  const named = new Map(
    (await deps.copies.destinationsById(copies.map((copy) => copy.destinationId))).map((d) => [d.id, d]),
  );
  // A destination removed since keeps its copies' rows: shown by id.
  return copies.map((copy) => ({
    ...copy,
    destination: named.get(copy.destinationId) ?? { id: copy.destinationId, name: copy.destinationId, kind: 'removed' },
  }));
}
