import { and, eq } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { jobs } from '../../db/schema.js';
import type { BackupsModule } from '../backups/index.js';
import { ActiveJobExists } from '../jobs/enqueue-job.js';
import type { BackupQueue, EnqueueBackup } from './ports.js';

/**
 * The schedules' view of the queue: a backup job of the target for the slot (any instance runs
 * it), and a read of the jobs table.
 */
export function queueBackups(db: MetadataDb, backups: Pick<BackupsModule, 'createBackup'>): BackupQueue {
  const enqueueBackup = async (request: EnqueueBackup) => {
    const started = await backups.createBackup(
      {
        targetId: request.targetId,
        scheduleRunId: request.scheduleRunId,
        attempt: request.attempt,
        origin: request.origin,
      },
      { name: request.requestedBy },
    );
    return started.job.id;
  };
  return {
    ...scheduleJobReads(db),
    enqueueBackup,
    // A slot's backup is queued unless one of the target is active (createBackup, enqueueJob's unlessActive).
    enqueueSlotBackup: (request) =>
      enqueueBackup(request).catch((error: unknown) => {
        if (error instanceof ActiveJobExists) return null;
        throw error;
      }),
  };
}

/** What the tick reads of the jobs table. */
export function scheduleJobReads(db: MetadataDb): Pick<BackupQueue, 'jobOfScheduleRun'> {
  return {
    async jobOfScheduleRun(scheduleRunId, attempt) {
      const [row] = await db
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.scheduleRunId, scheduleRunId), eq(jobs.attempt, attempt)));
      return row?.id ?? null;
    },
  };
}
