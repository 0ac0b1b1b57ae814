import type { Actor } from '../schedules/ports.js';
import { targetLookup } from '../schedules/target-lookup.js';
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
    preview: (target: string, input?: PolicyInput) => previewRetention(deps, target, input),
    /** Whether a prune of the target could delete anything (its own policy or its server's). */
    hasPolicy: async (targetId: string) =>
      (await retentionRepository.policyOf(deps.db, await targetLookup.byId(deps.db, targetId))) !== null,
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
