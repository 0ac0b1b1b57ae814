import type { ScheduleDeps } from './ports.js';
import { scheduleRepository } from './schedule-repository.js';
import { type ScheduleView, scheduleView } from './schedule-view.js';
import { type RunOutcome, scheduleRunRepository } from './schedule-run-repository.js';

/** Every schedule with its next slots, by target name. */
export async function listSchedules(
  deps: Pick<ScheduleDeps, 'db' | 'clock'>,
  nextCount?: number,
): Promise<ScheduleView[]> {
  const now = new Date(deps.clock.now());
  const rows = await scheduleRepository.list(deps.db);
  return rows.map(({ targetName, targetEnabled: _enabled, ...schedule }) =>
    scheduleView(schedule, targetName, now, nextCount),
  );
}

export interface ScheduleRunView {
  id: string;
  targetId: string;
  slotAt: Date;
  outcome: RunOutcome;
  /** The current attempt's job. */
  jobId: string | null;
  /** The backup job's state (null: no job, or it is gone). */
  jobState: string | null;
  /** The slot's current attempt (1: no retry yet). */
  attempt: number;
  /** When its next attempt is due (the last one failed); null: none. */
  retryAt: Date | null;
}

/** A schedule's newest slot records (a server target's: each database's), newest first. */
export async function recentRuns(
  deps: Pick<ScheduleDeps, 'db'>,
  targetId: string,
  limit: number,
): Promise<ScheduleRunView[]> {
  const rows = await scheduleRunRepository.recent(deps.db, targetId, limit);
  return rows.map(({ run, jobState }) => ({
    id: run.id,
    targetId: run.targetId,
    slotAt: run.slotAt,
    outcome: run.outcome as RunOutcome,
    jobId: run.jobId,
    jobState,
    attempt: run.attempt,
    retryAt: run.retryAt,
  }));
}
