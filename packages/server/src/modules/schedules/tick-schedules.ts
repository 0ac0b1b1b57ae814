import { randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import { type ScheduleRow, type ScheduleRunRow, schedules, targets } from '../../db/schema.js';
import { type MissedPolicy, dueSlots } from './due-slots.js';
import type { ScheduleDeps } from './ports.js';
import { planRetry } from './retry-runs.js';
import { scheduleRunRepository } from './schedule-run-repository.js';
import { targetLookup } from './target-lookup.js';

/** A claim still pending after this long lost its instance between the claim and the enqueue. */
export const STALE_CLAIM_MS = 60_000;

export interface TickReport {
  ran: ScheduleRunRow[];
  skippedOverlap: ScheduleRunRow[];
  /** The backup could not be queued (its target refused it): counts as a failed run. */
  failed: ScheduleRunRow[];
  missed: number;
  /** Retries of failed slots that were due, each as settled (ran, skipped-overlap or failed). */
  retries: ScheduleRunRow[];
}

/** Schedules claimed and queued at once within one tick. */
const TICK_CONCURRENCY = 4;

/**
 * What a `schedule-tick` job (or each instance's timer) runs. Any number of instances may tick at
 * once: each due slot gets exactly one record per target, because
 * - the schedule row is locked (FOR UPDATE SKIP LOCKED) while its slots are claimed, and the
 *   claim advances last_slot_at in the same transaction, so a later tick starts after them;
 * - the records' unique (target_id, slot_at) makes a second claim of a slot insert nothing, and
 *   only the instance whose insert went through enqueues.
 * The enqueue happens after the commit (the queue is not in this transaction): a claim is
 * `pending` until then, and a claim whose instance died there is settled by the next tick.
 * Then the retries due (a failed attempt's slot, retry-runs.ts) are claimed the same way, after
 * the slots: a fresh slot of the same target goes first and the retry is skipped for overlap.
 */
export async function tickSchedules(deps: ScheduleDeps, options: { graceMs?: number } = {}): Promise<TickReport> {
  const report: TickReport = { ran: [], skippedOverlap: [], failed: [], missed: 0, retries: [] };
  await settleStaleClaims(deps);
  const active = await deps.db
    .select({ schedule: schedules })
    .from(schedules)
    .innerJoin(targets, eq(targets.id, schedules.targetId))
    .where(and(eq(schedules.paused, false), eq(targets.enabled, true), isNull(targets.deletedAt)));
  // Only schedules with a slot due get a claim (a transaction each): most ticks find none, and
  // every instance ticks four times a minute over every schedule. The claim reads the row again.
  const now = new Date(deps.clock.now());
  const due = active.filter(({ schedule }) => dueOf(schedule, now, options.graceMs).through !== null);
  // A burst of due schedules (100 targets at 02:00) is queued a few at a time, not one by one: each
  // queueing is a few metadata round trips, and the last slot must not wait behind all the others.
  const pending = due.map(({ schedule }) => schedule.targetId);
  const claimNext = async (): Promise<void> => {
    for (let targetId = pending.shift(); targetId !== undefined; targetId = pending.shift()) {
      try {
        const claimed = await claimDueSlots(deps, targetId, options.graceMs);
        report.missed += claimed.missed;
        for (const run of claimed.toRun) {
          const settled = await startRun(deps, run);
          if (settled.outcome === 'ran') report.ran.push(settled);
          else if (settled.outcome === 'skipped-overlap') report.skippedOverlap.push(settled);
          else report.failed.push(settled);
        }
      } catch (error) {
        // One broken schedule (a target removed mid-tick) must not stop the others.
        deps.logger.error('schedule tick failed', { targetId, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(TICK_CONCURRENCY, pending.length) }, claimNext));
  for (const retry of await scheduleRunRepository.claimDueRetries(deps.db, now)) {
    try {
      report.retries.push(await startRun(deps, retry));
    } catch (error) {
      deps.logger.error('schedule retry failed', { runId: retry.id, error });
    }
  }
  return report;
}

async function claimDueSlots(deps: ScheduleDeps, scheduleTargetId: string, graceMs: number | undefined) {
  const now = new Date(deps.clock.now());
  return deps.db.transaction(async (tx) => {
    const [schedule] = await tx
      .select()
      .from(schedules)
      .where(and(eq(schedules.targetId, scheduleTargetId), eq(schedules.paused, false)))
      .for('update', { skipLocked: true });
    // Locked: another instance is claiming these slots right now.
    if (!schedule) return { toRun: [], missed: 0 };
    const due = dueOf(schedule, now, graceMs);
    if (!due.through) return { toRun: [], missed: 0 };
    const children = await targetLookup.backedUpBy(tx, scheduleTargetId);
    const record = (slotAt: Date, outcome: 'pending' | 'missed') =>
      children.map((child) => ({
        id: randomUUID(),
        scheduleTargetId,
        targetId: child.id,
        slotAt,
        outcome,
        recordedAt: now,
      }));
    const claimed = await scheduleRunRepository.claim(tx, [
      ...due.missed.flatMap((slot) => record(slot, 'missed')),
      ...(due.run ? record(due.run, 'pending') : []),
    ]);
    await tx.update(schedules).set({ lastSlotAt: due.through }).where(eq(schedules.targetId, scheduleTargetId));
    return {
      toRun: claimed.filter((run) => run.outcome === 'pending'),
      missed: claimed.filter((run) => run.outcome === 'missed').length,
    };
  });
}

function dueOf(schedule: ScheduleRow, now: Date, graceMs: number | undefined) {
  return dueSlots({
    cron: schedule.cron,
    timeZone: schedule.timeZone,
    lastSlotAt: schedule.lastSlotAt ?? schedule.createdAt,
    now,
    missedPolicy: schedule.missedPolicy as MissedPolicy,
    graceMs,
  });
}

/**
 * A claimed slot or retry: skipped while the target's previous backup is still queued or running,
 * else queued as the slot's current attempt. One that cannot be queued failed, and may be retried.
 */
async function startRun(deps: ScheduleDeps, run: ScheduleRunRow): Promise<ScheduleRunRow> {
  // A retry's record keeps its failed attempt's job until the next one is queued.
  const previousJobId = run.attempt > 1 ? run.jobId : null;
  const { outcome, jobId } = await enqueueRun(deps, run).then(
    (queued) =>
      queued === null
        ? { outcome: 'skipped-overlap' as const, jobId: previousJobId }
        : { outcome: 'ran' as const, jobId: queued },
    (error: unknown) => {
      // Recorded as a failed run (the failed-runs guard counts it), not left to become "missed".
      deps.logger.warn('a scheduled backup could not be queued', { runId: run.id, targetId: run.targetId, error });
      return { outcome: 'failed' as const, jobId: previousJobId };
    },
  );
  await scheduleRunRepository.settle(deps.db, run.id, outcome, jobId);
  if (outcome === 'failed') await planRetry(deps.db, run.id, run.attempt, new Date(deps.clock.now()));
  const settled: ScheduleRunRow = { ...run, outcome, jobId };
  if (run.attempt > 1) await auditRetry(deps, settled, previousJobId);
  return settled;
}

/** The run's job id; null: skipped, another backup of the target is queued or running (checked with the enqueue). */
function enqueueRun(deps: ScheduleDeps, run: ScheduleRunRow): Promise<string | null> {
  return deps.queue.enqueueSlotBackup({
    targetId: run.targetId,
    scheduleRunId: run.id,
    attempt: run.attempt,
    origin: 'scheduled',
    requestedBy: null,
  });
}

async function auditRetry(deps: ScheduleDeps, run: ScheduleRunRow, failedJobId: string | null): Promise<void> {
  await deps.audit.record({
    actor: null,
    action: 'schedule.retry',
    outcome: run.outcome === 'ran' ? 'succeeded' : 'failed',
    subjectId: run.id,
    targetId: run.targetId,
    details: {
      slotAt: run.slotAt.toISOString(),
      attempt: run.attempt,
      // ran: the retry's job was queued; skipped-overlap: another backup of the target was going.
      result: run.outcome,
      jobId: run.outcome === 'ran' ? run.jobId : null,
      failedJobId,
    },
  });
}

/**
 * Claims left pending by a dead instance: ran if their job was queued after all; else a slot's is
 * missed, and a retry's stays what its failed attempt made it (ran, with that attempt's job).
 */
async function settleStaleClaims(deps: ScheduleDeps): Promise<void> {
  const stale = await scheduleRunRepository.stalePending(deps.db, new Date(deps.clock.now() - STALE_CLAIM_MS));
  for (const run of stale) {
    const queued = await deps.queue.jobOfScheduleRun(run.id, run.attempt);
    const jobId = queued ?? (run.attempt > 1 ? run.jobId : null);
    const outcome = jobId ? 'ran' : 'missed';
    await scheduleRunRepository.settle(deps.db, run.id, outcome, jobId);
    deps.logger.warn('settled a slot claim left by a stopped instance', { runId: run.id, outcome });
  }
}
