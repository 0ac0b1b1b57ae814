import type { Prepared } from '@pgbs/engine';
import { isCodedError, ServiceError } from '../../errors/service-error.js';
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
  const { target, lockKey } = await jobLock(deps, targetId);
  return { target, prepared: await deps.tools.prepare(target.connection), lockKey };
}

/**
 * The target and lock key alone, without checking the client tools against the server (a psql
 * run): for a schedule's backup, whose job checks them when it runs, and whose queueing must stay
 * cheap when a hundred targets are due at once.
 */
export async function jobLock(
  deps: Pick<BackupsDeps, 'targets' | 'serverIdentity'>,
  targetId?: string | null,
): Promise<Omit<JobTarget, 'prepared'>> {
  const target = targetId ? await deps.targets.resolve(targetId) : await deps.targets.defaultTarget();
  const server = await deps.serverIdentity(target);
  return { target, lockKey: databaseLockKey(server, target.connection.database) };
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
    if (!own || !isCodedError(error, 'target/not-found')) throw error;
    throw new ServiceError(
      'target/not-found',
      "The backup's own target was removed: name the target to restore it into. Nothing was changed.",
      { targetId: own },
    );
  }
}
