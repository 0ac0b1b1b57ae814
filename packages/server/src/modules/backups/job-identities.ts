import type { StartedJob } from '../jobs/enqueue-job.js';
import { identitiesFor } from './backup-encryption.js';
import type { BackupsDeps } from './backups-deps.js';

/**
 * Identities given with a request, held for the job it queues: the params carry a reference,
 * and a job that holds one must run on this instance (the identity exists nowhere else).
 */
export function holdIdentities(deps: Pick<BackupsDeps, 'identityVault'>, identities: readonly string[]) {
  if (identities.length === 0) return { params: {}, here: false, around: (job: Promise<StartedJob>) => job };
  const identityRef = deps.identityVault.hold(identities);
  return {
    params: { identityRef },
    here: true,
    /** Drops the identities when the job could not be queued. */
    around: (job: Promise<StartedJob>) =>
      job.catch((error: unknown) => {
        deps.identityVault.drop(identityRef);
        throw error;
      }),
  };
}

/**
 * What a job opens its backup with: the identities its request held on this instance, else those
 * the service keeps (opt-in). None: an encrypted backup then fails key/identity-required.
 */
export async function heldIdentities(
  deps: Pick<BackupsDeps, 'identityVault' | 'keys' | 'backups'>,
  identityRef: string | undefined,
  backupId: string | null,
): Promise<readonly string[]> {
  const held = deps.identityVault.get(identityRef);
  if (held) return held;
  if (backupId === null) return [];
  return identitiesFor(deps.keys, await deps.backups.get(backupId), undefined);
}
