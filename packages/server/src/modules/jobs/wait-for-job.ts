import type { Clock } from '@pgbs/engine';
import type { JobRow } from '../../db/schema.js';
import type { JobEvents } from '../../jobs/job-events.js';
import { ACTIVE_STATES, type JobState } from '../../jobs/job-types.js';
import type { JobWorker } from '../../jobs/job-worker.js';
import type { JobsRepository } from '../../jobs/jobs-repository.js';

/** A backstop for an end whose event was lost (the metadata database restarting). */
const POLL_MS = 2_000;

const isOver = (job: JobRow) => !ACTIVE_STATES.includes(job.state as JobState);

/**
 * The job's final row, from whichever instance runs it: this process's worker when it runs it
 * here (its end is audited by then), else the job's events, else its row read every 2 s.
 */
export function waitForJob(
  deps: { jobs: JobsRepository; events: JobEvents; worker: JobWorker; clock: Clock },
  jobId: string,
): Promise<JobRow> {
  return new Promise<JobRow>((resolve) => {
    let settled = false;
    let timer: { cancel(): void } | null = null;
    const settle = (job: JobRow) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      timer?.cancel();
      resolve(job);
    };
    const unsubscribe = deps.events.subscribe((event) => {
      if (event.type !== 'state' || event.job.id !== jobId) return;
      const local = deps.worker.whenDone(jobId);
      if (local) void local.then(settle);
      else if (isOver(event.job)) settle(event.job);
    });
    const poll = () => {
      timer = deps.clock.setTimeout(() => {
        void deps.jobs
          .find(jobId)
          .then((job) => {
            if (job && isOver(job) && !deps.worker.whenDone(jobId)) settle(job);
          })
          .catch(() => {})
          .finally(() => {
            if (!settled) poll();
          });
      }, POLL_MS);
    };
    poll();
  });
}
