import { randomUUID } from 'node:crypto';
import type { Clock } from '@pgbs/engine';
import { withSql } from '@pgbs/test-support';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createMetadataDb } from '../../src/db/client.js';
import { type JobRow, auditEvents, jobs, scheduleRuns, schedules, targets } from '../../src/db/schema.js';
import { queueBackups } from '../../src/modules/schedules/queue-backups.js';
import { createSchedules } from '../../src/modules/schedules/schedules.js';
import { type TestEnv, createTestEnv, silentLogger, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const MINUTE = 60_000;
let env: TestEnv;
let app: App;
let target: { id: string; name: string };

/** A clock the test moves; the database, the queue, the worker and pg_dump are real. */
function testClock(start: number): Clock & { set(ms: number): void } {
  let now = start;
  return { now: () => now, setTimeout: () => ({ cancel() {} }), set: (ms) => (now = ms) };
}

/** The schedule operations as an instance would run them, on a pool of their own and the test's clock. */
function instance(clock: Clock, db: App['db'] = app.db) {
  return createSchedules({ db, queue: queueBackups(db, app.backups), clock, audit: app.audit, logger: silentLogger });
}

/** A table the target's role may not read: pg_dump fails on it (permission denied), a real failure. */
const breakTarget = () =>
  withSql(env.target.adminUrl, (sql) => sql.unsafe('CREATE TABLE IF NOT EXISTS public.forbidden (x int)'));
const repairTarget = () => withSql(env.target.adminUrl, (sql) => sql.unsafe('DROP TABLE IF EXISTS public.forbidden'));

const runOf = async (id: string) => (await app.db.select().from(scheduleRuns).where(eq(scheduleRuns.id, id)))[0]!;
const jobsOfRun = (id: string) =>
  app.db.select().from(jobs).where(eq(jobs.scheduleRunId, id)).orderBy(asc(jobs.attempt));
const ended = (job: JobRow | string) => app.jobs.waitFor(typeof job === 'string' ? job : job.id);
const retryAudits = () =>
  app.db.select().from(auditEvents).where(eq(auditEvents.action, 'schedule.retry')).orderBy(asc(auditEvents.id));

/**
 * Sets the env target's schedule to a daily slot one minute ahead and ticks at it: the slot runs
 * a real backup job, which this returns with its slot. Daily, so no other slot comes in the test.
 */
async function firstAttempt(retries: number) {
  const now = Date.now();
  const slot = new Date(Math.floor(now / MINUTE) * MINUTE + MINUTE);
  const clock = testClock(now);
  const ops = instance(clock);
  await ops.set(
    { target: target.name, cron: `${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`, retries },
    { name: 'tester' },
  );
  clock.set(slot.getTime() + 1000);
  const report = await ops.tick();
  expect(report.ran).toHaveLength(1);
  const run = report.ran[0]!;
  return { clock, ops, run, job: await ended(run.jobId!) };
}

beforeAll(async () => {
  env = await createTestEnv(adminUrl, 'retry');
  app = await env.startApp({}, { scheduleTicker: false });
  const [row] = await app.db.select().from(targets).where(eq(targets.managedBy, 'env'));
  target = { id: row!.id, name: row!.name };
});
afterAll(async () => env?.cleanup());
beforeEach(async () => {
  await repairTarget();
  await app.db.delete(scheduleRuns);
  await app.db.delete(schedules);
  await app.db.delete(jobs);
  await app.db.delete(auditEvents);
});

describe('retries of failed scheduled backups', () => {
  it('retries a failing backup exactly retry_limit times, once across instances, then the slot ends failed', async () => {
    await breakTarget();
    const { clock, run, job: first } = await firstAttempt(2);
    expect(first).toMatchObject({ state: 'failed', attempt: 1, scheduleRunId: run.id });
    // Planned in the transaction that ended the job: 1 minute after the failure.
    let record = await runOf(run.id);
    expect(record.retryAt!.getTime()).toBe(first.finishedAt!.getTime() + MINUTE);
    expect(await app.schedules.attemptsOf(first)).toEqual({
      attempt: 1,
      maxAttempts: 3,
      nextRetryAt: record.retryAt,
      retryOf: null,
    });
    // A retry still due is no failed run for retention's guard.
    expect((await app.retention.guard(target.id)).failedRuns).toBe(0);

    // Not due yet: nothing.
    clock.set(record.retryAt!.getTime() - 1000);
    expect((await instance(clock).tick()).retries).toEqual([]);

    // Due: two instances tick at once, one retry is queued.
    clock.set(record.retryAt!.getTime() + 1000);
    const pools = [createMetadataDb(env.metadata.url), createMetadataDb(env.metadata.url)];
    let second: JobRow;
    try {
      const reports = await Promise.all(pools.map((pool) => instance(clock, pool.db).tick()));
      const retries = reports.flatMap((report) => report.retries);
      expect(retries.map((retry) => [retry.outcome, retry.attempt])).toEqual([['ran', 2]]);
      second = await ended(retries[0]!.jobId!);
    } finally {
      await Promise.all(pools.map((pool) => pool.close()));
    }
    expect(second).toMatchObject({ state: 'failed', attempt: 2, scheduleRunId: run.id, targetId: target.id });
    record = await runOf(run.id);
    expect(record).toMatchObject({ outcome: 'ran', attempt: 2, jobId: second.id });
    // Then 5 minutes.
    expect(record.retryAt!.getTime()).toBe(second.finishedAt!.getTime() + 5 * MINUTE);
    expect(await app.schedules.attemptsOf(first)).toMatchObject({ nextRetryAt: null });

    clock.set(record.retryAt!.getTime() + 1000);
    const third = await ended((await instance(clock).tick()).retries[0]!.jobId!);
    expect(third).toMatchObject({ state: 'failed', attempt: 3 });
    // Two retries made: the slot ends failed, with its last attempt.
    record = await runOf(run.id);
    expect(record).toMatchObject({ outcome: 'ran', attempt: 3, jobId: third.id, retryAt: null });
    expect(await app.schedules.attemptsOf(third)).toEqual({
      attempt: 3,
      maxAttempts: 3,
      nextRetryAt: null,
      retryOf: second.id,
    });
    clock.set(clock.now() + 60 * MINUTE);
    expect((await instance(clock).tick()).retries).toEqual([]);
    expect((await jobsOfRun(run.id)).map((job) => [job.attempt, job.state])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    expect((await app.retention.guard(target.id)).failedRuns).toBe(1);
    expect((await retryAudits()).map((event) => [event.outcome, event.details])).toEqual([
      ['succeeded', expect.objectContaining({ attempt: 2, result: 'ran', jobId: second.id, failedJobId: first.id })],
      ['succeeded', expect.objectContaining({ attempt: 3, result: 'ran', jobId: third.id, failedJobId: second.id })],
    ]);
  });

  it('ends the slot ran and succeeded when a retry succeeds', async () => {
    await breakTarget();
    const { clock, run, job: first } = await firstAttempt(1);
    expect(first.state).toBe('failed');
    await repairTarget();
    clock.set((await runOf(run.id)).retryAt!.getTime() + 1000);
    const second = await ended((await instance(clock).tick()).retries[0]!.jobId!);
    expect(second).toMatchObject({ state: 'succeeded', attempt: 2 });
    expect(await runOf(run.id)).toMatchObject({ outcome: 'ran', attempt: 2, jobId: second.id, retryAt: null });
    const [recent] = await app.schedules.recentRuns(target.id, 1);
    expect(recent).toMatchObject({ outcome: 'ran', jobState: 'succeeded', attempt: 2 });
    expect((await app.retention.guard(target.id)).failedRuns).toBe(0);
  });

  it('does not retry with retry_limit 0', async () => {
    await breakTarget();
    const { clock, run, job } = await firstAttempt(0);
    expect(job.state).toBe('failed');
    expect((await runOf(run.id)).retryAt).toBeNull();
    expect(await app.schedules.attemptsOf(job)).toMatchObject({ attempt: 1, maxAttempts: 1, nextRetryAt: null });
    clock.set(clock.now() + 60 * MINUTE);
    expect((await instance(clock).tick()).retries).toEqual([]);
    expect(await jobsOfRun(run.id)).toHaveLength(1);
    expect((await app.retention.guard(target.id)).failedRuns).toBe(1);
  });

  it('retries a slot whose backup could not even be queued (the target refuses the connection)', async () => {
    const down = randomUUID();
    await app.db
      .insert(targets)
      .values({ id: down, name: 'down', kind: 'database', url: 'postgres://u@127.0.0.1:1/x' });
    try {
      const now = Date.now();
      const clock = testClock(now);
      const ops = instance(clock);
      await ops.set({ target: 'down', cron: '* * * * *', retries: 1 }, { name: 'tester' });
      clock.set(Math.floor(now / MINUTE) * MINUTE + MINUTE + 1000);
      const [failed] = (await ops.tick()).failed;
      expect(failed).toMatchObject({ attempt: 1 });
      expect((await runOf(failed!.id)).retryAt!.getTime()).toBe(clock.now() + MINUTE);
      // The retry comes with the next minute's slot: the slot goes first, the retry fails again.
      clock.set(clock.now() + MINUTE);
      const report = await ops.tick();
      expect(report.failed).toHaveLength(1);
      expect(report.retries.map((retry) => [retry.id, retry.outcome, retry.attempt])).toEqual([
        [failed!.id, 'failed', 2],
      ]);
      expect(await runOf(failed!.id)).toMatchObject({ outcome: 'failed', attempt: 2, retryAt: null, jobId: null });
      expect(await app.db.select().from(jobs)).toEqual([]);
      const [audit] = await retryAudits();
      expect(audit).toMatchObject({ outcome: 'failed', targetId: down, details: { attempt: 2, result: 'failed' } });
    } finally {
      await app.db.delete(targets).where(eq(targets.id, down));
    }
  });

  it('skips a due retry while another backup of the target runs, and records it; a pause drops due retries', async () => {
    await app.db.insert(schedules).values({ targetId: target.id, cron: '0 3 * * *', lastSlotAt: new Date() });
    const failedJob = randomUUID();
    const busyJob = randomUUID();
    await app.db.insert(jobs).values([
      { id: failedJob, kind: 'backup', state: 'failed', targetId: target.id },
      { id: busyJob, kind: 'backup', state: 'running', targetId: target.id, instanceId: app.instanceId },
    ]);
    const due = (slot: string, retryAt: Date) => ({
      id: randomUUID(),
      scheduleTargetId: target.id,
      targetId: target.id,
      slotAt: new Date(slot),
      outcome: 'ran',
      jobId: failedJob,
      retryAt,
    });
    const now = Date.now();
    const overlapping = due('2026-01-01T03:00:00Z', new Date(now - 1000));
    await app.db.insert(scheduleRuns).values(overlapping);
    const report = await instance(testClock(now)).tick();
    expect(report.retries.map((retry) => [retry.outcome, retry.attempt])).toEqual([['skipped-overlap', 2]]);
    expect(await runOf(overlapping.id)).toMatchObject({ outcome: 'skipped-overlap', retryAt: null, jobId: failedJob });
    expect(await app.db.select().from(jobs)).toHaveLength(2);
    const [audit] = await retryAudits();
    expect(audit).toMatchObject({ outcome: 'failed', details: { result: 'skipped-overlap', failedJobId: failedJob } });

    const paused = due('2026-01-02T03:00:00Z', new Date(now + MINUTE));
    await app.db.insert(scheduleRuns).values(paused);
    await instance(testClock(now)).pause(target.name, { name: 'tester' });
    expect((await runOf(paused.id)).retryAt).toBeNull();
    await app.db.update(jobs).set({ state: 'cancelled' }).where(eq(jobs.id, busyJob));
  });

  it('queues one backup when a fresh slot on one instance and a due retry on another race for the target', async () => {
    const now = Date.now();
    const slot = new Date(Math.floor(now / MINUTE) * MINUTE);
    await app.db.insert(schedules).values({
      targetId: target.id,
      cron: `${slot.getUTCMinutes()} ${slot.getUTCHours()} * * *`,
      lastSlotAt: new Date(slot.getTime() - MINUTE),
    });
    const failedJob = randomUUID();
    await app.db.insert(jobs).values({ id: failedJob, kind: 'backup', state: 'failed', targetId: target.id });
    await app.db.insert(scheduleRuns).values({
      id: randomUUID(),
      scheduleTargetId: target.id,
      targetId: target.id,
      slotAt: new Date(slot.getTime() - 24 * 60 * MINUTE),
      outcome: 'ran',
      jobId: failedJob,
      retryAt: new Date(now - 1000),
    });
    // Both instances have claimed their run (one the slot, the other the retry) before either
    // queues: what two instances ticking at the same moment do.
    let arrived = 0;
    let bothArrived!: () => void;
    const barrier = new Promise<void>((resolve) => (bothArrived = resolve));
    const pools = [createMetadataDb(env.metadata.url), createMetadataDb(env.metadata.url)];
    try {
      const reports = await Promise.all(
        pools.map(({ db }) => {
          const queue = queueBackups(db, app.backups);
          const racing = {
            ...queue,
            async enqueueSlotBackup(request: Parameters<typeof queue.enqueueSlotBackup>[0]) {
              if (++arrived === 2) bothArrived();
              await Promise.race([barrier, new Promise((resolve) => setTimeout(resolve, 10_000))]);
              return queue.enqueueSlotBackup(request);
            },
          };
          return createSchedules({
            db,
            queue: racing,
            clock: testClock(now),
            audit: app.audit,
            logger: silentLogger,
          }).tick();
        }),
      );
      expect(arrived).toBe(2);
      const settled = reports.flatMap((report) => [...report.ran, ...report.skippedOverlap, ...report.retries]);
      expect(settled.map((run) => run.outcome).sort()).toEqual(['ran', 'skipped-overlap']);
      const queued = await app.db
        .select()
        .from(jobs)
        .where(and(eq(jobs.targetId, target.id), eq(jobs.kind, 'backup')));
      expect(queued.filter((job) => job.id !== failedJob)).toHaveLength(1);
      await ended(settled.find((run) => run.outcome === 'ran')!.jobId!);
    } finally {
      await Promise.all(pools.map((pool) => pool.close()));
    }
  });

  it('plans a retry for a scheduled backup its instance left behind (job/interrupted)', async () => {
    await app.db.insert(schedules).values({
      targetId: target.id,
      cron: '0 3 * * *',
      lastSlotAt: new Date(),
      retryLimit: 1,
    });
    const runId = randomUUID();
    const jobId = randomUUID();
    await app.db.insert(scheduleRuns).values({
      id: runId,
      scheduleTargetId: target.id,
      targetId: target.id,
      slotAt: new Date('2026-01-03T03:00:00Z'),
      outcome: 'ran',
      jobId,
    });
    // Running on an instance that is gone (never seen): the recovery loop fails it.
    await app.db.insert(jobs).values({
      id: jobId,
      kind: 'backup',
      state: 'running',
      targetId: target.id,
      scheduleRunId: runId,
      instanceId: randomUUID(),
    });
    const job = await waitFor('the recovery of the job', async () => {
      const [row] = await app.db
        .select()
        .from(jobs)
        .where(and(eq(jobs.id, jobId), eq(jobs.state, 'failed')));
      return row;
    });
    expect(job.errorCode).toBe('job/interrupted');
    expect((await runOf(runId)).retryAt!.getTime()).toBe(job.finishedAt!.getTime() + MINUTE);
  });
});
