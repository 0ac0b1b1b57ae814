import type { Clock } from '@pgbs/engine';
import type { JobRow } from '../../db/schema.js';
import type { JobEvents } from '../../jobs/job-events.js';
import type { JobKind } from '../../jobs/job-types.js';
import { cancelJob } from './cancel-job.js';
import { type EnqueueDeps, type JobRequest, type StartedJob, enqueueJob } from './enqueue-job.js';
import type { JobsRepository } from '../../jobs/jobs-repository.js';
import { waitForJob } from './wait-for-job.js';

export type { StartedJob } from './enqueue-job.js';

/** The job operations: queue one and follow it, read, list, cancel. */
export function jobsModule(deps: EnqueueDeps & { clock: Clock; events: JobEvents; jobs: JobsRepository }) {
  return {
    get: (id: string) => deps.jobs.get(id),
    list: (options: { limit: number; offset: number; targetId?: string | null }) => deps.jobs.list(options),
    cancel: (id: string) => cancelJob(deps, id),
    waitFor: (id: string) => waitForJob(deps, id),
    async start<K extends JobKind>(request: JobRequest<K>): Promise<StartedJob> {
      const job = await enqueueJob(deps, request);
      // Followed only when asked: a schedule queues many jobs and waits for none.
      let done: Promise<JobRow> | undefined;
      return {
        job,
        get done() {
          return (done ??= waitForJob(deps, job.id));
        },
      };
    },
  };
}

export type JobsModule = ReturnType<typeof jobsModule>;
