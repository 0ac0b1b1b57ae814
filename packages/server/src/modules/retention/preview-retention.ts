import { targetLookup } from '../schedules/target-lookup.js';
import { type RetentionPlan, planForTarget } from './plan-for-target.js';
import { type PolicyInput, policyFrom } from './policy-input.js';
import type { RetentionDeps } from './ports.js';
import { type RetentionGuard, retentionGuard } from './retention-guard.js';
import { retentionRepository } from './retention-repository.js';

/**
 * Exactly what a prune would delete now: with the saved policy, or with `input` before it is
 * saved (the unsaved fields as setRetentionPolicy would fill them). No policy at all keeps everything.
 */
export async function previewRetention(
  deps: Pick<RetentionDeps, 'db' | 'clock'>,
  targetName: string,
  input?: PolicyInput,
): Promise<RetentionPlan & { guard: RetentionGuard; hasPolicy: boolean }> {
  const target = await targetLookup.byName(deps.db, targetName);
  const saved = await retentionRepository.policyOf(deps.db, target);
  const now = new Date(deps.clock.now());
  const guard = await retentionGuard(deps.db, target);
  if (!input && !saved) {
    const plan = await planForTarget(
      deps.db,
      target,
      policyFrom({ snapshotKeepDays: null, uploadKeepDays: null }, null),
      now,
    );
    return { ...plan, guard, hasPolicy: false };
  }
  const policy = input ? policyFrom(input, saved) : saved!;
  return { ...(await planForTarget(deps.db, target, policy, now)), guard, hasPolicy: true };
}
