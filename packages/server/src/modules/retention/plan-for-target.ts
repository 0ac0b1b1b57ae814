import type { MetadataDb } from '../../db/client.js';
import type { TargetRef } from '../schedules/target-lookup.js';
import { DEFAULTS, policyFrom } from './policy-input.js';
import {
  type CountRules,
  type RetentionDecision,
  type RetentionRules,
  NEWEST_SUCCESSFUL,
  describeRules,
  planRetention,
} from './plan-retention.js';
import { type PolicyValues, type StoredBackup, retentionRepository } from './retention-repository.js';

type Decision = RetentionDecision & { backup: StoredBackup };

/** One destination's part of a plan: what happens to the complete copies it holds. */
export interface DestinationPlan {
  destination: { id: string; name: string };
  /** Whose rules apply: the destination's own, the target's (or its server's), or none (all kept). */
  source: 'destination' | 'target' | 'none';
  /** The count rules as the CLI spells them ("" : none, every backup kept). */
  rules: string;
  decisions: Decision[];
  freedBytes: number;
}

export interface RetentionPlan {
  timeZone: string;
  /**
   * Per backup: delete when every destination holding a complete copy of it deletes that copy
   * (the backup then goes from the catalog); keep otherwise, with what keeps it where.
   */
  decisions: Decision[];
  /** Bytes the deletions free, over every destination. */
  freedBytes: number;
  destinations: DestinationPlan[];
}

export interface TargetPolicies {
  target: PolicyValues | null;
  /** Per-destination count rules, by destination id. */
  destinations: ReadonlyMap<string, CountRules>;
}

/** What no policy does: keeps everything, snapshots and uploads included. */
const KEEP_ALL = policyFrom({ snapshotKeepDays: null, uploadKeepDays: null }, null);

/**
 * The plan of a target's policies for its backups now, destination by destination: the preview
 * shows it, a prune carries it out. A destination's own rules replace the target's count rules
 * for its copies; safety snapshots, uploads and the failed-runs guard follow the target's policy.
 * A backup without any complete copy follows planUnreadable.
 */
export async function planForTarget(
  db: MetadataDb,
  target: TargetRef,
  policies: TargetPolicies,
  now: Date,
  localId: string,
): Promise<RetentionPlan> {
  const [timeZone, backups, destinations] = await Promise.all([
    retentionRepository.timeZoneOf(db, target),
    retentionRepository.backupsOf(db, target.id, localId),
    retentionRepository.destinationsOf(db, target, localId),
  ]);
  const rulesOf = new Map<string, RetentionRules>();
  const plans = destinations.map((destination): DestinationPlan => {
    const own = policies.destinations.get(destination.id);
    const source = own ? 'destination' : policies.target ? 'target' : 'none';
    const rules = own ? { ...(policies.target ?? DEFAULTS), ...own } : (policies.target ?? KEEP_ALL);
    rulesOf.set(destination.id, rules);
    const held = backups.filter((backup) => backup.completeOn.includes(destination.id));
    const decisions = planRetention({ backups: held, rules, timeZone, now }) as Decision[];
    return { destination, source, rules: describeRules(rules), decisions, freedBytes: bytesDeleted(decisions) };
  });
  const named = plans.length > 1;
  const unreadable = (backup: StoredBackup) =>
    planUnreadable(backup, { backups, plans, rulesOf, timeZone, now, named });
  const decisions = backups
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id))
    .map((backup): Decision => {
      const here = plans.flatMap((plan) =>
        plan.decisions.filter((d) => d.backup.id === backup.id).map((decision) => ({ plan, decision })),
      );
      if (here.length === 0) return unreadable(backup);
      const kept = here.filter(({ decision }) => decision.action === 'keep');
      // Its last complete copies go only when no other copy is failed or on its way: that copy's
      // destination (12 months in S3, say) never had its say, and may be all that was meant to last.
      if (kept.length === 0 && backup.incompleteOn.length > 0) {
        const waiting = backup.incompleteOn.map(
          (id) => plans.find((p) => p.destination.id === id)?.destination.name ?? id,
        );
        return {
          backup,
          action: 'keep',
          reasons: [`last complete copy: the copy on ${waiting.join(', ')} is not complete`],
        };
      }
      if (kept.length === 0) {
        const rules = [...new Set(here.map(({ decision }) => (decision.action === 'delete' ? decision.rule : '')))];
        return { backup, action: 'delete', rule: rules.join('; ') };
      }
      const reasons = kept.flatMap(({ plan, decision }) =>
        decision.action === 'keep'
          ? decision.reasons.map((reason) => (named ? `${plan.destination.name}: ${reason}` : reason))
          : [],
      );
      return { backup, action: 'keep', reasons };
    });
  const freedBytes = plans.reduce((sum, plan) => sum + plan.freedBytes, 0);
  return { timeZone, decisions, freedBytes, destinations: plans };
}

const bytesDeleted = (decisions: readonly Decision[]) =>
  decisions.reduce((sum, d) => sum + (d.action === 'delete' ? d.backup.sizeBytes : 0), 0);

/**
 * A backup that no copy can restore any more: every copy failed (the copy job gave up, or a verify
 * found it damaged). It is deleted, leftover objects and catalog entry, once the rules would have
 * deleted it had it been a good backup, on every destination where a copy of it failed (the
 * target's destinations when none of those is left). It stays while a copy of it is still on its
 * way or a job uses it (a copy's retry waiting its turn), and while the target has no newer
 * restorable backup: what is left of it may then be all there is to go back to.
 */
function planUnreadable(
  backup: StoredBackup,
  context: {
    backups: readonly StoredBackup[];
    plans: readonly DestinationPlan[];
    rulesOf: ReadonlyMap<string, RetentionRules>;
    timeZone: string;
    now: Date;
    named: boolean;
  },
): Decision {
  const keep = (reason: string): Decision => ({ backup, action: 'keep', reasons: [`no complete copy: ${reason}`] });
  const name = (id: string) => context.plans.find((p) => p.destination.id === id)?.destination.name ?? id;
  const waiting = backup.incompleteOn.filter((id) => !backup.failedOn.includes(id));
  if (waiting.length > 0) return keep(`the copy on ${waiting.map(name).join(', ')} is not complete yet`);
  if (backup.inUse) return keep('a job still uses it (a copy being retried?)');
  if (backup.failedOn.length === 0) return keep('no copy left to delete');
  const restorable = context.backups.some(
    (other) =>
      other.completeOn.length > 0 &&
      other.verifyStatus !== 'failed' &&
      other.createdAt.getTime() > backup.createdAt.getTime(),
  );
  if (!restorable) return keep('the target has no newer restorable backup');
  const failedThere = context.plans.filter((plan) => backup.failedOn.includes(plan.destination.id));
  const judges = failedThere.length > 0 ? failedThere : context.plans;
  // Judged as the good backup it was meant to be: its failure never shortens the time it is kept.
  // Not as a destination's newest, though: that guarantee is for a backup that restores (and a
  // newer one does).
  const asGood = { ...backup, verifyStatus: 'ok' };
  const verdicts = judges.map((plan) => {
    const held = context.backups.filter((other) => other.completeOn.includes(plan.destination.id));
    const decision = planRetention({
      backups: [...held, asGood],
      rules: context.rulesOf.get(plan.destination.id)!,
      timeZone: context.timeZone,
      now: context.now,
    }).find((d) => d.backup.id === backup.id)!;
    return decision.action === 'delete'
      ? { plan, reasons: [], rule: decision.rule }
      : { plan, reasons: decision.reasons.filter((reason) => reason !== NEWEST_SUCCESSFUL), rule: plan.rules };
  });
  const kept = verdicts.flatMap(({ plan, reasons }) =>
    reasons.map((reason) => (context.named ? `${plan.destination.name}: ${reason}` : reason)),
  );
  if (verdicts.length === 0 || kept.length > 0) {
    return keep(
      kept.length > 0 ? `every copy failed; within the rules (${kept.join('; ')})` : 'no destination judges it',
    );
  }
  const rules = [...new Set(verdicts.map(({ rule }) => rule))];
  return { backup, action: 'delete', rule: `every copy failed; ${rules.join('; ')}` };
}
