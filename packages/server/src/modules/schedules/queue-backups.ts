import { and, eq, inArray } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { jobs } from '../../db/schema.js';
import { ACTIVE_STATES } from '../../jobs/job-types.js';
import type { BackupsModule } from '../backups/index.js';
import type { BackupQueue } from './ports.js';

/**
 * The schedules' view of the queue: a backup job of the target for the slot (any instance runs
 * it), and two reads of the jobs table.
 */
export function queueBackups(db: MetadataDb, backups: Pick<BackupsModule, 'createBackup'>): BackupQueue {
  return {
    ...scheduleJobReads(db),
    async enqueueBackup(request) {
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
    },
  };
}

/** What the tick reads of the jobs table. */
export function scheduleJobReads(db: MetadataDb): Omit<BackupQueue, 'enqueueBackup'> {
  return {
    async hasActiveBackup(targetId) {
      const [row] = await db
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.targetId, targetId), eq(jobs.kind, 'backup'), inArray(jobs.state, ACTIVE_STATES)))
        .limit(1);
      return row !== undefined;
    },
    async jobOfScheduleRun(scheduleRunId, attempt) {
      const [row] = await db
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.scheduleRunId, scheduleRunId), eq(jobs.attempt, attempt)));
      return row?.id ?? null;
    },
  };
}
