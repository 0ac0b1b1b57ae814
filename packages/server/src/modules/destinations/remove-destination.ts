import { ServiceError } from '../../errors/service-error.js';
import type { DestinationRow } from '../../db/schema.js';
import { auditedDestination } from './audit-destination.js';
import type { Actor, DestinationDeps } from './destination-deps.js';
import { refuseEnvManaged } from './update-destination.js';

/**
 * Soft delete: the row stays (its copies keep naming it) and its credentials go. Nothing stored
 * there is deleted: the objects stay in the bucket or directory. Refused while targets send their
 * backups there; refused while it holds copies, unless forced (those copies can no longer be read
 * through the service).
 */
export async function removeDestination(
  deps: DestinationDeps,
  idOrName: string,
  options: { force?: boolean },
  actor: Actor,
): Promise<DestinationRow> {
  const row = await deps.repo.find(idOrName);
  return auditedDestination(deps, actor, 'destination.remove', row, { force: options.force ?? false }, async () => {
    refuseEnvManaged(row);
    const users = await deps.repo.targetsUsing(row.id);
    if (users.length > 0) {
      throw new ServiceError(
        'destination/in-use',
        `Targets ${users.join(', ')} send their backups to "${row.name}": give them other destinations first (pnpm cli target set <target> --destinations ...). Nothing was changed.`,
        { targets: users },
      );
    }
    const copies = await deps.repo.copyCount(row.id);
    if (copies > 0 && !options.force) {
      throw new ServiceError(
        'destination/in-use',
        `"${row.name}" holds ${copies} backup cop${copies === 1 ? 'y' : 'ies'}: removing it makes them unreadable through the service (the stored objects stay). Use --force to remove it anyway. Nothing was changed.`,
        { copies },
      );
    }
    return deps.repo.remove(row.id, new Date(deps.clock.now()));
  });
}
