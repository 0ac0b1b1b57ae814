import type { Clock } from '@pgbs/engine';
import type { MetadataDb } from '../db/client.js';
import type { JobRow } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { type Repeating, repeatUntilStopped } from '../repeat.js';
import type { JobsRepository } from './jobs-repository.js';
import type { ObjectStorage } from '../storage/object-storage.js';
import { isCodedError } from '../errors/service-error.js';
import { isInstanceGone, pruneGoneInstances } from './instances.js';
import { INTERRUPTED, type JobWorker } from './job-worker.js';
import { type JobQueue, instanceQueue } from './queue.js';

/** How often each instance looks for jobs of instances that are gone: with 45 s of silence, within 60 s. */
const RECOVERY_INTERVAL_MS = 10_000;

interface RecoveryDeps {
  db: MetadataDb;
  jobs: JobsRepository;
  worker: JobWorker;
  /** The storage a partial ref's destination writes to (an unqualified, older ref: the local one). */
  storageOf(partialRef: string): Promise<{ storage: ObjectStorage; ref: string }>;
  /** Drops the short-lived roles that restores killed on this target left (best effort: never throws). */
  sweepRestoreRoles(targetId: string): Promise<void>;
  queue: JobQueue;
  clock: Clock;
  logger: Logger;
  instanceId: string;
}

/**
 * Fails, as job/interrupted, the active jobs whose instance is gone (killed, or a first-stage
 * process), discarding what their storage writers left. A queued job bound to a gone instance (a CLI's, an
 * upload's restore) goes too: nobody else can run it. The targets of the restores among them are
 * swept of the restore roles those left.
 */
export async function recoverInterrupted(deps: RecoveryDeps): Promise<JobRow[]> {
  const recovered: JobRow[] = [];
  const gone = new Map<string, boolean>();
  const restoredTargets = new Set<string>();
  const candidates = [
    ...(await deps.jobs.activeWithoutInstance()),
    ...(await deps.jobs.activeOnInstances(deps.instanceId)),
  ];
  for (const job of candidates) {
    const instanceId = job.instanceId;
    if (instanceId) {
      if (!gone.has(instanceId)) gone.set(instanceId, await isInstanceGone(deps.db, instanceId));
      if (!gone.get(instanceId)) continue;
    }
    if (job.partialRef && (await discardPartial(deps, job, job.partialRef)) === 'retry') continue;
    recovered.push(await deps.worker.finish(job, INTERRUPTED));
    if (job.kind === 'restore' && job.targetId) restoredTargets.add(job.targetId);
  }
  for (const [instanceId, isGone] of gone) if (isGone) await deps.queue.drop(instanceQueue(instanceId));
  for (const targetId of restoredTargets) await deps.sweepRestoreRoles(targetId);
  return recovered;
}

/**
 * Errors no later pass can get past: the destination was removed, its settings or credentials no
 * longer work. The job ends; its partial object is named in a warning, for a person to remove.
 */
const PERMANENT = new Set([
  'destination/not-found',
  'destination/credentials-required',
  'destination/endpoint-forbidden',
  'destination/environment-credentials-refused',
  'input/invalid',
]);

/**
 * Whether the partial object is gone ('discarded'), will never go ('orphaned'), or may go on a
 * later pass ('retry'). One destination that is down must not keep the other jobs from being
 * recovered: that job stays active, its partial recorded, for the next pass.
 */
async function discardPartial(
  deps: RecoveryDeps,
  job: JobRow,
  partialRef: string,
): Promise<'discarded' | 'orphaned' | 'retry'> {
  try {
    const { storage, ref } = await deps.storageOf(partialRef);
    await storage.discardPartial(ref);
    return 'discarded';
  } catch (error) {
    const code = isCodedError(error) ? error.code : 'destination/failed';
    if (PERMANENT.has(code)) {
      const warning = `Its partial object ${partialRef} could not be removed (${code}) and never will be by the service: remove it from the destination by hand.`;
      await deps.jobs.addWarning(job.id, warning);
      deps.logger.warn('left the partial object of an interrupted job behind', { code, jobId: job.id, partialRef });
      return 'orphaned';
    }
    deps.logger.warn('could not discard the partial object of an interrupted job; the next recovery pass tries again', {
      code,
      jobId: job.id,
      error: String(error),
    });
    return 'retry';
  }
}

/**
 * recoverInterrupted every few seconds, until stopped; then the rows of instances gone for a day
 * go (after the recovery: their jobs were failed long ago, and a missing row counts as gone).
 */
export function startRecovery(deps: RecoveryDeps & { instancePruneAfterMs?: number }): Repeating {
  const pass = async () => {
    try {
      for (const job of await recoverInterrupted(deps)) {
        deps.logger.warn('marked an interrupted job as failed', { jobId: job.id, kind: job.kind });
      }
      const pruned = await pruneGoneInstances(deps.db, deps.instancePruneAfterMs);
      if (pruned.length > 0) deps.logger.info('removed the records of instances gone for long', { instances: pruned });
    } catch (error) {
      deps.logger.warn('could not check for interrupted jobs', { error: String(error) });
    }
  };
  return repeatUntilStopped(deps.clock, pass, {
    firstDelayMs: RECOVERY_INTERVAL_MS,
    nextDelayMs: () => RECOVERY_INTERVAL_MS,
  });
}
