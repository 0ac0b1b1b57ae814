import type { MetadataDb } from '../../db/client.js';
import type { TargetRef } from '../schedules/target-lookup.js';
import { type RetentionDecision, planRetention } from './plan-retention.js';
import { type PolicyValues, retentionRepository } from './retention-repository.js';

export interface RetentionPlan {
  timeZone: string;
  decisions: (RetentionDecision & { backup: { fileName: string } })[];
  /** Bytes the deletions free. */
  freedBytes: number;
}

/** The plan of one policy for a target's backups now: the preview shows it, a prune carries it out. */
export async function planForTarget(
  db: MetadataDb,
  target: TargetRef,
  policy: PolicyValues,
  now: Date,
): Promise<RetentionPlan> {
  const [timeZone, backups] = await Promise.all([
    retentionRepository.timeZoneOf(db, target),
    retentionRepository.backupsOf(db, target.id),
  ]);
  const decisions = planRetention({ backups, rules: policy, timeZone, now }) as RetentionPlan['decisions'];
  const freedBytes = decisions.reduce((sum, d) => sum + (d.action === 'delete' ? d.backup.sizeBytes : 0), 0);
  return { timeZone, decisions, freedBytes };
}
