import { notFound } from './control-schedule.js';
import type { Actor, ScheduleDeps } from './ports.js';
import { scheduleRepository } from './schedule-repository.js';
import { targetLookup } from './target-lookup.js';

/** Removes a target's schedule; its records stay (they are history). */
export async function deleteSchedule(deps: ScheduleDeps, targetName: string, actor: Actor): Promise<string> {
  const target = await targetLookup.byName(deps.db, targetName);
  const removed = await scheduleRepository.remove(deps.db, target.id);
  if (!removed) throw notFound(target.name);
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action: 'schedule.delete',
    outcome: 'succeeded',
    subjectId: target.id,
    targetId: target.id,
    details: { target: target.name, cron: removed.cron, timeZone: removed.timeZone },
  });
  return target.id;
}
