import type { ScheduleRow } from '../../db/schema.js';
import { nextRuns } from './cron.js';

export interface ScheduleView extends ScheduleRow {
  targetName: string;
  /** The next slots (none while paused). */
  nextRuns: Date[];
}

export const NEXT_RUNS = 5;

export function scheduleView(schedule: ScheduleRow, targetName: string, now: Date, count = NEXT_RUNS): ScheduleView {
  return {
    ...schedule,
    targetName,
    nextRuns: schedule.paused ? [] : nextRuns(schedule.cron, schedule.timeZone, now, count),
  };
}
