import { ServiceError } from '../../errors/service-error.js';
import { audited } from '../../audit/audited.js';
import type { DestinationRow } from '../../db/schema.js';
import type { Actor, DestinationDeps } from './destination-deps.js';

/**
 * Where a target's backups go, in order: the first destination is written, the others get copies.
 * An empty list returns the target to the default (the "local" destination, BACKUP_DIR).
 */
export async function setTargetDestinations(
  deps: DestinationDeps,
  targetIdOrName: string,
  names: readonly string[],
  actor: Actor,
): Promise<DestinationRow[]> {
  const target = await deps.findTarget(targetIdOrName);
  const result = await audited(
    deps.audit,
    actor,
    'target.set-destinations',
    target,
    { destinations: [...names] },
    async () => {
      if (new Set(names).size !== names.length) {
        throw new ServiceError('input/invalid', 'A destination is listed twice. Nothing was changed.');
      }
      const rows: DestinationRow[] = [];
      for (const name of names) rows.push(await deps.repo.find(name));
      await deps.repo.setOfTarget(
        target.id,
        rows.map((row) => row.id),
      );
      return { id: target.id, rows };
    },
    { targetScoped: true },
  );
  return result.rows;
}
