import { Repeater, SlidingBuffer } from 'graphql-yoga';
import type { JobRow } from '../db/schema.js';
import type { JobEvents } from '../jobs/job-events.js';
import { ACTIVE_STATES, type JobProgress, type JobState } from '../jobs/job-types.js';
import type { JobsModule } from '../modules/jobs/index.js';

// The streams behind the job subscriptions. None of them polls: all listen to app.events, the one
// in-process emitter the job runner publishes to, so a subscriber costs one or two primary-key reads
// when it starts and an in-memory callback per event afterwards, however many follow the same job.
// They use sliding buffers: a client that reads slowly skips superseded values instead of piling
// them up, and push() never throws (a plain Repeater does past 1024 values) into the publisher,
// which is the running job's own progress callback.

/** Every row is a complete snapshot, so a slow reader only needs the newest. */
const PROGRESS_BUFFER = 1;
/** State changes are not superseded by later ones; only a reader this far behind loses the oldest. */
const STATE_BUFFER = 1000;

/** The part of the app the streams use. */
export interface JobSource {
  events: JobEvents;
  jobs: Pick<JobsModule, 'get'>;
}

const isActive = (job: JobRow) => ACTIVE_STATES.includes(job.state as JobState);

/** The job now, then on every progress update and state change; ends after a terminal state. */
export async function followJob(app: JobSource, jobId: string): Promise<AsyncIterable<JobRow>> {
  // Read before returning a stream, so an unknown id is a GraphQL error (job/not-found).
  const job = await app.jobs.get(jobId);
  if (!isActive(job)) return finished(job);
  return new Repeater<JobRow>(async (push, stop) => {
    let current: JobRow | null = null;
    const held: Held = {};
    const send = (row: JobRow) => {
      current = row;
      void push(row);
      if (!isActive(row)) stop();
    };
    const unsubscribe = app.events.subscribe((event) => {
      if (event.type === 'state' && event.job.id === jobId) {
        // A state row carries the persisted progress, up to a second behind the published one.
        if (current) send(isActive(event.job) ? { ...event.job, progress: current.progress } : event.job);
        else held.state = event.job;
      } else if (event.type === 'progress' && event.jobId === jobId) {
        if (current) send({ ...current, progress: event.progress });
        else held.progress = event.progress;
      }
    });
    try {
      // Read again now that we listen, or a change since the first read could be missed.
      send(newest(await app.jobs.get(jobId), held));
      await stop;
    } finally {
      unsubscribe();
    }
  }, new SlidingBuffer(PROGRESS_BUFFER));
}

/** Every job state change (created, finished) from now on. */
export function jobStateChanges(app: Pick<JobSource, 'events'>): AsyncIterable<JobRow> {
  return new Repeater<JobRow>(async (push, stop) => {
    const unsubscribe = app.events.subscribe((event) => {
      if (event.type === 'state') void push(event.job);
    });
    await stop;
    unsubscribe();
  }, new SlidingBuffer(STATE_BUFFER));
}

async function* finished(job: JobRow): AsyncIterable<JobRow> {
  yield job;
}

/** What the events said while the row was being read: never older than the row. */
interface Held {
  state?: JobRow;
  progress?: JobProgress;
}

/**
 * Merges a row with the events held while reading it, so the first value is the newest state and
 * progress never goes back: the persisted progress lags the published one by up to a second.
 */
function newest(row: JobRow, held: Held): JobRow {
  if (!isActive(row)) return row;
  const state = held.state ?? row;
  return held.progress && isActive(state) ? { ...state, progress: held.progress } : state;
}
