import { randomUUID } from 'node:crypto';
import { and, eq, inArray } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { jobs } from '../../db/schema.js';
import type { BackupQueue } from './ports.js';

const ACTIVE = ['queued', 'running'];

/**
 * The schedules' view of the queue through the jobs table: a backup is a `{kind, params}` row
 * with its target and slot. Until the pg-boss queue is wired in, enqueueBackup only writes the
 * queued row (nothing in this branch runs it); the integrator replaces enqueueBackup with the
 * queue's, and keeps the two reads if the queue keeps the jobs table.
 */
export function jobsTableQueue(db: MetadataDb): BackupQueue {
  return {
    async enqueueBackup(request) {
      const id = randomUUID();
      await db.insert(jobs).values({
        id,
        kind: 'backup',
        state: 'queued',
        targetId: request.targetId,
        scheduleRunId: request.scheduleRunId,
        params: { origin: request.origin },
        requestedBy: request.requestedBy,
      });
      return id;
    },
    async hasActiveBackup(targetId) {
      const [row] = await db
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.targetId, targetId), eq(jobs.kind, 'backup'), inArray(jobs.state, ACTIVE)))
        .limit(1);
      return row !== undefined;
    },
    async jobOfScheduleRun(scheduleRunId) {
      const [row] = await db.select({ id: jobs.id }).from(jobs).where(eq(jobs.scheduleRunId, scheduleRunId)).limit(1);
      return row?.id ?? null;
    },
  };
}
