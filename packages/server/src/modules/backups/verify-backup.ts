import { type PgTools, inspectArchive } from '@pgbs/engine';
import type { BackupRow } from '../../db/schema.js';
import { ServiceError, isCodedError } from '../../errors/service-error.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import type { JobHandler } from '../../jobs/job-types.js';
import type { StartedJob } from '../jobs/enqueue-job.js';
import type { Actor } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { inspectRequest, requireFile, storedSource } from './backup-files.js';
import { readableCopies } from './copy-reader.js';
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

/**
 * Reads every complete copy (the file only: it holds no database; its target gives the tools'
 * version). A copy whose bytes differ becomes failed; the backup is ok while one copy is, with a
 * warning naming the others, and failed when none is.
 */
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
        const rows = await deps.copies.ofBackup(backup.id);
        // An encrypted backup without --deep: the bytes at rest only, which needs no key.
        const identities =
          backup.recipientFingerprints.length > 0 && !deep ? null : await heldIdentities(deps, identityRef, backup.id);
        let firstBad: unknown = null;
        for (const copy of await readableCopies(deps, backup)) {
          // A destination that does not answer says nothing about its bytes: skipped, not failed.
          const stat = await copy.storage.stat(backup.fileName).catch(() => null);
          if (!stat) {
            await deps.jobs.addWarning(context.jobId, `The copy on ${copy.storage.location} could not be read.`);
            continue;
          }
          try {
            await verifyCopy(deps, context.signal, prepared.tools, backup, copy.storage, identities);
            status = 'ok';
          } catch (error) {
            if (context.signal.aborted) throw error;
            firstBad ??= error;
            const coded = isCodedError(error)
              ? { code: error.code, message: error.message }
              : { code: 'backup/checksum-mismatch', message: String(error) };
            // Only what the bytes themselves show fails the copy: a network error or a wrong identity
            // says nothing of them, and a copy marked failed no longer counts for retention.
            if (rows.length > 0 && isDamage(coded.code)) await deps.copies.fail(backup.id, copy.destinationId, coded);
            await deps.jobs.addWarning(context.jobId, `The copy on ${copy.storage.location}: ${coded.message}`);
          }
        }
        if (status !== 'ok' && firstBad) throw firstBad;
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

/** One copy: its stored digest only (identities null: encrypted, no --deep), or read whole. */
async function verifyCopy(
  deps: BackupsDeps,
  signal: AbortSignal,
  tools: PgTools,
  backup: BackupRow,
  storage: ObjectStorage,
  identities: readonly string[] | null,
): Promise<void> {
  const source = { ...storedSource(deps, backup, identities ?? []), open: () => storage.openRead(backup.fileName) };
  const summary = identities
    ? await inspectArchive(inspectRequest(deps, source, tools, signal))
    : await storedDigest(storage, backup.fileName, signal);
  const contentChanged =
    backup.contentSha256 !== null && summary.contentSha256 !== null && summary.contentSha256 !== backup.contentSha256;
  if (summary.sha256 !== backup.sha256 || summary.sizeBytes !== backup.sizeBytes || contentChanged) {
    throw new ServiceError(
      'backup/checksum-mismatch',
      `The file no longer matches its checksum (expected ${backup.sha256.slice(0, 12)}…, found ${summary.sha256.slice(0, 12)}…): it was changed or damaged on disk.`,
    );
  }
}

const isDamage = (code: string) =>
  code.startsWith('archive/') || code === 'backup/checksum-mismatch' || code === 'backup/file-missing';
