import { and, eq, isNull } from 'drizzle-orm';
import { destinations } from '../../db/schema.js';
import { ServiceError } from '../../errors/service-error.js';
import type { Actor } from '../schedules/ports.js';
import { type TargetRef, targetLookup } from '../schedules/target-lookup.js';
import type { CountRules } from './plan-retention.js';
import { countRulesFrom } from './policy-input.js';
import type { RetentionDeps } from './ports.js';
import { retentionRepository } from './retention-repository.js';

type Deps = Pick<RetentionDeps, 'db' | 'clock' | 'audit' | 'localDestinationId'>;

/**
 * The target and one destination its retention covers, by name: destination/not-found for a name
 * no destination has, retention/destination-not-used for one that neither receives the target's
 * backups nor holds any of them.
 */
async function targetAndDestination(deps: Deps, targetName: string, destinationName: string) {
  const target = await targetLookup.byName(deps.db, targetName);
  const [destination] = await deps.db
    .select({ id: destinations.id, name: destinations.name })
    .from(destinations)
    .where(and(eq(destinations.name, destinationName), isNull(destinations.deletedAt)));
  if (!destination) throw new ServiceError('destination/not-found', `No destination named "${destinationName}".`);
  const covered = await retentionRepository.destinationsOf(deps.db, target, deps.localDestinationId);
  if (!covered.some((d) => d.id === destination.id)) {
    throw new ServiceError(
      'retention/destination-not-used',
      `Target "${target.name}" neither backs up to destination "${destination.name}" nor has backups there ` +
        `(it uses: ${covered.map((d) => d.name).join(', ') || 'none'}). Nothing was changed.`,
      { target: target.name, destination: destination.name },
    );
  }
  return { target, destination };
}

async function audit(deps: Deps, actor: Actor, target: TargetRef, details: Record<string, unknown>, action: string) {
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action,
    outcome: 'succeeded',
    subjectId: target.id,
    targetId: target.id,
    details: { target: target.name, ...details },
  });
}

/**
 * Sets a destination's own count rules for a target's copies there (the rules not given are
 * unset; none at all keeps every copy there). Validated before anything is written.
 */
export async function setDestinationPolicy(
  deps: Deps,
  targetName: string,
  destinationName: string,
  input: Partial<CountRules>,
  actor: Actor,
): Promise<CountRules> {
  const { target, destination } = await targetAndDestination(deps, targetName, destinationName);
  const rules = countRulesFrom(input);
  const key = { targetId: target.id, destinationId: destination.id };
  await retentionRepository.upsertDestinationPolicy(deps.db, key, rules, new Date(deps.clock.now()));
  await audit(deps, actor, target, { destination: destination.name, ...rules }, 'retention.set');
  return rules;
}

/** Drops a destination's own rules: its copies follow the target's policy again. false: it had none. */
export async function clearDestinationPolicy(
  deps: Deps,
  targetName: string,
  destinationName: string,
  actor: Actor,
): Promise<boolean> {
  const { target, destination } = await targetAndDestination(deps, targetName, destinationName);
  const key = { targetId: target.id, destinationId: destination.id };
  const cleared = await retentionRepository.deleteDestinationPolicy(deps.db, key);
  if (cleared) await audit(deps, actor, target, { destination: destination.name }, 'retention.clear');
  return cleared;
}
