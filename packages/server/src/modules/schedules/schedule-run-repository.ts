import { and, desc, eq, inArray, lt, or } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { type ScheduleRunRow, jobs, scheduleRuns } from '../../db/schema.js';

/**
 * ran | skipped-overlap | missed | failed (could not be queued); `pending` only between the claim and the enqueue (seconds), or
 * after an instance died there, until the next tick settles it.
 */
export type RunOutcome = 'pending' | 'ran' | 'skipped-overlap' | 'missed' | 'failed';

/** Inserts per statement: PostgreSQL takes at most 65535 parameters. */
const CHUNK = 1000;

export const scheduleRunRepository = {
  /** Claims slots: only the rows this call inserted come back (another instance's claim wins). */
  async claim(db: Pick<MetadataDb, 'insert'>, rows: (typeof scheduleRuns.$inferInsert)[]): Promise<ScheduleRunRow[]> {
    const claimed: ScheduleRunRow[] = [];
    for (let i = 0; i < rows.length; i += CHUNK) {
      claimed.push(
        ...(await db
          .insert(scheduleRuns)
          .values(rows.slice(i, i + CHUNK))
          .onConflictDoNothing({ target: [scheduleRuns.targetId, scheduleRuns.slotAt] })
          .returning()),
      );
    }
    return claimed;
  },

  async settle(db: MetadataDb, id: string, outcome: Exclude<RunOutcome, 'pending'>, jobId: string | null) {
    await db.update(scheduleRuns).set({ outcome, jobId }).where(eq(scheduleRuns.id, id));
  },

  async stalePending(db: MetadataDb, claimedBefore: Date): Promise<ScheduleRunRow[]> {
    return db
      .select()
      .from(scheduleRuns)
      .where(and(eq(scheduleRuns.outcome, 'pending'), lt(scheduleRuns.recordedAt, claimedBefore)));
  },

  /** The newest records of a schedule (a server target's: of all its children), with their job's state. */
  async recent(db: MetadataDb, targetId: string, limit: number) {
    return db
      .select({ run: scheduleRuns, jobState: jobs.state })
      .from(scheduleRuns)
      .leftJoin(jobs, eq(jobs.id, scheduleRuns.jobId))
      .where(or(eq(scheduleRuns.scheduleTargetId, targetId), eq(scheduleRuns.targetId, targetId)))
      .orderBy(desc(scheduleRuns.slotAt), scheduleRuns.targetId)
      .limit(limit);
  },

  /** The last `count` slots of a target that ran, newest first, with their job's state. */
  async lastRan(db: MetadataDb, targetId: string, count: number) {
    return db
      .select({ slotAt: scheduleRuns.slotAt, jobId: scheduleRuns.jobId, jobState: jobs.state })
      .from(scheduleRuns)
      .leftJoin(jobs, eq(jobs.id, scheduleRuns.jobId))
      .where(and(eq(scheduleRuns.targetId, targetId), inArray(scheduleRuns.outcome, ['ran', 'failed'])))
      .orderBy(desc(scheduleRuns.slotAt))
      .limit(count);
  },
};
