import { describe, expect, it, vi } from 'vitest';
import type { JobRow } from '../../src/db/schema.js';
import { ServiceError } from '../../src/errors/service-error.js';
import { followJob, jobStateChanges } from '../../src/graphql/job-streams.js';
import { type JobEvents, createJobEvents } from '../../src/jobs/job-events.js';
import type { JobProgress } from '../../src/jobs/job-types.js';

const JOB_ID = '11111111-1111-4111-8111-111111111111';

function snapshot(percent: number): JobProgress {
  return {
    phase: 'data',
    percent,
    currentTable: null,
    tablesDone: 0,
    tablesTotal: 1,
    bytes: 0,
    etaSeconds: null,
    updatedAt: '',
  };
}

function job(state: string, percent: number | null): JobRow {
  return {
    id: JOB_ID,
    kind: 'backup',
    state,
    backupId: null,
    targetId: null,
    scheduleRunId: null,
    instanceId: null,
    lockKey: null,
    activityAt: null,
    attempt: 1,
    params: {},
    progress: percent === null ? null : snapshot(percent),
    errorCode: null,
    errorMessage: null,
    errorEntry: null,
    partialRef: null,
    cancelRequested: false,
    requestedBy: null,
    createdAt: new Date(0),
    startedAt: new Date(0),
    finishedAt: null,
  };
}

/** Real job events that count their listeners. */
function countedEvents(): JobEvents & { listeners: number } {
  const events = createJobEvents();
  const counted = {
    listeners: 0,
    publish: events.publish,
    subscribe(listener: Parameters<JobEvents['subscribe']>[0]) {
      counted.listeners++;
      const unsubscribe = events.subscribe(listener);
      return () => {
        counted.listeners--;
        unsubscribe();
      };
    },
  };
  return counted;
}

const progress = (percent: number) => ({ type: 'progress' as const, jobId: JOB_ID, progress: snapshot(percent) });

async function rest(stream: AsyncIterator<JobRow>): Promise<JobRow[]> {
  const values: JobRow[] = [];
  for (let next = await stream.next(); !next.done; next = await stream.next()) values.push(next.value);
  return values;
}

describe('followJob', () => {
  it('starts with the newest state, merging what was published while it read the row', async () => {
    const events = countedEvents();
    const get = vi
      .fn()
      .mockResolvedValueOnce(job('running', 10))
      .mockImplementationOnce(async () => {
        events.publish(progress(40));
        return job('running', 10); // progress is persisted about once a second: older than the event
      });
    const stream = (await followJob({ events, jobs: { get } }, JOB_ID))[Symbol.asyncIterator]();

    expect((await stream.next()).value).toMatchObject({ state: 'running', progress: snapshot(40) });
    events.publish(progress(50));
    expect((await stream.next()).value).toMatchObject({ state: 'running', progress: snapshot(50) });
    events.publish({ type: 'state', job: job('succeeded', 100) });
    expect(await rest(stream)).toMatchObject([{ state: 'succeeded', progress: snapshot(100) }]);
    expect(events.listeners).toBe(0);
  });

  it('gives a finished job at once and ends, without listening', async () => {
    const events = countedEvents();
    const get = vi.fn().mockResolvedValue(job('failed', 30));
    const stream = (await followJob({ events, jobs: { get } }, JOB_ID))[Symbol.asyncIterator]();
    expect(await rest(stream)).toMatchObject([{ state: 'failed' }]);
    expect(get).toHaveBeenCalledTimes(1);
    expect(events.listeners).toBe(0);
  });

  it('fails at once for an unknown job', async () => {
    const get = vi.fn().mockRejectedValue(new ServiceError('job/not-found', 'No job.'));
    await expect(followJob({ events: countedEvents(), jobs: { get } }, JOB_ID)).rejects.toMatchObject({
      code: 'job/not-found',
    });
  });

  it('lets a slow reader skip superseded snapshots, never throwing into the publisher', async () => {
    const events = countedEvents();
    const get = vi.fn().mockResolvedValue(job('running', 0));
    const stream = (await followJob({ events, jobs: { get } }, JOB_ID))[Symbol.asyncIterator]();
    await stream.next();
    // A plain Repeater throws past 1024 unread values, into the job's progress callback.
    for (let i = 1; i <= 5000; i++) events.publish(progress(i / 100));
    events.publish({ type: 'state', job: job('succeeded', 100) });
    expect((await rest(stream)).at(-1)).toMatchObject({ state: 'succeeded' });
    expect(events.listeners).toBe(0);
  });

  it('stops listening when the reader leaves', async () => {
    const events = countedEvents();
    const get = vi.fn().mockResolvedValue(job('running', 0));
    const stream = (await followJob({ events, jobs: { get } }, JOB_ID))[Symbol.asyncIterator]();
    await stream.next();
    expect(events.listeners).toBe(1);
    await stream.return!();
    expect(events.listeners).toBe(0);
  });
});

describe('jobStateChanges', () => {
  it('keeps up to a thousand unread state changes without throwing into the publisher', async () => {
    const events = countedEvents();
    const stream = jobStateChanges({ events })[Symbol.asyncIterator]();
    const first = stream.next(); // starts listening
    for (let i = 0; i < 2000; i++) events.publish({ type: 'state', job: { ...job('running', null), id: String(i) } });
    events.publish(progress(50)); // not a state change
    expect((await first).value).toMatchObject({ id: '0' });
    expect((await stream.next()).value).toMatchObject({ id: '1000' });
    await stream.return!();
    expect(events.listeners).toBe(0);
  });
});
