import type { BackupRow } from '../../db/schema.js';
import type { HandlerRegistry } from '../../jobs/handler-registry.js';
import type { BackupsDeps } from './backups-deps.js';
import { backupHandler, createBackup } from './create-backup.js';
import { copyHandler } from './copy-backup.js';
import { deleteBackup, deleteCopy } from './delete-backup.js';
import { copiesWithDestinations } from './copy-view.js';
import { leasedStoredCopy } from './copy-reader.js';
import { pinBackup } from './pin-backup.js';
import { importUpload } from './import-upload.js';
import { backupContents, connectionRole, restoreCheck, toolVersions } from './inspect-target.js';
import { rescanBackups } from './rescan-backups.js';
import { restoreBackup, restoreHandler, restoreUpload } from './restore-backup.js';
import { verifyBackup, verifyHandler } from './verify-backup.js';
import { reencryptBackup, reencryptHandler } from './reencrypt-backup.js';
import { jobTarget, restoreTarget } from './job-target.js';

export type * from './backup-types.js';

/** The backup job kinds, in the registry. */
export function registerBackupHandlers(registry: HandlerRegistry, deps: BackupsDeps): void {
  registry
    .register('backup', backupHandler(deps))
    .register('restore', restoreHandler(deps))
    .register('verify', verifyHandler(deps))
    .register('copy', copyHandler(deps))
    .register('reencrypt', reencryptHandler(deps));
}

type Tail<F> = F extends (deps: BackupsDeps, ...args: infer A) => infer R ? (...args: A) => R : never;
const bind = <F extends (deps: BackupsDeps, ...args: never[]) => unknown>(deps: BackupsDeps, operation: F): Tail<F> =>
  ((...args: never[]) => operation(deps, ...args)) as Tail<F>;

/** The backup operations with their dependencies, for resolvers, routes and CLI commands. */
export function backupsModule(deps: BackupsDeps) {
  return {
    list: deps.backups.list,
    count: deps.backups.count,
    get: deps.backups.get,
    madeBy: (backup: BackupRow) => deps.jobs.madeBy(backup),
    /** A backup's copies in its target's destination order (with their destinations' names). */
    copies: (backup: Pick<BackupRow, 'id'>) => copiesWithDestinations(deps, backup.id),
    /** "2 of 3": complete and all copies by backup id (none listed: a backup from before destinations). */
    copyCounts: async (backupIds: readonly string[]) => {
      const counts = new Map<string, { complete: number; total: number }>();
      for (const [id, copies] of await deps.copies.ofBackups(backupIds)) {
        counts.set(id, { complete: copies.filter((copy) => copy.state === 'complete').length, total: copies.length });
      }
      return counts;
    },
    /**
     * Where a download reads: the first copy whose destination answers and holds the file, leased
     * until the caller releases it, with the backup's row as leased (the names to read).
     */
    leasedCopy: (backupId: string, purpose: string) => leasedStoredCopy(deps, backupId, purpose),
    createBackup: bind(deps, createBackup),
    restore: bind(deps, restoreBackup),
    restoreUpload: bind(deps, restoreUpload),
    importUpload: bind(deps, importUpload),
    verify: bind(deps, verifyBackup),
    reencrypt: bind(deps, reencryptBackup),
    delete: bind(deps, deleteBackup),
    deleteCopy: bind(deps, deleteCopy),
    pin: bind(deps, pinBackup),
    rescan: bind(deps, rescanBackups),
    contents: bind(deps, backupContents),
    versions: bind(deps, toolVersions),
    connectionRole: bind(deps, connectionRole),
    restoreCheck: bind(deps, restoreCheck),
    /** Where a restore would go (the target whose database name confirms it). */
    restoreTarget: async (source: { backupId: string } | { filePath: string }, targetId?: string | null) =>
      (await restoreTarget(deps, source, targetId)).target,
    /** What a backup or restore of the target holds while it runs (the default target when none). */
    lockKey: async (targetId?: string | null) => (await jobTarget(deps, targetId)).lockKey,
  };
}

export type BackupsModule = ReturnType<typeof backupsModule>;
