import type { Actor } from '../schedules/ports.js';
import { targetLookup } from '../schedules/target-lookup.js';
import { clearDestinationPolicy, setDestinationPolicy } from './destination-policy.js';
import type { CountRules } from './plan-retention.js';
import type { PolicyInput } from './policy-input.js';
import type { RetentionDeps } from './ports.js';
import { previewRetention } from './preview-retention.js';
import { pruneTarget } from './prune-target.js';
import { retentionGuard } from './retention-guard.js';
import { retentionRepository } from './retention-repository.js';
import { setRetentionPolicy } from './set-retention-policy.js';

/** Retention's operations with their dependencies bound. */
export function createRetention(deps: RetentionDeps) {
  return {
    policy: async (target: string) => retentionRepository.policyOf(deps.db, await targetLookup.byName(deps.db, target)),
    setPolicy: (target: string, input: PolicyInput, actor: Actor) => setRetentionPolicy(deps, target, input, actor),
    /** A target's own per-destination rules, by destination name. */
    destinationPolicies: async (target: string) =>
      retentionRepository.ownDestinationPolicies(deps.db, (await targetLookup.byName(deps.db, target)).id),
    setDestinationPolicy: (target: string, destination: string, input: Partial<CountRules>, actor: Actor) =>
      setDestinationPolicy(deps, target, destination, input, actor),
    clearDestinationPolicy: (target: string, destination: string, actor: Actor) =>
      clearDestinationPolicy(deps, target, destination, actor),
    preview: (target: string, input?: PolicyInput) => previewRetention(deps, target, input),
    /** Whether a prune of the target could delete anything (a policy of its own, its server's, or a destination's). */
    hasPolicy: async (targetId: string) => {
      const target = await targetLookup.byId(deps.db, targetId);
      return (
        (await retentionRepository.policyOf(deps.db, target)) !== null ||
        (await retentionRepository.destinationPoliciesOf(deps.db, target)).size > 0
      );
    },
    /** For the dashboard: is pruning of this target held back by failed runs? */
    guard: async (targetId: string) => retentionGuard(deps.db, await targetLookup.byId(deps.db, targetId)),
    /**
     * The `prune` job's handler ({ targetId }): queued after each scheduled backup of the target
     * and on demand.
     */
    prune: async (targetId: string, actor: Actor = { name: 'retention' }) =>
      pruneTarget(deps, await targetLookup.byId(deps.db, targetId), actor),
  };
}

export type Retention = ReturnType<typeof createRetention>;
