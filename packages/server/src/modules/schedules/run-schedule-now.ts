import { notFound } from './control-schedule.js';
import type { Actor, ScheduleDeps } from './ports.js';
import { scheduleRepository } from './schedule-repository.js';
import { targetLookup } from './target-lookup.js';

/**
 * "Run now": a person's request, so its backups are manual ones (no slot, no schedule record);
 * they count toward retention like any other. Works while paused. A server target queues one
 * backup per database.
 */
export async function runScheduleNow(
  deps: ScheduleDeps,
  targetName: string,
  actor: Actor,
): Promise<{ targetId: string; jobId: string }[]> {
  const target = await targetLookup.byName(deps.db, targetName);
  if (!(await scheduleRepository.get(deps.db, target.id))) throw notFound(target.name);
  const started: { targetId: string; jobId: string }[] = [];
  for (const child of await targetLookup.backedUpBy(deps.db, target.id)) {
    const jobId = await deps.queue.enqueueBackup({
      targetId: child.id,
      scheduleRunId: null,
      origin: 'manual',
      requestedBy: actor.name,
    });
    started.push({ targetId: child.id, jobId });
  }
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action: 'schedule.run-now',
    outcome: 'succeeded',
    subjectId: target.id,
    targetId: target.id,
    details: { target: target.name, jobs: started.map((run) => run.jobId) },
  });
  return started;
}
