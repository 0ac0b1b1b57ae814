import { ServiceError } from '../../errors/service-error.js';
import type { Actor, ScheduleDeps } from './ports.js';
import { scheduleRepository } from './schedule-repository.js';
import { scheduleRunRepository } from './schedule-run-repository.js';
import { type ScheduleView, scheduleView } from './schedule-view.js';
import { targetLookup } from './target-lookup.js';

/**
 * Pauses or resumes a target's schedule. Slots passed while paused were not due: a resume counts
 * slots from now, so it neither runs nor records them as missed. A pause drops the retries still
 * due: a failed slot stays failed.
 */
export async function setSchedulePaused(
  deps: ScheduleDeps,
  targetName: string,
  paused: boolean,
  actor: Actor,
): Promise<ScheduleView> {
  const target = await targetLookup.byName(deps.db, targetName);
  const now = new Date(deps.clock.now());
  const current = await scheduleRepository.get(deps.db, target.id);
  if (!current) throw notFound(target.name);
  const schedule =
    current.paused === paused
      ? current
      : await scheduleRepository.update(deps.db, target.id, paused ? { paused } : { paused, lastSlotAt: now }, now);
  if (!schedule) throw notFound(target.name);
  if (paused) await scheduleRunRepository.dropRetries(deps.db, target.id);
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action: paused ? 'schedule.pause' : 'schedule.resume',
    outcome: 'succeeded',
    subjectId: target.id,
    targetId: target.id,
    details: { target: target.name },
  });
  return scheduleView(schedule, target.name, now);
}

export const notFound = (name: string) =>
  new ServiceError('schedule/not-found', `The target "${name}" has no schedule.`);
