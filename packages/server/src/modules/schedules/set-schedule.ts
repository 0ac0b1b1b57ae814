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
}

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
  const target = await targetLookup.byName(deps.db, input.target);
  const now = new Date(deps.clock.now());
  const schedule = await scheduleRepository.upsert(
    deps.db,
    { targetId: target.id, cron, timeZone, missedPolicy, lastSlotAt: now },
    now,
  );
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action: 'schedule.set',
    outcome: 'succeeded',
    subjectId: target.id,
    targetId: target.id,
    details: { target: target.name, cron, timeZone, missedPolicy },
  });
  return scheduleView(schedule, target.name, now);
}
