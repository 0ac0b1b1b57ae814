import { and, desc, eq, inArray, isNotNull, lt, lte, or, sql } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { type ScheduleRunRow, jobs, scheduleRuns, schedules } from '../../db/schema.js';

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

  /**
   * After a failed attempt: the slot's next one is due at `at` if its schedule (not paused) allows
   * another. Only for the slot's current attempt, so a late end of an older one plans nothing.
   */
  async planRetry(db: Pick<MetadataDb, 'update'>, id: string, attempt: number, at: Date): Promise<boolean> {
    const planned = await db
      .update(scheduleRuns)
      .set({ retryAt: at })
      .from(schedules)
      .where(
        and(
          eq(scheduleRuns.id, id),
          eq(scheduleRuns.attempt, attempt),
          eq(schedules.targetId, scheduleRuns.scheduleTargetId),
          eq(schedules.paused, false),
          sql`${attempt} <= ${schedules.retryLimit}`,
        ),
      )
      .returning({ id: scheduleRuns.id });
    return planned.length > 0;
  },

  /**
   * Claims the retries due by `now`: each comes back once, whatever the instances ticking, as a
   * pending claim of its next attempt (a claim whose instance dies is settled like a slot's).
   */
  async claimDueRetries(db: MetadataDb, now: Date): Promise<ScheduleRunRow[]> {
    const due = db
      .select({ id: scheduleRuns.id })
      .from(scheduleRuns)
      .innerJoin(schedules, eq(schedules.targetId, scheduleRuns.scheduleTargetId))
      .where(and(lte(scheduleRuns.retryAt, now), eq(schedules.paused, false)))
      .for('update', { of: scheduleRuns, skipLocked: true });
    return db
      .update(scheduleRuns)
      .set({ retryAt: null, attempt: sql`${scheduleRuns.attempt} + 1`, outcome: 'pending', recordedAt: now })
      .where(and(inArray(scheduleRuns.id, due), lte(scheduleRuns.retryAt, now)))
      .returning();
  },

  /** Pausing a schedule drops its pending retries: nothing of it runs until the resume. */
  async dropRetries(db: MetadataDb, scheduleTargetId: string): Promise<void> {
    await db
      .update(scheduleRuns)
      .set({ retryAt: null })
      .where(and(eq(scheduleRuns.scheduleTargetId, scheduleTargetId), isNotNull(scheduleRuns.retryAt)));
  },

  /** A slot's retry state, for its jobs' "attempt 2 of 3" and "next retry at". */
  async retryState(db: MetadataDb, id: string) {
    const [row] = await db
      .select({ attempt: scheduleRuns.attempt, retryAt: scheduleRuns.retryAt, retryLimit: schedules.retryLimit })
      .from(scheduleRuns)
      .leftJoin(schedules, eq(schedules.targetId, scheduleRuns.scheduleTargetId))
      .where(eq(scheduleRuns.id, id));
    return row ?? null;
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

  /** The last `count` slots of a target that ran, newest first, with their current attempt's job state. */
  async lastRan(db: MetadataDb, targetId: string, count: number) {
    return db
      .select({
        slotAt: scheduleRuns.slotAt,
        jobId: scheduleRuns.jobId,
        jobState: jobs.state,
        retryAt: scheduleRuns.retryAt,
      })
      .from(scheduleRuns)
      .leftJoin(jobs, eq(jobs.id, scheduleRuns.jobId))
      .where(and(eq(scheduleRuns.targetId, targetId), inArray(scheduleRuns.outcome, ['ran', 'failed'])))
      .orderBy(desc(scheduleRuns.slotAt))
      .limit(count);
  },
};
