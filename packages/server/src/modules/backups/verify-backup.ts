import { inspectArchive } from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';
import type { JobHandler } from '../../jobs/job-types.js';
import type { StartedJob } from '../jobs/enqueue-job.js';
import type { Actor } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { inspectRequest, requireFile, storedSource } from './backup-files.js';

/** Queues a re-read of the whole file: checksum and size against the catalog, and every archive block. */
export async function verifyBackup(deps: BackupsDeps, id: string, actor: Actor): Promise<StartedJob> {
  const backup = await deps.backups.get(id);
  const target = backup.targetId
    ? await deps.targets.resolve(backup.targetId, { allowDisabled: true })
    : await deps.targets.defaultTarget();
  // Refuses now, not in the job, when no client tools fit.
  await deps.tools.prepare(target.connection);
  return deps.startJob({
    kind: 'verify',
    params: { target: target.connection.display },
    actor,
    targetId: target.id,
    lockKey: null,
    backupId: id,
  });
}

/** Reads the file only: it holds no database (its target gives the tools' version). */
export function verifyHandler(deps: BackupsDeps): JobHandler<'verify', void> {
  return {
    lock: null,
    async run(context) {
      const backup = await deps.backups.get(context.job.backupId!);
      const prepared = await deps.tools.prepare(context.target!.connection);
      let status: 'ok' | 'failed' = 'failed';
      try {
        await requireFile(deps, backup);
        const summary = await inspectArchive(
          inspectRequest(deps, storedSource(deps, backup), prepared.tools, context.signal),
        );
        const contentChanged = backup.contentSha256 !== null && summary.contentSha256 !== backup.contentSha256;
        if (summary.sha256 !== backup.sha256 || summary.sizeBytes !== backup.sizeBytes || contentChanged) {
          throw new ServiceError(
            'backup/checksum-mismatch',
            `The file no longer matches its checksum (expected ${backup.sha256.slice(0, 12)}…, found ${summary.sha256.slice(0, 12)}…): it was changed or damaged on disk.`,
          );
        }
        status = 'ok';
      } finally {
        if (!context.signal.aborted) await deps.backups.setVerified(backup.id, status, new Date(deps.clock.now()));
      }
    },
    audit: (job) => ({ action: 'backup.verify', subjectId: job.backupId, details: {} }),
  };
}
