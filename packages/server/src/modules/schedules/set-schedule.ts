import { ServiceError } from '../../errors/service-error.js';
import { validCron, validTimeZone } from './cron.js';
import { MISSED_POLICIES, type MissedPolicy } from './due-slots.js';
import type { Actor, ScheduleDeps } from './ports.js';
import { scheduleRepository } from './schedule-repository.js';
import { type ScheduleView, scheduleView } from './schedule-view.js';
import { targetLookup } from './target-lookup.js';

export interface SetScheduleInput {
  /** The target's name. */
  target: string;
  cron: string;
  timeZone?: string | null;
  missedPolicy?: string | null;
  /** Retries of a failed scheduled backup (0: none); omitted: kept (1 for a new schedule). */
  retries?: number | null;
}

/** More would keep retrying a target that is down for hours: the next slot is the better retry. */
export const MAX_RETRIES = 10;

/**
 * Creates or replaces a target's schedule (for a server target: of each of its databases). Slots
 * count from now: a new or changed expression has no missed slots in the past.
 */
export async function setSchedule(deps: ScheduleDeps, input: SetScheduleInput, actor: Actor): Promise<ScheduleView> {
  const timeZone = validTimeZone(input.timeZone ?? 'UTC');
  const cron = validCron(input.cron, timeZone);
  const missedPolicy = input.missedPolicy ?? 'run-once';
  if (!MISSED_POLICIES.includes(missedPolicy as MissedPolicy)) {
    throw new ServiceError(
      'schedule/invalid-missed-policy',
      `The missed-run policy must be ${MISSED_POLICIES.join(' or ')}, not "${missedPolicy}".`,
    );
  }
  const retries = input.retries ?? undefined;
  if (retries !== undefined && (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES)) {
    throw new ServiceError(
      'schedule/invalid-retries',
      `The number of retries must be a whole number from 0 to ${MAX_RETRIES}, not ${retries}.`,
    );
  }
  const target = await targetLookup.byName(deps.db, input.target);
  const now = new Date(deps.clock.now());
  const schedule = await scheduleRepository.upsert(
    deps.db,
    { targetId: target.id, cron, timeZone, missedPolicy, lastSlotAt: now, retryLimit: retries },
    now,
  );
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action: 'schedule.set',
    outcome: 'succeeded',
    subjectId: target.id,
    targetId: target.id,
    details: { target: target.name, cron, timeZone, missedPolicy, retries: schedule.retryLimit },
  });
  return scheduleView(schedule, target.name, now);
}
