import { asc, eq } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { type ScheduleRow, schedules, targets } from '../../db/schema.js';

export type NewSchedule = Pick<ScheduleRow, 'targetId' | 'cron' | 'timeZone' | 'missedPolicy' | 'lastSlotAt'> &
  Partial<Pick<ScheduleRow, 'retryLimit'>>;

export const scheduleRepository = {
  async get(db: MetadataDb, targetId: string): Promise<ScheduleRow | null> {
    const [row] = await db.select().from(schedules).where(eq(schedules.targetId, targetId));
    return row ?? null;
  },

  /** Every schedule with its target's name, by name. */
  async list(db: MetadataDb): Promise<(ScheduleRow & { targetName: string; targetEnabled: boolean })[]> {
    const rows = await db
      .select({ schedule: schedules, targetName: targets.name, targetEnabled: targets.enabled })
      .from(schedules)
      .innerJoin(targets, eq(targets.id, schedules.targetId))
      .orderBy(asc(targets.name));
    return rows.map((row) => ({ ...row.schedule, targetName: row.targetName, targetEnabled: row.targetEnabled }));
  },

  /** Creates or replaces a target's schedule; `paused` is kept on a replace, and so is retryLimit when not given. */
  async upsert(db: MetadataDb, schedule: NewSchedule, now: Date): Promise<ScheduleRow> {
    const [row] = await db
      .insert(schedules)
      .values({ ...schedule, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({
        target: schedules.targetId,
        set: {
          cron: schedule.cron,
          timeZone: schedule.timeZone,
          missedPolicy: schedule.missedPolicy,
          lastSlotAt: schedule.lastSlotAt,
          ...(schedule.retryLimit === undefined ? {} : { retryLimit: schedule.retryLimit }),
          updatedAt: now,
        },
      })
      .returning();
    return row!;
  },

  async update(
    db: MetadataDb,
    targetId: string,
    changes: Partial<Pick<ScheduleRow, 'paused' | 'lastSlotAt'>>,
    now: Date,
  ): Promise<ScheduleRow | null> {
    const [row] = await db
      .update(schedules)
      .set({ ...changes, updatedAt: now })
      .where(eq(schedules.targetId, targetId))
      .returning();
    return row ?? null;
  },

  async remove(db: MetadataDb, targetId: string): Promise<ScheduleRow | null> {
    const [row] = await db.delete(schedules).where(eq(schedules.targetId, targetId)).returning();
    return row ?? null;
  },
};
