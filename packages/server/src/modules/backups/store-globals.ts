import { isCodedError } from '../../errors/service-error.js';
import type { JobContext, JobKind } from '../../jobs/job-types.js';
import type { BackupsDeps } from './backups-deps.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import { globalsFileNameOf } from '../../storage/manifest.js';
import type { EncryptionPlan } from '../keys/encryption-plan.js';
import { encryptedName, encryptingSink } from './backup-encryption.js';

/**
 * Stores the target's roles and grants beside a backup (private, like the backup) when the target
 * keeps them; the file's name, or null. A failure loses no backup: it becomes a warning on the
 * job, and the backup is kept without them. Only a cancel stops the backup.
 */
export async function storeGlobals(
  deps: Pick<BackupsDeps, 'dumpGlobals' | 'jobs'> & { storage: ObjectStorage },
  context: Pick<JobContext<JobKind>, 'jobId' | 'signal'>,
  targetId: string,
  backupFileName: string,
  /** An encrypted backup's roles are encrypted to the same recipients. */
  plan: EncryptionPlan | null = null,
): Promise<string | null> {
  if (!deps.dumpGlobals) return null;
  const fileName = encryptedName(globalsFileNameOf(backupFileName), plan);
  const writer = await deps.storage.createWriter(fileName);
  const sink = plan ? await encryptingSink(writer.stream, plan) : { stream: writer.stream, done: Promise.resolve() };
  try {
    if (!(await deps.dumpGlobals(targetId, sink.stream))) {
      sink.stream.destroy();
      await writer.abort();
      return null;
    }
    await sink.done;
    await writer.commit();
    return fileName;
  } catch (error) {
    await writer.abort();
    if (context.signal.aborted) throw error;
    const reason = isCodedError(error) ? `${error.message} [${error.code}]` : String(error);
    await deps.jobs.addWarning(
      context.jobId,
      `The backup was kept without the server's roles and grants (globals): ${reason}`,
    );
    return null;
  }
}
