import { ServiceError } from '../../errors/service-error.js';
import { globalsFileNameOf, removeWithManifest } from '../../storage/manifest.js';
import type { BackupRow } from '../../db/schema.js';
import type { Actor } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';

/** Deletes the file and its catalog row, unless an active job uses the backup. */
export async function deleteBackup(deps: BackupsDeps, id: string, actor: Actor): Promise<BackupRow> {
  const backup = await deps.backups.get(id);
  const active = await deps.jobs.activeUsingBackup(id);
  if (active) {
    throw new ServiceError('backup/in-use', `The backup is in use by a running ${active.kind} job (${active.id}).`);
  }
  await deps.backups.delete(id);
  await removeWithManifest(deps.storage, backup.fileName);
  // By the backup's own name, never the row's (a rescanned manifest may have lied about it).
  if (backup.globalsFileName) await deps.storage.remove(globalsFileNameOf(backup.fileName));
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
