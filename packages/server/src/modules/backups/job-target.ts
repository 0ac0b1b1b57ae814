import type { Prepared } from '@pgbs/engine';
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
