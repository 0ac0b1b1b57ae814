import { setSchedulePaused } from './control-schedule.js';
import { deleteSchedule } from './delete-schedule.js';
import type { JobRow } from '../../db/schema.js';
import { jobAttempts } from './job-attempts.js';
import { listSchedules, recentRuns } from './list-schedules.js';
import type { Actor, ScheduleDeps } from './ports.js';
import { runScheduleNow } from './run-schedule-now.js';
import { type SetScheduleInput, setSchedule } from './set-schedule.js';
import { tickSchedules } from './tick-schedules.js';

/** The schedule operations with their dependencies bound: what the app, the API and the CLI call. */
export function createSchedules(deps: ScheduleDeps) {
  return {
    set: (input: SetScheduleInput, actor: Actor) => setSchedule(deps, input, actor),
    pause: (target: string, actor: Actor) => setSchedulePaused(deps, target, true, actor),
    resume: (target: string, actor: Actor) => setSchedulePaused(deps, target, false, actor),
    runNow: (target: string, actor: Actor) => runScheduleNow(deps, target, actor),
    remove: (target: string, actor: Actor) => deleteSchedule(deps, target, actor),
    list: (nextCount?: number) => listSchedules(deps, nextCount),
    recentRuns: (targetId: string, limit: number) => recentRuns(deps, targetId, limit),
    attemptsOf: (job: JobRow) => jobAttempts(deps.db, job),
    /** The `schedule-tick` job's handler. */
    tick: (options?: { graceMs?: number }) => tickSchedules(deps, options),
  };
}

export type Schedules = ReturnType<typeof createSchedules>;
