import type { BackupFormat } from '@pgbs/engine';
import type { JobHandler } from '../../jobs/job-types.js';
import type { StartedJob } from '../jobs/enqueue-job.js';
import type { Actor } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { validDescription } from './backup-files.js';
import { dumpToStorage } from './dump-to-storage.js';
import { jobTarget } from './job-target.js';

/** Queues a backup of a target (the default one when none is named). */
export async function createBackup(
  deps: BackupsDeps,
  input: { description?: string; format?: BackupFormat; targetId?: string | null },
  actor: Actor,
): Promise<StartedJob> {
  const description = validDescription(input.description);
  const format = input.format ?? 'custom';
  const { target, lockKey } = await jobTarget(deps, input.targetId);
  return deps.startJob({
    kind: 'backup',
    params: { format, description, target: target.connection.display },
    actor,
    targetId: target.id,
    lockKey,
    targetDisplay: target.connection.display,
  });
}

/** Runs a queued backup: a shared hold on its database (restores wait), pg_dump into storage. */
export function backupHandler(deps: BackupsDeps): JobHandler<'backup', void> {
  return {
    lock: 'shared',
    async run(context) {
      const target = context.target!;
      const prepared = await deps.tools.prepare(target.connection);
      const { format, description, actor } = context.params;
      await dumpToStorage(deps, context, target, prepared, { format, description, origin: 'manual' }, actor, (s) =>
        context.progress({ ...s }),
      );
    },
    audit: (job) => ({
      action: 'backup.create',
      subjectId: job.backupId,
      details: { format: (job.params as { format?: string }).format },
    }),
  };
}
