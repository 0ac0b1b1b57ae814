import { DigestStream } from '@pgbs/engine';
import { pipeline } from 'node:stream/promises';
import type { BackupRow, backupCopies } from '../../db/schema.js';
import { ServiceError, isCodedError } from '../../errors/service-error.js';
import type { JobContext, JobHandler, JobKind } from '../../jobs/job-types.js';
import { type BackupManifest, globalsFileOf, manifestNameOf } from '../../storage/manifest.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import type { JobRequest } from '../jobs/enqueue-job.js';
import { type PlacedStorage, qualifiedRef } from './backup-placement.js';
import type { BackupsDeps } from './backups-deps.js';
import { openFromCopies } from './copy-reader.js';

export interface CopyJobParams {
  backupId: string;
  destinationId: string;
}

declare module '../../jobs/job-types.js' {
  interface JobParamsByKind {
    copy: CopyJobParams;
  }
}

/** Waits before the 2nd, 3rd, ... attempt of a copy; after the last one, the copy stays failed. */
export const COPY_RETRY_DELAYS_SECONDS: readonly number[] = [60, 5 * 60, 15 * 60, 60 * 60];
export const MAX_COPY_ATTEMPTS = COPY_RETRY_DELAYS_SECONDS.length + 1;

/** A copy of a backup onto one more destination; any instance runs it, after `startAfterSeconds`. */
export function copyRequest(
  backup: Pick<BackupRow, 'id'>,
  destinationId: string,
  startAfterSeconds?: number,
): JobRequest<'copy'> {
  return {
    kind: 'copy',
    params: { backupId: backup.id, destinationId },
    actor: { name: 'copies' },
    // The target's database is not read: no connection to resolve, no lock to hold.
    targetId: null,
    lockKey: null,
    // Delete refuses a backup an active job names: no copy is written while its backup goes.
    backupId: backup.id,
    placement: 'any',
    ...(startAfterSeconds ? { startAfterSeconds } : {}),
  };
}

/** A new backup's copy rows: complete where it was written, pending on the other destinations. */
export function copyRows(
  manifest: Pick<BackupManifest, 'id' | 'fileName' | 'sizeBytes' | 'sha256' | 'createdAt'>,
  writtenTo: string,
  others: readonly PlacedStorage[],
): (typeof backupCopies.$inferInsert)[] {
  const base = { backupId: manifest.id, objectName: manifest.fileName };
  return [
    {
      ...base,
      destinationId: writtenTo,
      state: 'complete',
      sizeBytes: manifest.sizeBytes,
      storedSha256: manifest.sha256,
      attempts: 1,
      completedAt: new Date(manifest.createdAt),
    },
    ...others.map((other) => ({ ...base, destinationId: other.destinationId, state: 'pending' })),
  ];
}

/**
 * Queues a recorded backup's copies onto its other destinations; they run in parallel and the
 * backup job does not wait for them. One that cannot be queued stays pending, with a warning.
 */
export async function queueCopies(
  deps: BackupsDeps,
  context: Pick<JobContext<JobKind>, 'jobId'>,
  backup: BackupRow,
  others: readonly PlacedStorage[],
): Promise<void> {
  for (const other of others) {
    try {
      await deps.startJob(copyRequest(backup, other.destinationId));
    } catch (error) {
      const reason = isCodedError(error) ? `${error.message} [${error.code}]` : String(error);
      await deps.jobs.addWarning(context.jobId, `The copy to ${other.storage.location} was not queued: ${reason}`);
    }
  }
}

export function copyHandler(deps: BackupsDeps): JobHandler<'copy'> {
  return {
    lock: null,
    run: (context) => copyBackup(deps, context),
    audit: (job) => ({
      action: 'backup.copy',
      subjectId: job.backupId,
      details: { destinationId: (job.params as unknown as CopyJobParams).destinationId },
    }),
  };
}

async function copyBackup(deps: BackupsDeps, context: JobContext<'copy'>): Promise<{ sizeBytes: number } | null> {
  const { backupId, destinationId } = context.params;
  const backup = await deps.backups.find(backupId);
  // Deleted while the copy waited for its turn: nothing left to copy.
  if (!backup) return null;
  const destination = await deps.placement.storage(destinationId);
  const attempts = await deps.copies.start(backupId, destinationId, context.jobId);
  try {
    const sizeBytes = await copyObjects(deps, context, backup, destination, destinationId);
    await deps.copies.update(backupId, destinationId, {
      state: 'complete',
      sizeBytes,
      storedSha256: backup.sha256,
      completedAt: new Date(deps.clock.now()),
      errorCode: null,
      errorMessage: null,
    });
    return { sizeBytes };
  } catch (error) {
    const coded = isCodedError(error)
      ? { code: error.code, message: error.message }
      : { code: 'copy/failed', message: error instanceof Error ? error.message : String(error) };
    await deps.copies.fail(backupId, destinationId, coded);
    // A cancelled copy is not retried: someone meant it.
    if (!context.signal.aborted && attempts < MAX_COPY_ATTEMPTS) {
      const delays = deps.copyRetryDelaysSeconds ?? COPY_RETRY_DELAYS_SECONDS;
      await deps.startJob(copyRequest(backup, destinationId, delays[Math.min(attempts, delays.length) - 1]));
    }
    throw error;
  }
}

/** The backup (checked against its sha256 while written), then its roles' file, then its manifest: a manifest names a whole copy. */
async function copyObjects(
  deps: BackupsDeps,
  context: JobContext<'copy'>,
  backup: BackupRow,
  destination: ObjectStorage,
  destinationId: string,
): Promise<number> {
  const copied = await copyObject(deps, context, backup, destination, destinationId, backup.fileName, backup.sizeBytes);
  if (copied.sha256 !== backup.sha256) {
    await destination.remove(backup.fileName).catch(() => {});
    throw new ServiceError(
      'backup/checksum-mismatch',
      `The copy of backup ${backup.id} read back another sha256 (${copied.sha256}) than the backup's (${backup.sha256}).`,
    );
  }
  const globals = globalsFileOf(backup);
  if (globals) {
    await copyObject(deps, context, backup, destination, destinationId, globals);
  }
  // Byte for byte: a sealed or signed manifest stays valid.
  await copyObject(deps, context, backup, destination, destinationId, manifestNameOf(backup.fileName));
  return copied.sizeBytes;
}

async function copyObject(
  deps: BackupsDeps,
  context: JobContext<'copy'>,
  backup: BackupRow,
  destination: ObjectStorage,
  destinationId: string,
  name: string,
  expectedBytes?: number,
): Promise<{ sizeBytes: number; sha256: string }> {
  const source = await openFromCopies(deps, backup, name, { except: destinationId });
  const writer = await destination.createWriter(name, expectedBytes ? { expectedBytes } : {});
  await context.setPartialRef(qualifiedRef(destinationId, writer.partialRef));
  const hashing = new DigestStream();
  try {
    await pipeline(source.stream, hashing, writer.stream, { signal: context.signal });
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    await context.setPartialRef(null).catch(() => {});
  }
  return { sizeBytes: hashing.bytes, sha256: hashing.sha256() };
}
