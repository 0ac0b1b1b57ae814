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

/** Queues a re-read of the whole file: checksum and size against the catalog, and every archive block. */
export async function verifyBackup(deps: BackupsDeps, id: string, actor: Actor): Promise<StartedJob> {
  const backup = await deps.backups.get(id);
  const target = backup.targetId
    ? await deps.targets.resolve(backup.targetId, { allowDisabled: true })
    : await deps.targets.defaultTarget();
  // Refuses now, not in the job, when no client tools fit.
  await deps.tools.prepare(target.connection);
  return deps.startJob({
    kind: 'verify',
    params: { target: target.connection.display },
    actor,
    targetId: target.id,
    lockKey: null,
    backupId: id,
  });
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
      let status: 'ok' | 'failed' = 'failed';
      try {
        await requireFile(deps, backup);
        const rows = await deps.copies.ofBackup(backup.id);
        let firstBad: unknown = null;
        for (const copy of await readableCopies(deps, backup)) {
          // A destination that does not answer says nothing about its bytes: skipped, not failed.
          const stat = await copy.storage.stat(backup.fileName).catch(() => null);
          if (!stat) {
            await deps.jobs.addWarning(context.jobId, `The copy on ${copy.storage.location} could not be read.`);
            continue;
          }
          try {
            await verifyCopy(deps, context.signal, prepared.tools, backup, copy.storage);
            status = 'ok';
          } catch (error) {
            if (context.signal.aborted) throw error;
            firstBad ??= error;
            const coded = isCodedError(error)
              ? { code: error.code, message: error.message }
              : { code: 'backup/checksum-mismatch', message: String(error) };
            if (rows.length > 0) await deps.copies.fail(backup.id, copy.destinationId, coded);
            await deps.jobs.addWarning(context.jobId, `The copy on ${copy.storage.location}: ${coded.message}`);
          }
        }
        if (status !== 'ok' && firstBad) throw firstBad;
      } finally {
        if (!context.signal.aborted) await deps.backups.setVerified(backup.id, status, new Date(deps.clock.now()));
      }
    },
    audit: (job) => ({ action: 'backup.verify', subjectId: job.backupId, details: {} }),
  };
}

async function verifyCopy(
  deps: BackupsDeps,
  signal: AbortSignal,
  tools: PgTools,
  backup: BackupRow,
  storage: ObjectStorage,
): Promise<void> {
  const source = { ...storedSource(deps, backup), open: () => storage.openRead(backup.fileName) };
  const summary = await inspectArchive(inspectRequest(deps, source, tools, signal));
  const contentChanged = backup.contentSha256 !== null && summary.contentSha256 !== backup.contentSha256;
  if (summary.sha256 !== backup.sha256 || summary.sizeBytes !== backup.sizeBytes || contentChanged) {
    throw new ServiceError(
      'backup/checksum-mismatch',
      `The file no longer matches its checksum (expected ${backup.sha256.slice(0, 12)}…, found ${summary.sha256.slice(0, 12)}…): it was changed or damaged on disk.`,
    );
  }
}
