import type { MetadataDb } from '../../db/client.js';
import { scheduleRunRepository } from '../schedules/schedule-run-repository.js';
import type { TargetRef } from '../schedules/target-lookup.js';
import { retentionRepository } from './retention-repository.js';

export const DEFAULT_FAILED_RUNS_GUARD = 3;

export interface RetentionGuard {
  /** No pruning: the last `threshold` scheduled runs all failed. */
  blocked: boolean;
  /** How many of the newest scheduled runs failed in a row. */
  failedRuns: number;
  /** The policy's failed_runs_guard (0: the guard is off). */
  threshold: number;
}

/**
 * pgbackweb #121: backups failed for days, then retention deleted every good one. A target whose
 * last N scheduled runs all failed is not pruned until one succeeds; the dashboard shows it.
 * A run still queued or running, skipped or missed is no failure; nor is one whose last attempt
 * failed while a retry is still due (a slot fails only when its last attempt did).
 */
export async function retentionGuard(db: MetadataDb, target: TargetRef): Promise<RetentionGuard> {
  const policy = await retentionRepository.policyOf(db, target);
  const threshold = policy?.failedRunsGuard ?? DEFAULT_FAILED_RUNS_GUARD;
  const runs = await scheduleRunRepository.lastRan(db, target.id, Math.max(threshold, 1));
  // A run that could not even be queued (outcome failed, no job) failed too.
  const failedInARow = runs.findIndex(
    (run) => run.retryAt !== null || (run.jobId !== null && run.jobState !== 'failed'),
  );
  const failedRuns = failedInARow === -1 ? runs.length : failedInARow;
  return { blocked: threshold > 0 && failedRuns >= threshold, failedRuns, threshold };
}
