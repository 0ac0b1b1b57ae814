import type { BackupRow } from '../../db/schema.js';
import type { Actor } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';

/** A pinned backup is kept by retention forever (until unpinned); deleting it by hand still works. */
export async function pinBackup(deps: BackupsDeps, id: string, pinned: boolean, actor: Actor): Promise<BackupRow> {
  const backup = await deps.backups.get(id);
  const row = await deps.backups.setPinned(backup.id, pinned);
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action: pinned ? 'backup.pin' : 'backup.unpin',
    outcome: 'succeeded',
    subjectId: backup.id,
    targetId: backup.targetId,
    details: { fileName: backup.fileName },
  });
  return row;
}
