import { ServiceError } from '../../errors/service-error.js';
import type { TargetRow } from '../../db/schema.js';
import { audited } from './audit-target.js';
import type { Actor, TargetDeps } from './target-deps.js';
import { refuseEnvManaged } from './update-target.js';

/**
 * Soft delete: the row stays with deleted_at so that its backups keep their target's name, and
 * the backups themselves are kept. Its sealed password goes: nothing may connect with it any more.
 * A server target takes its children with it.
 */
export async function removeTarget(deps: TargetDeps, idOrName: string, actor: Actor): Promise<TargetRow> {
  const row = await deps.repo.find(idOrName);
  return audited(deps, actor, 'target.remove', row, {}, async () => {
    refuseEnvManaged(row);
    if (row.parentId) {
      throw new ServiceError(
        'target/child-of-server',
        `"${row.name}" belongs to a whole-server target, which would add it back: exclude its database there, or disable it. Nothing was changed.`,
      );
    }
    const deletedAt = new Date(deps.clock.now());
    for (const child of await deps.repo.children(row.id)) {
      await deps.repo.update(child.id, { deletedAt, enabled: false });
    }
    return deps.repo.update(row.id, { deletedAt, enabled: false, passwordSealed: null });
  });
}
