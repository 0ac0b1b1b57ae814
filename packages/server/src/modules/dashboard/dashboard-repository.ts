import { and, asc, desc, eq, gt, inArray, isNull } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { type ScheduleRow, backups, jobs, schedules, targets } from '../../db/schema.js';

/** Backups read from the target itself: uploads and safety snapshots say nothing about its schedule. */
const DUMPS = ['manual', 'scheduled'];

export interface DashboardTargetRow {
  id: string;
  name: string;
  kind: string;
  parentId: string | null;
  enabled: boolean;
  managedBy: string | null;
}

export interface SuccessRow {
  createdAt: Date;
  sizeBytes: number;
}

export interface FailureRow {
  at: Date;
  errorCode: string | null;
}

/** Read-only queries over targets, backups, jobs and schedules for the dashboard. */
export const dashboardRepository = {
  /** Live targets, by name. */
  async targets(db: MetadataDb): Promise<DashboardTargetRow[]> {
    return db
      .select({
        id: targets.id,
        name: targets.name,
        kind: targets.kind,
        parentId: targets.parentId,
        enabled: targets.enabled,
        managedBy: targets.managedBy,
      })
      .from(targets)
      .where(isNull(targets.deletedAt))
      .orderBy(asc(targets.name));
  },

  async schedules(db: MetadataDb): Promise<ScheduleRow[]> {
    return db.select().from(schedules);
  },

  /** The target's newest successful dumps, newest first. */
  async recentSuccesses(db: MetadataDb, targetId: string, limit: number): Promise<SuccessRow[]> {
    return db
      .select({ createdAt: backups.createdAt, sizeBytes: backups.sizeBytes })
      .from(backups)
      .where(and(eq(backups.targetId, targetId), inArray(backups.origin, DUMPS)))
      .orderBy(desc(backups.createdAt))
      .limit(limit);
  },

  /** Failed backup jobs of the target after `since` (all of them without one), newest first. */
  async failuresSince(db: MetadataDb, targetId: string, since: Date | null): Promise<FailureRow[]> {
    return db
      .select({ at: jobs.createdAt, errorCode: jobs.errorCode })
      .from(jobs)
      .where(
        and(
          eq(jobs.targetId, targetId),
          eq(jobs.kind, 'backup'),
          eq(jobs.state, 'failed'),
          since ? gt(jobs.createdAt, since) : undefined,
        ),
      )
      .orderBy(desc(jobs.createdAt));
  },
};
