import type { Clock } from '@pgbs/engine';
import type { MetadataDb } from '../../db/client.js';
import type { ScheduleRow } from '../../db/schema.js';
import { type RetentionGuard, retentionGuard } from '../retention/retention-guard.js';
import { nextRuns } from '../schedules/cron.js';
import { type DashboardTargetRow, dashboardRepository } from './dashboard-repository.js';

/** How many successful backups the size trend shows. */
export const TREND_LENGTH = 20;

export interface DashboardEntry {
  target: DashboardTargetRow;
  lastSuccess: { at: Date; sizeBytes: number } | null;
  /** The next slot of the schedule that backs the target up (its own, else its server's); null: none or paused. */
  nextRunAt: Date | null;
  /** The schedule is paused. */
  schedulePaused: boolean;
  /** Failed backup jobs since the last success. */
  failures: { count: number; lastAt: Date | null; lastCode: string | null };
  guard: RetentionGuard;
  /** Sizes of the newest successful backups, oldest first. */
  sizeTrend: number[];
}

export interface DashboardDeps {
  db: MetadataDb;
  clock: Clock;
}

function scheduleOf(target: DashboardTargetRow, byTarget: Map<string, ScheduleRow>): ScheduleRow | null {
  return byTarget.get(target.id) ?? (target.parentId ? byTarget.get(target.parentId) : undefined) ?? null;
}

/** Per live target: last success, next run, failures, the retention guard and the size trend. */
export async function dashboard(deps: DashboardDeps): Promise<DashboardEntry[]> {
  const now = new Date(deps.clock.now());
  const [targets, schedules] = await Promise.all([
    dashboardRepository.targets(deps.db),
    dashboardRepository.schedules(deps.db),
  ]);
  const byTarget = new Map(schedules.map((schedule) => [schedule.targetId, schedule]));
  return Promise.all(
    targets.map(async (target): Promise<DashboardEntry> => {
      const [successes, guard] = await Promise.all([
        dashboardRepository.recentSuccesses(deps.db, target.id, TREND_LENGTH),
        retentionGuard(deps.db, target),
      ]);
      const last = successes[0] ?? null;
      const failures = await dashboardRepository.failuresSince(deps.db, target.id, last?.createdAt ?? null);
      const schedule = scheduleOf(target, byTarget);
      const active = schedule && !schedule.paused && target.enabled;
      return {
        target,
        lastSuccess: last && { at: last.createdAt, sizeBytes: last.sizeBytes },
        nextRunAt: active ? (nextRuns(schedule.cron, schedule.timeZone, now, 1)[0] ?? null) : null,
        schedulePaused: schedule?.paused ?? false,
        failures: { count: failures.length, lastAt: failures[0]?.at ?? null, lastCode: failures[0]?.errorCode ?? null },
        guard,
        sizeTrend: successes.map((success) => success.sizeBytes).reverse(),
      };
    }),
  );
}
