import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { eq } from 'drizzle-orm';
import type { Sql } from 'postgres';
import type { MetadataDb } from '../db/client.js';
import { type JobRow, jobs } from '../db/schema.js';
import type { Logger } from '../logger.js';

export type JobEvent =
  { type: 'state'; job: JobRow } | { type: 'progress'; jobId: string; progress: Record<string, unknown> };

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

interface Notice {
  /** The publishing process, which has already delivered the event to its own subscribers. */
  from: string;
  jobId: string;
  progress?: Record<string, unknown>;
}

/**
 * Job changes from this process's jobs and, through LISTEN/NOTIFY on the metadata database, from
 * other processes' (a restore the CLI runs, followed in the panel). A state change travels as the
 * job's id and is read back from its row, which is written before it is published: a row can
 * outgrow NOTIFY's 8000-byte payload. Without the relay a job of another process showed its first
 * snapshot and then nothing, never ending. The metadata database being unreachable only costs the
 * other processes' live updates (logged once per outage).
 */
export async function createSharedJobEvents(deps: { sql: Sql; db: MetadataDb; logger: Logger }): Promise<JobEvents> {
  const local = createJobEvents();
  const self = randomUUID();
  let failing = false;
  const relay = async (payload: string) => {
    try {
      const notice = JSON.parse(payload) as Notice;
      if (notice.from === self) return;
      if (notice.progress) {
        local.publish({ type: 'progress', jobId: notice.jobId, progress: notice.progress });
        return;
      }
      const [job] = await deps.db.select().from(jobs).where(eq(jobs.id, notice.jobId));
      if (job) local.publish({ type: 'state', job });
    } catch (error) {
      deps.logger.warn('could not relay a job event from another process', { error });
    }
  };
  await deps.sql.listen(CHANNEL, (payload) => void relay(payload));
  return {
    publish(event) {
      local.publish(event);
      const notice: Notice =
        event.type === 'state'
          ? { from: self, jobId: event.job.id }
          : { from: self, jobId: event.jobId, progress: event.progress };
      deps.sql.notify(CHANNEL, JSON.stringify(notice)).then(
        () => (failing = false),
        (error: unknown) => {
          if (!failing) deps.logger.warn('could not publish a job event to other processes', { error });
          failing = true;
        },
      );
    },
    subscribe: local.subscribe,
  };
}
