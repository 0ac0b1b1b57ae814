import type { Prepared } from '@pgbs/engine';
import { EngineError, isEngineError } from '@pgbs/engine';
import { databaseLockKey } from '../../jobs/target-lock.js';
import type { ResolvedTarget } from '../targets/target-connections.js';
import type { BackupsDeps } from './backups-deps.js';

export interface JobTarget {
  target: ResolvedTarget;
  prepared: Prepared;
  /** What the job holds while it runs (databaseLockKey). */
  lockKey: string;
}

/** The target a request names (the default one when none), with its tools and lock key. */
export async function jobTarget(
  deps: Pick<BackupsDeps, 'targets' | 'tools' | 'serverIdentity'>,
  targetId?: string | null,
): Promise<JobTarget> {
  const target = targetId ? await deps.targets.resolve(targetId) : await deps.targets.defaultTarget();
  const prepared = await deps.tools.prepare(target.connection);
  const server = await deps.serverIdentity(target);
  return { target, prepared, lockKey: databaseLockKey(server, target.connection.database) };
}

/**
 * The target a restore goes to: the one asked for, else the backup's own (an upload or a file
 * from outside has none: the default target). The confirmation then names that target's database.
 */
export async function restoreTarget(
  deps: Pick<BackupsDeps, 'targets' | 'tools' | 'serverIdentity' | 'backups'>,
  source: { backupId: string } | { filePath: string },
  targetId?: string | null,
): Promise<JobTarget> {
  if (targetId || !('backupId' in source)) return jobTarget(deps, targetId);
  const own = (await deps.backups.get(source.backupId)).targetId;
  try {
    return await jobTarget(deps, own);
  } catch (error) {
    if (!own || !isEngineError(error, 'target/not-found')) throw error;
    throw new EngineError(
      'target/not-found',
      "The backup's own target was removed: name the target to restore it into. Nothing was changed.",
      { targetId: own },
    );
  }
}
