import { and, eq } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { type JobRow, jobs } from '../../db/schema.js';
import { scheduleRunRepository } from './schedule-run-repository.js';

export interface JobAttempts {
  /** This job's attempt at its slot: 1, then 2 for the first retry, ... */
  attempt: number;
  /** How many attempts its schedule allows now (retry_limit + 1); null: the schedule is gone. */
  maxAttempts: number | null;
  /** When the slot's next attempt is due, if this job is its last one and it failed with retries left. */
  nextRetryAt: Date | null;
  /** The failed attempt this one retries. */
  retryOf: string | null;
}

/** A scheduled backup's place among its slot's attempts ("attempt 2 of 3"); null for a job without a slot. */
export async function jobAttempts(db: MetadataDb, job: JobRow): Promise<JobAttempts | null> {
  if (!job.scheduleRunId) return null;
  const state = await scheduleRunRepository.retryState(db, job.scheduleRunId);
  const [previous] =
    job.attempt > 1
      ? await db
          .select({ id: jobs.id })
          .from(jobs)
          .where(and(eq(jobs.scheduleRunId, job.scheduleRunId), eq(jobs.attempt, job.attempt - 1)))
      : [];
  return {
    attempt: job.attempt,
    maxAttempts: state?.retryLimit == null ? null : Math.max(state.retryLimit + 1, job.attempt),
    // The slot's attempt counter moves on when a retry is claimed: only its current job shows the next.
    nextRetryAt: state && state.attempt === job.attempt ? state.retryAt : null,
    retryOf: previous?.id ?? null,
  };
}
