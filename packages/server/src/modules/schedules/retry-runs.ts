import type { MetadataDb } from '../../db/client.js';
import type { JobRow } from '../../db/schema.js';
import { scheduleRunRepository } from './schedule-run-repository.js';

/**
 * The wait before each retry of a failed scheduled backup: 1 minute before the second attempt (a
 * target restarting), 5 before the third, 15 before each later one (an outage takes longer).
 */
export const RETRY_BACKOFF_MS: readonly number[] = [60_000, 5 * 60_000, 15 * 60_000];

/** How long after failed attempt `attempt` (1, 2, ...) the next one is due. */
export function retryDelayMs(attempt: number): number {
  return RETRY_BACKOFF_MS[Math.min(Math.max(attempt, 1), RETRY_BACKOFF_MS.length) - 1]!;
}

/** Plans the slot's next attempt after its attempt `attempt` failed at `failedAt`, if its schedule allows one. */
export function planRetry(db: Pick<MetadataDb, 'update'>, runId: string, attempt: number, failedAt: Date) {
  return scheduleRunRepository.planRetry(db, runId, attempt, new Date(failedAt.getTime() + retryDelayMs(attempt)));
}

/**
 * Runs in the transaction that ends a job (JobWorker.finish): a scheduled backup that failed,
 * `job/interrupted` after a kill included (a cancel is a person's choice and is not retried), gets
 * its slot's retry. A job ends once (only an active row is ended), so the retry is planned once,
 * whichever instance ends it; the tick queues it when due (tick-schedules.ts).
 */
export async function planRetryOfEndedJob(tx: Pick<MetadataDb, 'update'>, job: JobRow): Promise<void> {
  if (job.kind !== 'backup' || job.state !== 'failed' || !job.scheduleRunId || !job.finishedAt) return;
  await planRetry(tx, job.scheduleRunId, job.attempt, job.finishedAt);
}
