import { ServiceError } from '../../errors/service-error.js';
import type { JobRow } from '../../db/schema.js';
import { ACTIVE_STATES, type JobState } from '../../jobs/job-types.js';
import type { JobWorker } from '../../jobs/job-worker.js';
import type { JobsRepository } from '../../jobs/jobs-repository.js';

/**
 * Cancels a job from any instance: here at once if it runs here; a queued one is ended now (its
 * queue entry is dropped when fetched); else the instance running it reads the request within a
 * second.
 */
export async function cancelJob(deps: { jobs: JobsRepository; worker: JobWorker }, jobId: string): Promise<JobRow> {
  const current = await deps.jobs.get(jobId);
  if (!ACTIVE_STATES.includes(current.state as JobState)) return current;
  if (deps.worker.cancelLocal(jobId)) return deps.jobs.get(jobId);
  if (current.state === 'queued') {
    const error = new ServiceError('job/cancelled', 'The job was cancelled before it started.');
    const ended = await deps.worker.finish(
      current,
      { state: 'cancelled', code: error.code, message: error.message },
      { onlyFrom: ['queued'] },
    );
    if (ended.state !== 'running') return ended; // else claimed meanwhile: ask its instance
  }
  await deps.jobs.requestCancel(jobId);
  return deps.jobs.get(jobId);
}
