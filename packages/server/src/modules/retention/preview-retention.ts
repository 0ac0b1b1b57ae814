import { targetLookup } from '../schedules/target-lookup.js';
import { type RetentionPlan, planForTarget } from './plan-for-target.js';
import { type PolicyInput, policyFrom } from './policy-input.js';
import type { RetentionDeps } from './ports.js';
import { type RetentionGuard, retentionGuard } from './retention-guard.js';
import { retentionRepository } from './retention-repository.js';

/**
 * Exactly what a prune would delete now, destination by destination: with the saved policies, or
 * with `input` as the target's policy before it is saved (the unsaved fields as
 * setRetentionPolicy would fill them). No policy at all keeps everything.
 */
export async function previewRetention(
  deps: Pick<RetentionDeps, 'db' | 'clock' | 'localDestinationId'>,
  targetName: string,
  input?: PolicyInput,
): Promise<RetentionPlan & { guard: RetentionGuard; hasPolicy: boolean }> {
  const target = await targetLookup.byName(deps.db, targetName);
  const saved = await retentionRepository.policyOf(deps.db, target);
  const destinations = await retentionRepository.destinationPoliciesOf(deps.db, target);
  const policies = { target: input ? policyFrom(input, saved) : saved, destinations };
  const plan = await planForTarget(deps.db, target, policies, new Date(deps.clock.now()), deps.localDestinationId);
  const hasPolicy = policies.target !== null || destinations.size > 0;
  return { ...plan, guard: await retentionGuard(deps.db, target), hasPolicy };
}
