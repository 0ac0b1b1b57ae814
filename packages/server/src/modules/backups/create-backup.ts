import type { BackupFormat } from '@pgbs/engine';
import { traced } from '../../jobs/job-trace.js';
import type { JobHandler } from '../../jobs/job-types.js';
import type { StartedJob } from '../jobs/enqueue-job.js';
import type { Actor } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { validDescription } from './backup-files.js';
import { dumpToStorage } from './dump-to-storage.js';
import { jobLock, jobTarget } from './job-target.js';

/** Queues a backup of a target (the default one when none is named). */
export async function createBackup(
  deps: BackupsDeps,
  input: {
    description?: string;
    format?: BackupFormat;
    targetId?: string | null;
    /** A schedule's slot: the job runs on any instance, whoever asked. */
    scheduleRunId?: string | null;
    /** The slot's attempt: a retry of a failed scheduled backup is 2, 3, ... */
    attempt?: number;
    origin?: 'manual' | 'scheduled';
  },
  actor: Actor,
): Promise<StartedJob> {
  const description = validDescription(input.description);
  const format = input.format ?? 'custom';
  const origin = input.origin ?? 'manual';
  // A person's request checks the tools now, for a clear error; a schedule's leaves it to the job.
  const { target, lockKey } =
    origin === 'scheduled' ? await jobLock(deps, input.targetId) : await jobTarget(deps, input.targetId);
  return deps.startJob({
    kind: 'backup',
    params: { format, description, target: target.connection.display, origin },
    actor,
    targetId: target.id,
    lockKey,
    targetDisplay: target.connection.display,
    scheduleRunId: input.scheduleRunId ?? null,
    attempt: input.attempt ?? 1,
    // A slot's backup (or its retry) is skipped while another backup of the target is going.
    unlessActive: input.scheduleRunId != null,
    // Asked by a schedule (or its "run now"), not by this process: whoever is up runs it.
    ...(input.scheduleRunId !== undefined || origin === 'scheduled' ? { placement: 'any' as const } : {}),
  });
}

/** Runs a queued backup: a shared hold on its database (restores wait), pg_dump into storage. */
export function backupHandler(deps: BackupsDeps): JobHandler<'backup', void> {
  return {
    lock: 'shared',
    async run(context) {
      const target = context.target!;
      const prepared = await traced('tools.prepare', () => deps.tools.prepareBackup(target.connection));
      const { format, description, actor, origin = 'manual' } = context.params;
      await dumpToStorage(deps, context, target, prepared, { format, description, origin, globals: true }, actor, (s) =>
        context.progress({ ...s }),
      );
      // Each backup of a target with a policy may make an older one due: pruned as a job of its own.
      await traced('afterBackup', async () => deps.afterBackup?.(target.id));
    },
    audit: (job) => ({
      action: 'backup.create',
      subjectId: job.backupId,
      details: { format: (job.params as { format?: string }).format },
    }),
  };
}
