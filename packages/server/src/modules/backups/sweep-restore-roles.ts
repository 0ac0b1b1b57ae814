import { type ProcessRunner, type ToolResolver, readTargetRole, sweepRestoreRoles } from '@pgbs/engine';
import type { Logger } from '../../logger.js';
import type { TargetConnections } from '../targets/target-connections.js';

export interface RestoreRoleSweepDeps {
  runner: ProcessRunner;
  tools: ToolResolver;
  targets: TargetConnections;
  /** Whether the job a role was made for (its id without dashes) is still queued or running. */
  isJobActive(jobIdHex: string): Promise<boolean>;
  logger: Logger;
}

/**
 * A superuser connection restores through short-lived login roles; a process killed during a
 * restore never dropped its own. Those on this target whose job is no longer running (on any
 * instance) go now. Best effort: an unreachable target must stop neither a start nor a recovery pass.
 */
export async function sweepLeftoverRestoreRoles(deps: RestoreRoleSweepDeps, targetId: string): Promise<void> {
  try {
    const { connection } = await deps.targets.resolve(targetId, { allowDisabled: true });
    const { tools: set } = await deps.tools.prepare(connection);
    const role = await readTargetRole(deps.runner, set.psql, connection);
    if (!role.superuser) return;
    const dropped = await sweepRestoreRoles(
      { runner: deps.runner, psql: set.psql, admin: connection, owner: role.owner },
      deps.isJobActive,
    );
    for (const name of dropped) {
      deps.logger.warn('dropped a restore role left by an interrupted restore', { role: name, targetId });
    }
  } catch (error) {
    deps.logger.warn('could not check for left-over restore roles', { targetId, error: String(error) });
  }
}
