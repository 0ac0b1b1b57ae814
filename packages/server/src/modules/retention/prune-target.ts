import { isCodedError } from '../../errors/service-error.js';
import type { Actor } from '../schedules/ports.js';
import type { TargetRef } from '../schedules/target-lookup.js';
import { planForTarget } from './plan-for-target.js';
import type { RetentionDeps } from './ports.js';
import { type RetentionGuard, retentionGuard } from './retention-guard.js';
import { retentionRepository } from './retention-repository.js';

interface PrunedCopy {
  id: string;
  fileName: string;
  rule: string;
  destination: string;
}

export interface PruneReport {
  targetId: string;
  /** No policy (neither the target's nor a destination's): nothing was looked at. */
  hasPolicy: boolean;
  guard: RetentionGuard;
  /** Backups gone from the catalog: their last copy was pruned. */
  deleted: { id: string; fileName: string; rule: string }[];
  /** Copies pruned while the backup lives on in another destination. */
  copiesDeleted: PrunedCopy[];
  /** In use by a job, or being read (a download, on any instance): left for the next prune. */
  inUse: PrunedCopy[];
}

/**
 * What a `prune` job runs for one target: the preview's plan, carried out copy by copy through
 * the backups module's delete (which refuses a backup in use and a copy being read). A backup
 * leaves the catalog with its last copy. Each deletion is audited with the rule that caused it.
 * Nothing is deleted while the failed-runs guard holds.
 */
export async function pruneTarget(deps: RetentionDeps, target: TargetRef, actor: Actor): Promise<PruneReport> {
  const policies = {
    target: await retentionRepository.policyOf(deps.db, target),
    destinations: await retentionRepository.destinationPoliciesOf(deps.db, target),
  };
  const guard = await retentionGuard(deps.db, target);
  const hasPolicy = policies.target !== null || policies.destinations.size > 0;
  const report: PruneReport = { targetId: target.id, hasPolicy, guard, deleted: [], copiesDeleted: [], inUse: [] };
  if (!hasPolicy) return report;
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
  const plan = await planForTarget(deps.db, target, policies, new Date(deps.clock.now()), deps.localDestinationId);
  const byId = new Map(plan.decisions.map((decision) => [decision.backup.id, decision.backup]));
  const overall = new Map(plan.decisions.map((decision) => [decision.backup.id, decision.action]));
  const names = new Map(plan.destinations.map((p) => [p.destination.id, p.destination.name]));
  const due = [
    ...plan.destinations.flatMap(({ destination, decisions }) =>
      decisions.flatMap((decision) =>
        decision.action === 'delete'
          ? [{ backup: decision.backup, destinationId: destination.id, rule: decision.rule }]
          : [],
      ),
    ),
    // A backup no copy can restore: deleting one of its failed copies deletes it whole (its last).
    ...plan.decisions.flatMap((decision) =>
      decision.action === 'delete' && decision.backup.completeOn.length === 0
        ? [{ backup: decision.backup, destinationId: decision.backup.failedOn[0]!, rule: decision.rule }]
        : [],
    ),
    // Deletes an instance began and never finished: carried out again (removing is idempotent).
    ...(await retentionRepository.interruptedDeletes(deps.db, target.id)).flatMap(({ backupId, destinationId }) => {
      const backup = byId.get(backupId);
      return backup ? [{ backup, destinationId, rule: 'interrupted delete' }] : [];
    }),
  ];
  const gone = new Set<string>();
  for (const { backup, destinationId, rule } of due) {
    if (gone.has(backup.id)) continue;
    const entry = {
      id: backup.id,
      fileName: backup.fileName,
      rule,
      destination: names.get(destinationId) ?? destinationId,
    };
    let removed: 'copy' | 'backup';
    try {
      // A copy the plan deletes while the backup as a whole is kept is never its last complete one.
      const wholeBackup = overall.get(entry.id) === 'delete';
      const outcome = await deps.deleteCopy(entry.id, destinationId, { rule: entry.rule, actor, wholeBackup });
      if (outcome === 'kept') continue;
      removed = outcome;
    } catch (error) {
      if (isCodedError(error, 'backup/in-use')) {
        report.inUse.push(entry);
        continue;
      }
      // Deleted meanwhile by someone else.
      if (isCodedError(error, 'backup/not-found') || isCodedError(error, 'backup/copy-not-found')) continue;
      throw error;
    }
    if (removed === 'backup') {
      gone.add(entry.id);
      report.deleted.push({ id: entry.id, fileName: entry.fileName, rule: entry.rule });
    } else {
      report.copiesDeleted.push(entry);
    }
    await deps.audit.record({
      actor: actor.name,
      action: 'retention.delete',
      outcome: 'succeeded',
      subjectId: entry.id,
      targetId: target.id,
      details: {
        target: target.name,
        fileName: entry.fileName,
        rule: entry.rule,
        timeZone: plan.timeZone,
        destination: entry.destination,
        removed,
      },
    });
  }
  return report;
}
