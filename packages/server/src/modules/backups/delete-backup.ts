import { ServiceError, isCodedError } from '../../errors/service-error.js';
import { globalsFileOf, removeWithManifest } from '../../storage/manifest.js';
import type { BackupRow } from '../../db/schema.js';
import type { Actor } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';

/**
 * Deletes every copy (file, roles' file, manifest) and then the catalog row, unless an active job
 * (a restore, a copy) uses the backup. A copy whose destination does not answer stays, as a failed
 * copy of a backup still listed: the delete fails with backup/delete-incomplete and can be repeated,
 * and no object is left that the catalog forgets.
 */
export async function deleteBackup(deps: BackupsDeps, id: string, actor: Actor): Promise<BackupRow> {
  const backup = await deps.backups.get(id);
  const active = await deps.jobs.activeUsingBackup(id);
  if (active) {
    throw new ServiceError('backup/in-use', `The backup is in use by a running ${active.kind} job (${active.id}).`);
  }
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

async function removeCopies(deps: BackupsDeps, backup: BackupRow): Promise<void> {
  const copies = await deps.copies.ofBackup(backup.id);
  // A backup from before copies is on the local destination only.
  const destinationIds = copies.length > 0 ? copies.map((copy) => copy.destinationId) : [deps.placement.localId];
  const failures: string[] = [];
  for (const destinationId of destinationIds) {
    try {
      // A destination removed since (destination remove --force) can no longer be reached: its copy is only forgotten.
      const storage = await deps.placement.storage(destinationId).catch((error: unknown) => {
        if (isCodedError(error, 'destination/not-found')) return null;
        throw error;
      });
      if (!storage) {
        await deps.copies.remove(backup.id, destinationId);
        continue;
      }
      await removeWithManifest(storage, backup.fileName);
      // Only a name the backup's own allows (a rescanned manifest may have named another file).
      const globals = globalsFileOf(backup);
      if (globals) await storage.remove(globals);
      if (copies.length > 0) await deps.copies.remove(backup.id, destinationId);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push(message);
      if (copies.length > 0) {
        await deps.copies.fail(backup.id, destinationId, { code: 'backup/delete-failed', message });
      }
    }
  }
  if (failures.length > 0) {
    throw new ServiceError(
      'backup/delete-incomplete',
      `Backup ${backup.id} was not deleted from every destination (${failures.join('; ')}); delete it again once they answer.`,
    );
  }
}
