import type { RetentionPolicyRow } from '../../db/schema.js';
import type { Actor } from '../schedules/ports.js';
import { targetLookup } from '../schedules/target-lookup.js';
import { type PolicyInput, policyFrom } from './policy-input.js';
import type { RetentionDeps } from './ports.js';
import { retentionRepository } from './retention-repository.js';

/** Saves a target's policy (validated first: a bad value changes nothing). */
export async function setRetentionPolicy(
  deps: RetentionDeps,
  targetName: string,
  input: PolicyInput,
  actor: Actor,
): Promise<RetentionPolicyRow> {
  const target = await targetLookup.byName(deps.db, targetName);
  const values = policyFrom(input, await retentionRepository.policyOf(deps.db, target));
  const saved = await retentionRepository.upsert(deps.db, target.id, values, new Date(deps.clock.now()));
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action: 'retention.set',
    outcome: 'succeeded',
    subjectId: target.id,
    targetId: target.id,
    details: { target: target.name, ...values },
  });
  return saved;
}
