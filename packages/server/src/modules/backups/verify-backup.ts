import { inspectArchive } from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';
import type { JobHandler } from '../../jobs/job-types.js';
import type { StartedJob } from '../jobs/enqueue-job.js';
import type { Actor } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { inspectRequest, requireFile, storedSource } from './backup-files.js';
import { identitiesFor, requireOpens } from './backup-encryption.js';
import { heldIdentities, holdIdentities } from './job-identities.js';
import { storedDigest } from './stored-digest.js';

/** Queues a re-read of the whole file: checksum and size against the catalog, and every archive block. */
export async function verifyBackup(
  deps: BackupsDeps,
  id: string,
  actor: Actor,
  /** deep: an encrypted backup is decrypted with `identity` (its file's text) and read whole; otherwise only its stored digest is checked. */
  options: { deep?: boolean; identity?: string } = {},
): Promise<StartedJob> {
  const backup = await deps.backups.get(id);
  const deep = options.deep === true && backup.recipientFingerprints.length > 0;
  const identities = deep ? await identitiesFor(deps.keys, backup, options.identity) : [];
  // Refused now, not in the job: no identity, or one that does not open it.
  if (deep) await requireOpens(storedSource(deps, backup, identities));
  const target = backup.targetId
    ? await deps.targets.resolve(backup.targetId, { allowDisabled: true })
    : await deps.targets.defaultTarget();
  // Refuses now, not in the job, when no client tools fit.
  await deps.tools.prepare(target.connection);
  const held = holdIdentities(deps, options.identity === undefined ? [] : identities);
  return held.around(
    deps.startJob({
      kind: 'verify',
      params: { target: target.connection.display, ...(deep ? { deep } : {}), ...held.params },
      actor,
      targetId: target.id,
      lockKey: null,
      backupId: id,
      ...(held.here ? { placement: 'here' as const } : {}),
    }),
  );
}

/** Reads the file only: it holds no database (its target gives the tools' version). */
export function verifyHandler(deps: BackupsDeps): JobHandler<'verify', void> {
  return {
    lock: null,
    async run(context) {
      const backup = await deps.backups.get(context.job.backupId!);
      const prepared = await deps.tools.prepare(context.target!.connection);
      const { deep, identityRef } = context.params;
      let status: 'ok' | 'failed' = 'failed';
      try {
        await requireFile(deps, backup);
        // An encrypted backup without --deep: the bytes at rest only, which needs no key.
        const summary =
          backup.recipientFingerprints.length > 0 && !deep
            ? await storedDigest(deps.storage, backup.fileName, context.signal)
            : await inspectArchive(
                inspectRequest(
                  deps,
                  storedSource(deps, backup, await heldIdentities(deps, identityRef, backup.id)),
                  prepared.tools,
                  context.signal,
                ),
              );
        const contentChanged =
          backup.contentSha256 !== null &&
          summary.contentSha256 !== null &&
          summary.contentSha256 !== backup.contentSha256;
        if (summary.sha256 !== backup.sha256 || summary.sizeBytes !== backup.sizeBytes || contentChanged) {
          throw new ServiceError(
            'backup/checksum-mismatch',
            `The file no longer matches its checksum (expected ${backup.sha256.slice(0, 12)}…, found ${summary.sha256.slice(0, 12)}…): it was changed or damaged on disk.`,
          );
        }
        status = 'ok';
      } finally {
        deps.identityVault.drop(identityRef);
        if (!context.signal.aborted) await deps.backups.setVerified(backup.id, status, new Date(deps.clock.now()));
      }
    },
    audit: (job) => ({
      action: 'backup.verify',
      subjectId: job.backupId,
      details: { deep: (job.params as { deep?: boolean }).deep === true },
    }),
  };
}
