import { isCodedError } from '../../errors/service-error.js';
import type { Actor } from '../schedules/ports.js';
import type { TargetRef } from '../schedules/target-lookup.js';
import { planForTarget } from './plan-for-target.js';
import type { RetentionDeps } from './ports.js';
import { type RetentionGuard, retentionGuard } from './retention-guard.js';
import { retentionRepository } from './retention-repository.js';

export interface PruneReport {
  targetId: string;
  /** No policy: nothing was looked at. */
  hasPolicy: boolean;
  guard: RetentionGuard;
  deleted: { id: string; fileName: string; rule: string }[];
  /** In use by a job: left for the next prune. */
  inUse: { id: string; fileName: string; rule: string }[];
}

/**
 * What a `prune` job runs for one target: the preview's plan, carried out through the same delete
 * as a person's (which refuses a backup in use). Each deletion is audited with the rule that
 * caused it. Nothing is deleted while the failed-runs guard holds.
 */
export async function pruneTarget(deps: RetentionDeps, target: TargetRef, actor: Actor): Promise<PruneReport> {
  const policy = await retentionRepository.policyOf(deps.db, target);
  const guard = await retentionGuard(deps.db, target);
  const report: PruneReport = { targetId: target.id, hasPolicy: policy !== null, guard, deleted: [], inUse: [] };
  if (!policy) return report;
  if (guard.blocked) {
    await deps.audit.record({
      actor: actor.name,
      action: 'retention.prune',
      outcome: 'failed',
      subjectId: target.id,
      targetId: target.id,
      details: {
        target: target.name,
        reason: `blocked: the last ${guard.failedRuns} scheduled runs failed (failed-runs guard ${guard.threshold})`,
      },
    });
    return report;
  }
  const plan = await planForTarget(deps.db, target, policy, new Date(deps.clock.now()));
  for (const decision of plan.decisions) {
    if (decision.action !== 'delete') continue;
    const entry = { id: decision.backup.id, fileName: decision.backup.fileName, rule: decision.rule };
    try {
      await deps.deleteBackup(entry.id, { rule: entry.rule, actor });
    } catch (error) {
      if (isCodedError(error, 'backup/in-use')) {
        report.inUse.push(entry);
        continue;
      }
      if (isCodedError(error, 'backup/not-found')) continue; // deleted meanwhile by someone else
      throw error;
    }
    report.deleted.push(entry);
    await deps.audit.record({
      actor: actor.name,
      action: 'retention.delete',
      outcome: 'succeeded',
      subjectId: entry.id,
      targetId: target.id,
      details: { target: target.name, fileName: entry.fileName, rule: entry.rule, timeZone: plan.timeZone },
    });
  }
  return report;
}
