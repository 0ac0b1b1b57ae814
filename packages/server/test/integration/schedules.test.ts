import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Clock, systemClock } from '@pgbs/engine';
import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createMetadataDb } from '../../src/db/client.js';
import {
  auditEvents,
  backups,
  jobs,
  retentionPolicies,
  scheduleRuns,
  schedules,
  targets,
} from '../../src/db/schema.js';
import { jobsRepository } from '../../src/jobs/jobs-repository.js';
import type { BackupQueue, EnqueueBackup } from '../../src/modules/schedules/ports.js';
import { scheduleJobReads } from '../../src/modules/schedules/queue-backups.js';
import { createSchedules } from '../../src/modules/schedules/schedules.js';
import { type TestEnv, codeOf, createTestEnv, silentLogger } from './harness.js';

const adminUrl = inject('pgAdminUrl');
let env: TestEnv;
let app: App;

/** A clock the test moves; the database is real. */
function testClock(start: string): Clock & { set(iso: string): void } {
  let now = new Date(start).getTime();
  return { now: () => now, setTimeout: () => ({ cancel() {} }), set: (iso) => (now = new Date(iso).getTime()) };
}

/**
 * The queue as the tick sees it, writing the queued job rows and nothing more: these targets'
 * URLs lead nowhere, and what is tested is the claiming of slots, not the backups.
 */
function queuedRowsOnly(db: App['db']): BackupQueue {
  const enqueueBackup = async (request: EnqueueBackup) => {
    const id = randomUUID();
    await db.insert(jobs).values({
      id,
      kind: 'backup',
      state: 'queued',
      targetId: request.targetId,
      scheduleRunId: request.scheduleRunId,
      params: { origin: request.origin },
      requestedBy: request.requestedBy,
    });
    return id;
  };
  return {
    ...scheduleJobReads(db),
    enqueueBackup,
    // As the real queue does, without its lock: no two claims of one target race here.
    async enqueueSlotBackup(request) {
      const [active] = await jobsRepository(db).activeOfTarget(db, request.targetId, 'backup');
      return active ? null : enqueueBackup(request);
    },
  };
}

async function addTarget(name: string, extra: Partial<typeof targets.$inferInsert> = {}): Promise<string> {
  const id = randomUUID();
  await app.db.insert(targets).values({ id, name, kind: 'database', url: `postgres://u@localhost/${name}`, ...extra });
  return id;
}

async function addSchedule(targetId: string, cron: string, lastSlotAt: string, missedPolicy = 'run-once') {
  await app.db.insert(schedules).values({ targetId, cron, missedPolicy, lastSlotAt: new Date(lastSlotAt) });
}

const runsOf = (targetId: string) =>
  app.db.select().from(scheduleRuns).where(eq(scheduleRuns.targetId, targetId)).orderBy(asc(scheduleRuns.slotAt));

beforeAll(async () => {
  env = await createTestEnv(adminUrl, 'sched');
  // The tests tick with clocks of their own; the app's real-time ticker would claim their slots too.
  app = await env.startApp({}, { scheduleTicker: false });
});
afterAll(async () => env?.cleanup());
beforeEach(async () => {
  await app.db.delete(scheduleRuns);
  await app.db.delete(jobs);
  await app.db.delete(backups);
  await app.db.delete(targets);
});

describe('tick', () => {
  it('leaves exactly one record per due slot and target when four instances tick at once', async () => {
    const a = await addTarget('alpha');
    const b = await addTarget('beta');
    const server = await addTarget('server', { kind: 'server' });
    const c1 = await addTarget('server/db1', { parentId: server });
    const c2 = await addTarget('server/db2', { parentId: server });
    await addTarget('server/off', { parentId: server, enabled: false });
    for (const id of [a, b, server]) await addSchedule(id, '* * * * *', '2026-05-01T10:00:00Z');

    const clock = testClock('2026-05-01T10:10:20Z');
    const pools = Array.from({ length: 4 }, () => createMetadataDb(env.metadata.url));
    try {
      const tickers = pools.map(({ db }) =>
        createSchedules({ db, queue: queuedRowsOnly(db), clock, audit: app.audit, logger: silentLogger }),
      );
      const reports = await Promise.all(tickers.map((ticker) => ticker.tick()));
      // Ten slots each (10:01 … 10:10): nine missed, the newest ran (run-once).
      for (const target of [a, b, c1, c2]) {
        const runs = await runsOf(target);
        expect(runs.map((run) => run.slotAt.toISOString().slice(11, 16))).toEqual(
          Array.from({ length: 10 }, (_, i) => `10:${String(i + 1).padStart(2, '0')}`),
        );
        expect(runs.filter((run) => run.outcome === 'missed')).toHaveLength(9);
        const ran = runs.filter((run) => run.outcome === 'ran');
        expect(ran).toHaveLength(1);
        const [job] = await app.db.select().from(jobs).where(eq(jobs.id, ran[0]!.jobId!));
        expect(job).toMatchObject({ kind: 'backup', state: 'queued', targetId: target, scheduleRunId: ran[0]!.id });
      }
      expect(reports.flatMap((report) => report.ran)).toHaveLength(4);
      expect(reports.reduce((sum, report) => sum + report.missed, 0)).toBe(36);
      expect(await app.db.select().from(jobs)).toHaveLength(4);
      const serverRuns = await app.db.select().from(scheduleRuns).where(eq(scheduleRuns.scheduleTargetId, server));
      expect(new Set(serverRuns.map((run) => run.targetId))).toEqual(new Set([c1, c2]));

      // The next minute: the backups queued at 10:10 are still going, so 10:11 is skipped for overlap.
      clock.set('2026-05-01T10:11:02Z');
      await Promise.all(tickers.map((ticker) => ticker.tick()));
      const overlap = await app.db
        .select()
        .from(scheduleRuns)
        .where(eq(scheduleRuns.slotAt, new Date('2026-05-01T10:11:00Z')));
      expect(overlap.map((run) => run.outcome)).toEqual([
        'skipped-overlap',
        'skipped-overlap',
        'skipped-overlap',
        'skipped-overlap',
      ]);
      expect(await app.db.select().from(jobs)).toHaveLength(4);

      // Once they finished, 10:12 runs again, once per target.
      await app.db.update(jobs).set({ state: 'succeeded' });
      clock.set('2026-05-01T10:12:01Z');
      await Promise.all(tickers.map((ticker) => ticker.tick()));
      const next = await app.db
        .select()
        .from(scheduleRuns)
        .where(eq(scheduleRuns.slotAt, new Date('2026-05-01T10:12:00Z')));
      expect(next.map((run) => run.outcome)).toEqual(['ran', 'ran', 'ran', 'ran']);
      expect(await app.db.select().from(jobs)).toHaveLength(8);
    } finally {
      await Promise.all(pools.map((pool) => pool.close()));
    }
  });

  it('under skip, records slots missed during an outage and runs nothing', async () => {
    const a = await addTarget('alpha');
    await addSchedule(a, '0 * * * *', '2026-05-01T04:00:00Z', 'skip');
    const clock = testClock('2026-05-01T10:30:00Z');
    const ticker = createSchedules({
      db: app.db,
      queue: queuedRowsOnly(app.db),
      clock,
      audit: app.audit,
      logger: silentLogger,
    });
    const report = await ticker.tick();
    expect(report).toMatchObject({ ran: [], skippedOverlap: [], missed: 6 });
    expect((await runsOf(a)).map((run) => run.outcome)).toEqual(Array(6).fill('missed'));
    expect(await app.db.select().from(jobs)).toEqual([]);
    // Nothing is due twice.
    expect(await ticker.tick()).toMatchObject({ ran: [], missed: 0 });
  });

  it('ignores paused schedules and disabled targets, and counts from the resume', async () => {
    const a = await addTarget('alpha');
    const off = await addTarget('off', { enabled: false });
    await addSchedule(a, '* * * * *', '2026-05-01T10:00:00Z');
    await addSchedule(off, '* * * * *', '2026-05-01T10:00:00Z');
    const clock = testClock('2026-05-01T10:05:10Z');
    const ticker = createSchedules({
      db: app.db,
      queue: queuedRowsOnly(app.db),
      clock,
      audit: app.audit,
      logger: silentLogger,
    });
    await ticker.pause('alpha', { name: 'tester' });
    expect(await ticker.tick()).toMatchObject({ ran: [], missed: 0 });
    clock.set('2026-05-01T11:00:10Z');
    await ticker.resume('alpha', { name: 'tester' });
    expect(await ticker.tick()).toMatchObject({ ran: [], missed: 0 });
    clock.set('2026-05-01T11:01:05Z');
    const report = await ticker.tick();
    expect(report.ran.map((run) => run.slotAt.toISOString())).toEqual(['2026-05-01T11:01:00.000Z']);
    expect(await runsOf(off)).toEqual([]);
  });

  it('settles a claim whose instance died before the enqueue as missed, and one whose job was queued as ran', async () => {
    const a = await addTarget('alpha');
    const b = await addTarget('beta');
    const recordedAt = new Date('2026-05-01T10:00:01Z');
    const lost = {
      id: randomUUID(),
      scheduleTargetId: a,
      targetId: a,
      slotAt: new Date('2026-05-01T10:00:00Z'),
      outcome: 'pending',
      recordedAt,
    };
    const queued = { ...lost, id: randomUUID(), scheduleTargetId: b, targetId: b };
    await app.db.insert(scheduleRuns).values([lost, queued]);
    const queue = queuedRowsOnly(app.db);
    const jobId = await queue.enqueueBackup({
      targetId: b,
      scheduleRunId: queued.id,
      origin: 'scheduled',
      requestedBy: null,
    });
    const clock = testClock('2026-05-01T10:00:30Z');
    const ticker = createSchedules({ db: app.db, queue, clock, audit: app.audit, logger: silentLogger });
    await ticker.tick();
    expect((await runsOf(a))[0]!.outcome).toBe('pending'); // not stale yet
    clock.set('2026-05-01T10:01:30Z');
    await ticker.tick();
    expect(await runsOf(a)).toMatchObject([{ outcome: 'missed', jobId: null }]);
    expect(await runsOf(b)).toMatchObject([{ outcome: 'ran', jobId }]);
  });
});

describe('schedule operations', () => {
  it('sets, lists with next runs, runs now, pauses and deletes, audited; bad input changes nothing', async () => {
    const a = await addTarget('alpha');
    // Run now queues a real job through the app; alpha leads nowhere, so only its row is written here.
    const ops = createSchedules({
      db: app.db,
      queue: queuedRowsOnly(app.db),
      clock: systemClock,
      audit: app.audit,
      logger: silentLogger,
    });
    const actor = { name: 'admin@example.com', address: '127.0.0.1' };
    expect(await codeOf(ops.set({ target: 'alpha', cron: '61 * * * *' }, actor))).toBe('schedule/invalid-cron');
    expect(await codeOf(ops.set({ target: 'alpha', cron: '0 3 * * *', timeZone: 'Nowhere/City' }, actor))).toBe(
      'schedule/invalid-time-zone',
    );
    expect(await codeOf(ops.set({ target: 'alpha', cron: '0 3 * * *', missedPolicy: 'twice' }, actor))).toBe(
      'schedule/invalid-missed-policy',
    );
    expect(await codeOf(ops.set({ target: 'nope', cron: '0 3 * * *' }, actor))).toBe('target/not-found');
    expect(await app.db.select().from(schedules)).toEqual([]);

    const set = await ops.set(
      { target: 'alpha', cron: '30 2 * * *', timeZone: 'Europe/Berlin', missedPolicy: 'skip' },
      actor,
    );
    expect(set).toMatchObject({
      targetId: a,
      targetName: 'alpha',
      cron: '30 2 * * *',
      timeZone: 'Europe/Berlin',
      missedPolicy: 'skip',
    });
    expect(set.nextRuns).toHaveLength(5);
    const [listed] = await ops.list(3);
    expect(listed!.nextRuns).toHaveLength(3);
    expect(new Date(listed!.nextRuns[0]!).getTime()).toBeGreaterThan(Date.now());

    const started = await ops.runNow('alpha', actor);
    expect(started).toHaveLength(1);
    const [job] = await app.db.select().from(jobs).where(eq(jobs.id, started[0]!.jobId));
    expect(job).toMatchObject({
      targetId: a,
      scheduleRunId: null,
      params: { origin: 'manual' },
      requestedBy: actor.name,
    });

    expect((await ops.pause('alpha', actor)).nextRuns).toEqual([]);
    expect(await ops.remove('alpha', actor)).toBe(a);
    expect(await codeOf(ops.pause('alpha', actor))).toBe('schedule/not-found');

    const audited = await app.db
      .select()
      .from(auditEvents)
      .where(eq(auditEvents.targetId, a))
      .orderBy(asc(auditEvents.id));
    expect(audited.map((event) => event.action)).toEqual([
      'schedule.set',
      'schedule.run-now',
      'schedule.pause',
      'schedule.delete',
    ]);
    expect(audited[0]).toMatchObject({ actor: actor.name, address: actor.address, details: { cron: '30 2 * * *' } });
  });
});

describe('retention', () => {
  const DAY = 86_400_000;

  /** Backups of a target, one a day going back from now, each with a file in the backup directory. */
  async function addBackups(targetId: string, days: number[], extra: Partial<typeof backups.$inferInsert> = {}) {
    const ids: string[] = [];
    for (const daysAgo of days) {
      const id = randomUUID();
      const fileName = `b-${id}.dump`;
      await writeFile(path.join(env.backupDir, fileName), 'x');
      await app.db.insert(backups).values({
        id,
        fileName,
        format: 'custom',
        sizeBytes: 1,
        sha256: '0',
        origin: 'scheduled',
        targetId,
        createdAt: new Date(Date.now() - daysAgo * DAY),
        ...extra,
      });
      ids.push(id);
    }
    return ids;
  }

  const remaining = async (targetId: string) =>
    (await app.db.select({ id: backups.id }).from(backups).where(eq(backups.targetId, targetId))).map((row) => row.id);

  it('refuses a bad policy with a coded error and changes nothing', async () => {
    await addTarget('alpha');
    expect(await codeOf(app.retention.setPolicy('alpha', { keepLast: -1 }, { name: 't' }))).toBe(
      'retention/invalid-policy',
    );
    expect(await codeOf(app.retention.setPolicy('alpha', { keepDaily: 1.5 }, { name: 't' }))).toBe(
      'retention/invalid-policy',
    );
    expect(await app.db.select().from(retentionPolicies)).toEqual([]);
  });

  it('prunes exactly what the preview showed, each deletion audited with its rule; in-use ones wait', async () => {
    const a = await addTarget('alpha');
    const ids = await addBackups(a, [0.1, 1.1, 2.1, 3.1, 4.1]);
    const pinned = (await addBackups(a, [30], { pinned: true }))[0]!;
    const [oldSnapshot] = await addBackups(a, [10], { origin: 'pre-restore-snapshot' });
    const [newSnapshot] = await addBackups(a, [1], { origin: 'pre-restore-snapshot' });

    // Preview before saving: nothing saved yet.
    const unsaved = await app.retention.preview('alpha', { keepLast: 2 });
    expect(await app.db.select().from(retentionPolicies)).toEqual([]);
    const wouldDelete = unsaved.decisions
      .filter((d) => d.action === 'delete')
      .map((d) => d.backup.id)
      .sort();
    expect(wouldDelete).toEqual([ids[2], ids[3], ids[4], oldSnapshot].sort());
    expect(unsaved.decisions.find((d) => d.backup.id === pinned)).toMatchObject({
      action: 'keep',
      reasons: ['pinned'],
    });

    await app.retention.setPolicy('alpha', { keepLast: 2 }, { name: 'admin' });
    const preview = await app.retention.preview('alpha');
    expect(
      preview.decisions
        .filter((d) => d.action === 'delete')
        .map((d) => d.backup.id)
        .sort(),
    ).toEqual(wouldDelete);

    // A verification job reads one of them: it is left for the next prune.
    await app.db
      .insert(jobs)
      .values({ id: randomUUID(), kind: 'verify', state: 'running', backupId: ids[4]!, targetId: a });
    const report = await app.retention.prune(a);
    expect(report.inUse.map((entry) => entry.id)).toEqual([ids[4]]);
    expect(report.deleted.map((entry) => entry.id).sort()).toEqual([ids[2], ids[3], oldSnapshot].sort());
    expect((await remaining(a)).sort()).toEqual([ids[0], ids[1], ids[4], pinned, newSnapshot].sort());
    for (const entry of report.deleted) expect(existsSync(path.join(env.backupDir, entry.fileName))).toBe(false);

    const audited = await app.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'retention.delete'), eq(auditEvents.targetId, a)));
    expect(Object.fromEntries(audited.map((event) => [event.subjectId, event.details.rule]))).toEqual({
      [ids[2]!]: 'keep-last 2',
      [ids[3]!]: 'keep-last 2',
      [oldSnapshot!]: 'snapshot-keep-days 7',
    });

    await app.db.update(jobs).set({ state: 'succeeded' });
    expect((await app.retention.prune(a)).deleted.map((entry) => entry.id)).toEqual([ids[4]]);
    expect((await remaining(a)).sort()).toEqual([ids[0], ids[1], pinned, newSnapshot].sort());
  });

  it('does not prune a target whose last 3 scheduled runs all failed, and says so', async () => {
    const a = await addTarget('alpha');
    const ids = await addBackups(a, [5, 6, 7]);
    await app.retention.setPolicy('alpha', { keepLast: 1 }, { name: 'admin' });
    const addRun = async (minute: number, state: string) => {
      const jobId = randomUUID();
      await app.db.insert(jobs).values({ id: jobId, kind: 'backup', state, targetId: a });
      await app.db.insert(scheduleRuns).values({
        id: randomUUID(),
        scheduleTargetId: a,
        targetId: a,
        slotAt: new Date(Date.UTC(2026, 4, 1, 10, minute)),
        outcome: 'ran',
        jobId,
      });
    };
    await addRun(1, 'succeeded');
    await addRun(2, 'failed');
    await addRun(3, 'failed');
    expect(await app.retention.guard(a)).toEqual({ blocked: false, failedRuns: 2, threshold: 3 });
    await addRun(4, 'failed');
    expect(await app.retention.guard(a)).toEqual({ blocked: true, failedRuns: 3, threshold: 3 });
    expect((await app.retention.preview('alpha')).guard.blocked).toBe(true);

    const report = await app.retention.prune(a);
    expect(report.deleted).toEqual([]);
    expect((await remaining(a)).sort()).toEqual([...ids].sort());
    const [refusal] = await app.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'retention.prune'), eq(auditEvents.targetId, a)));
    expect(refusal).toMatchObject({ outcome: 'failed' });

    // Configurable: a guard of 4 lets it prune again.
    await app.retention.setPolicy('alpha', { keepLast: 1, failedRunsGuard: 4 }, { name: 'admin' });
    expect((await app.retention.prune(a)).deleted).toHaveLength(2);
    expect(await remaining(a)).toEqual([ids[0]]);
  });

  it('prunes nothing for a target without a policy', async () => {
    const a = await addTarget('alpha');
    await addBackups(a, [1, 2, 30]);
    await addBackups(a, [30], { origin: 'upload' });
    const preview = await app.retention.preview('alpha');
    expect(preview.hasPolicy).toBe(false);
    expect(preview.decisions.every((d) => d.action === 'keep')).toBe(true);
    expect(await app.retention.prune(a)).toMatchObject({ hasPolicy: false, deleted: [] });
    expect(await remaining(a)).toHaveLength(4);
  });
});
