import { ServiceError, isCodedError } from '../../errors/service-error.js';
import { globalsFileOf, removeWithManifest } from '../../storage/manifest.js';
import type { BackupRow } from '../../db/schema.js';
import type { Actor } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';

/**
 * Deletes every copy (file, roles' file, manifest) and then the catalog row, unless an active job
 * (a restore, a copy) uses the backup or a copy is being read (a download's lease, on any
 * instance). A copy whose destination does not answer stays, as a failed copy of a backup still
 * listed: the delete fails with backup/delete-incomplete and can be repeated, and no object is
 * left that the catalog forgets.
 */
export async function deleteBackup(deps: BackupsDeps, id: string, actor: Actor): Promise<BackupRow> {
  const backup = await deps.backups.get(id);
  await claimForDelete(deps, backup, null);
  await removeCopies(deps, backup);
  await deps.backups.delete(id);
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action: 'backup.delete',
    outcome: 'succeeded',
    subjectId: id,
    targetId: backup.targetId,
    details: { fileName: backup.fileName, globalsFileName: backup.globalsFileName },
  });
  return backup;
}

/**
 * Deletes one copy of a backup (its objects on that destination) and keeps the backup, which
 * lives on in its other complete copies. A backup's last complete copy is not deleted alone: the
 * whole backup goes, as with deleteBackup ('backup'), so no catalog entry outlives its files; or,
 * with `lastCopy: 'keep'`, nothing is deleted ('kept').
 */
export async function deleteCopy(
  deps: BackupsDeps,
  id: string,
  destinationId: string,
  actor: Actor,
  { lastCopy }: { lastCopy: 'delete-backup' | 'keep' } = { lastCopy: 'delete-backup' },
): Promise<'copy' | 'backup' | 'kept'> {
  const backup = await deps.backups.get(id);
  const copies = await deps.copies.ofBackup(id);
  // A backup from before copies is on the local destination only: that copy is its last.
  const onlyLocal = copies.length === 0 && destinationId === deps.placement.localId;
  if (!onlyLocal && !copies.some((copy) => copy.destinationId === destinationId)) {
    throw new ServiceError('backup/copy-not-found', `Backup ${id} has no copy on destination ${destinationId}.`, {
      destinationId,
    });
  }
  if (onlyLocal || (await claimForDelete(deps, backup, [destinationId])) === 'last-copy') {
    if (lastCopy === 'keep') return 'kept';
    await deleteBackup(deps, id, actor);
    return 'backup';
  }
  const failure = await removeCopy(deps, backup, destinationId, true);
  if (failure) {
    throw new ServiceError(
      'backup/delete-incomplete',
      `The copy of backup ${id} was not deleted (${failure}); it is marked failed, delete it again once its destination answers.`,
    );
  }
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action: 'backup.copy-delete',
    outcome: 'succeeded',
    subjectId: id,
    targetId: backup.targetId,
    details: { fileName: backup.fileName, destinationId },
  });
  return 'copy';
}

/** Refuses (backup/in-use) while a job uses the backup or a reader leases a copy to be deleted. */
async function claimForDelete(
  deps: BackupsDeps,
  backup: BackupRow,
  destinationIds: readonly string[] | null,
): Promise<'claimed' | 'last-copy'> {
  const active = await deps.jobs.activeUsingBackup(backup.id);
  if (active) {
    throw new ServiceError('backup/in-use', `The backup is in use by a running ${active.kind} job (${active.id}).`);
  }
  const claim = await deps.leases.claimForDelete(backup.id, destinationIds);
  if (claim.kind === 'leased') {
    const { lease } = claim;
    throw new ServiceError(
      'backup/in-use',
      `A copy of the backup is being read (${lease.purpose} on instance ${lease.instanceId}, leased until ${lease.expiresAt.toISOString()}).`,
      { destinationId: lease.destinationId, instanceId: lease.instanceId },
    );
  }
  return claim.kind;
}

async function removeCopies(deps: BackupsDeps, backup: BackupRow): Promise<void> {
  const copies = await deps.copies.ofBackup(backup.id);
  // A backup from before copies is on the local destination only.
  const destinationIds = copies.length > 0 ? copies.map((copy) => copy.destinationId) : [deps.placement.localId];
  const failures: string[] = [];
  for (const destinationId of destinationIds) {
    const failure = await removeCopy(deps, backup, destinationId, copies.length > 0);
    if (failure) failures.push(failure);
  }
  if (failures.length > 0) {
    throw new ServiceError(
      'backup/delete-incomplete',
      `Backup ${backup.id} was not deleted from every destination (${failures.join('; ')}); delete it again once they answer.`,
    );
  }
}

/** Removes one copy's objects, then its row; what went wrong (the copy is then failed), or null. */
async function removeCopy(
  deps: BackupsDeps,
  backup: BackupRow,
  destinationId: string,
  hasRow: boolean,
): Promise<string | null> {
  try {
    // A destination removed since (destination remove --force) can no longer be reached: its copy is only forgotten.
    const storage = await deps.placement.storage(destinationId).catch((error: unknown) => {
      if (isCodedError(error, 'destination/not-found')) return null;
      throw error;
    });
    if (storage) {
      await removeWithManifest(storage, backup.fileName);
      // Only a name the backup's own allows (a rescanned manifest may have named another file).
      const globals = globalsFileOf(backup);
      if (globals) await storage.remove(globals);
    }
    if (hasRow) await deps.copies.remove(backup.id, destinationId);
    return null;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (hasRow) await deps.copies.fail(backup.id, destinationId, { code: 'backup/delete-failed', message });
    return message;
  }
}
