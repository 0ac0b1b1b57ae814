import { EventEmitter } from 'node:events';
import { eq } from 'drizzle-orm';
import type { Sql } from 'postgres';
import type { MetadataDb } from '../db/client.js';
import { notifyChannel } from '../db/notify-channel.js';
import { type JobRow, jobs } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { JobProgress } from './job-types.js';

export type JobEvent = { type: 'state'; job: JobRow } | { type: 'progress'; jobId: string; progress: JobProgress };

/** Fan-out of job changes; the GraphQL layer and the CLI's display subscribe through this. */
export interface JobEvents {
  publish(event: JobEvent): void;
  subscribe(listener: (event: JobEvent) => void): () => void;
}

/** Within this process only. */
export function createJobEvents(): JobEvents {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0); // one per subscriber; hundreds are expected
  return {
    publish: (event) => emitter.emit('event', event),
    subscribe(listener) {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
  };
}

/** Every process of one installation (the server, CLIs) listens here, in the metadata database. */
const CHANNEL = 'pgbs_job_events';

/** A state change travels as the job's id and is read back from its row, which can outgrow a NOTIFY. */
type Notice = { jobId: string; progress?: JobProgress };

/**
 * Job changes from this process's jobs and, through the metadata database, from other processes'
 * (a restore the CLI runs, followed in the panel). A job's row is written before its change is
 * published. Without the relay a job of another process showed its first snapshot and then
 * nothing, never ending.
 */
export async function createSharedJobEvents(deps: { sql: Sql; db: MetadataDb; logger: Logger }): Promise<JobEvents> {
  const local = createJobEvents();
  const send = await notifyChannel<Notice>(deps, CHANNEL, async (notice) => {
    if (notice.progress) {
      local.publish({ type: 'progress', jobId: notice.jobId, progress: notice.progress });
      return;
    }
    const [job] = await deps.db.select().from(jobs).where(eq(jobs.id, notice.jobId));
    if (job) local.publish({ type: 'state', job });
  });
  return {
    publish(event) {
      local.publish(event);
      send(event.type === 'state' ? { jobId: event.job.id } : { jobId: event.jobId, progress: event.progress });
    },
    subscribe: local.subscribe,
  };
}
