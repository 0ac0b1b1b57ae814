import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  auditEvents,
  backups,
  jobs,
  retentionPolicies,
  scheduleRuns,
  schedules,
  targets,
} from '../../src/db/schema.js';
import { type ApiEnv, startApi } from './api-harness.js';
import { cli } from './cli-process.js';

const adminUrl = inject('pgAdminUrl');
let api: ApiEnv;
let targetId: string;

beforeAll(async () => {
  api = await startApi(adminUrl, 'schedapi');
  targetId = randomUUID();
  await api.app.db
    .insert(targets)
    .values({ id: targetId, name: 'shop', kind: 'database', url: 'postgres://u@localhost/shop' });
  for (const daysAgo of [1, 2, 3]) {
    await api.app.db.insert(backups).values({
      id: randomUUID(),
      fileName: `shop-${daysAgo}.dump`,
      format: 'custom',
      sizeBytes: 10,
      sha256: '0',
      origin: 'scheduled',
      targetId,
      createdAt: new Date(Date.now() - daysAgo * 86_400_000),
    });
  }
});
afterAll(async () => api?.close());

describe('GraphQL', () => {
  it('sets a schedule and previews a policy for admins only', async () => {
    const admin = { cookie: api.adminCookie };
    const set = await api.gql(
      `mutation { setSchedule(target: "shop", cron: "30 2 * * *", timeZone: "Europe/Berlin", missedPolicy: SKIP, retries: 3) {
         __typename ... on MutationSetScheduleSuccess { data { targetName cron timeZone missedPolicy retries nextRuns } }
         ... on CodedError { code } } }`,
      {},
      admin,
    );
    expect(set.errors).toBeUndefined();
    expect(set.data).toMatchObject({
      setSchedule: {
        data: { targetName: 'shop', cron: '30 2 * * *', timeZone: 'Europe/Berlin', missedPolicy: 'skip', retries: 3 },
      },
    });
    const tooMany = await api.gql(
      `mutation { setSchedule(target: "shop", cron: "30 2 * * *", retries: 11) { __typename ... on CodedError { code } } }`,
      {},
      admin,
    );
    expect(tooMany.data).toEqual({ setSchedule: { __typename: 'CodedError', code: 'schedule/invalid-retries' } });

    const bad = await api.gql(
      `mutation { setSchedule(target: "shop", cron: "* * *") { __typename ... on CodedError { code } } }`,
      {},
      admin,
    );
    expect(bad.data).toEqual({ setSchedule: { __typename: 'CodedError', code: 'schedule/invalid-cron' } });

    const preview = await api.gql(
      `{ previewRetention(target: "shop", policy: { keepLast: 1 }) {
           ... on QueryPreviewRetentionSuccess { data { hasPolicy timeZone freedBytes guard { blocked }
                decisions { action rule reasons backup { fileName } } } } } }`,
      {},
      admin,
    );
    expect(preview.errors).toBeUndefined();
    const data = (preview.data as { previewRetention: { data: Record<string, unknown> } }).previewRetention.data;
    expect(data).toMatchObject({
      hasPolicy: true,
      timeZone: 'Europe/Berlin',
      freedBytes: 20,
      guard: { blocked: false },
    });
    expect(data.decisions).toEqual([
      { action: 'keep', rule: null, reasons: ['newest successful', 'last'], backup: { fileName: 'shop-1.dump' } },
      { action: 'delete', rule: 'keep-last 1', reasons: [], backup: { fileName: 'shop-2.dump' } },
      { action: 'delete', rule: 'keep-last 1', reasons: [], backup: { fileName: 'shop-3.dump' } },
    ]);
    // A preview saves nothing.
    expect(await api.app.db.select().from(retentionPolicies)).toEqual([]);

    const guard = await api.gql(
      `{ retentionGuard(targetId: "${targetId}") { blocked failedRuns threshold } }`,
      {},
      admin,
    );
    expect(guard.data).toEqual({ retentionGuard: { blocked: false, failedRuns: 0, threshold: 3 } });

    const refused = await api.gql(`{ schedules { targetName } }`, {}, { cookie: api.viewerCookie });
    expect(refused.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
    const listed = await api.gql(
      `{ schedules(nextRuns: 2) { targetName nextRuns recentRuns { outcome } } }`,
      {},
      admin,
    );
    expect(listed.data).toMatchObject({ schedules: [{ targetName: 'shop', recentRuns: [] }] });
    expect((listed.data as { schedules: { nextRuns: string[] }[] }).schedules[0]!.nextRuns).toHaveLength(2);

    const [audited] = await api.app.db.select().from(auditEvents).where(eq(auditEvents.action, 'schedule.set'));
    expect(audited).toMatchObject({ actor: 'admin@example.com', targetId });
  });
});

describe('CLI', () => {
  const run = (args: string[]) => cli(api.env.env, args);

  it('schedule set / pause / resume / run / list and retention set / preview, with --json', async () => {
    const set = await run([
      'schedule',
      'set',
      'shop',
      '--cron',
      '0 * * * *',
      '--tz',
      'UTC',
      '--missed',
      'run-once',
      '--retries',
      '2',
      '--json',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      targetName: 'shop',
      cron: '0 * * * *',
      missedPolicy: 'run-once',
      retryLimit: 2,
    });
    const badRetries = await run(['schedule', 'set', 'shop', '--cron', '0 * * * *', '--retries', '11', '--json']);
    expect(badRetries.code).toBe(1);
    expect(JSON.parse(badRetries.stdout).error.code).toBe('schedule/invalid-retries');

    const badTz = await run(['schedule', 'set', 'shop', '--cron', '0 * * * *', '--tz', 'Moon/Crater', '--json']);
    expect(badTz.code).toBe(1);
    expect(JSON.parse(badTz.stdout).error.code).toBe('schedule/invalid-time-zone');
    const [stored] = await api.app.db.select().from(schedules).where(eq(schedules.targetId, targetId));
    expect(stored).toMatchObject({ cron: '0 * * * *', timeZone: 'UTC', retryLimit: 2 });

    expect(JSON.parse((await run(['schedule', 'pause', 'shop', '--json'])).stdout)).toMatchObject({ paused: true });
    expect(JSON.parse((await run(['schedule', 'resume', 'shop', '--json'])).stdout)).toMatchObject({ paused: false });
    // "shop" leads nowhere: run now reaches the target before queueing, so nothing is queued.
    const unreachable = await run(['schedule', 'run', 'shop', '--json']);
    expect(unreachable.code).not.toBe(0);
    expect(JSON.parse(unreachable.stdout).error.code).toBe('pg/connection-failed');
    expect(await api.app.db.select().from(jobs).where(eq(jobs.targetId, targetId))).toEqual([]);

    const list = await run(['schedule', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^shop\s+0 \* \* \* \*\s+UTC\s+run-once\s+2\s+active\s+\d{4}-/m);

    // A scheduled backup's second attempt, with its third due: the job list says so.
    const runId = randomUUID();
    await api.app.db.insert(scheduleRuns).values({
      id: runId,
      scheduleTargetId: targetId,
      targetId,
      slotAt: new Date('2026-01-01T03:00:00Z'),
      outcome: 'ran',
      attempt: 2,
      retryAt: new Date('2099-01-01T03:10:00Z'), // not due: the app's own ticker leaves it
    });
    await api.app.db
      .insert(jobs)
      .values({ id: randomUUID(), kind: 'backup', state: 'failed', targetId, scheduleRunId: runId, attempt: 2 });
    const jobList = await run(['job', 'list', '--target', 'shop']);
    expect(jobList.code, jobList.stderr).toBe(0);
    expect(jobList.stdout).toContain('2 of 3, retry 2099-01-01 03:10:00');
    await api.app.db.delete(jobs).where(eq(jobs.scheduleRunId, runId));

    const policy = await run(['retention', 'set', 'shop', '--keep-last', '2', '--keep-daily', '7', '--json']);
    expect(policy.code, policy.stderr).toBe(0);
    expect(JSON.parse(policy.stdout)).toMatchObject({
      keepLast: 2,
      keepDaily: 7,
      keepHourly: null,
      failedRunsGuard: 3,
    });
    const negative = await run(['retention', 'set', 'shop', '--keep-last', '-1']);
    expect(negative.code).toBe(2);
    const preview = await run(['retention', 'preview', 'shop', '--keep-last', '1']);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toContain('2 of 3 backups would be deleted');
    expect(preview.stdout).toMatch(/delete\s+keep-last 1$/m);
    const saved = JSON.parse((await run(['retention', 'preview', 'shop', '--json'])).stdout);
    expect(saved.decisions.every((d: { action: string }) => d.action === 'keep')).toBe(true);

    const unknown = await run(['schedule', 'pause', 'nowhere', '--json']);
    expect(JSON.parse(unknown.stdout).error.code).toBe('target/not-found');
  });

  it('a pinned backup is kept by retention until it is unpinned, audited both ways', async () => {
    const [oldest] = await api.app.db.select().from(backups).where(eq(backups.fileName, 'shop-3.dump'));
    const decisionOf = async () => {
      const preview = JSON.parse((await run(['retention', 'preview', 'shop', '--keep-last', '1', '--json'])).stdout);
      return preview.decisions.find((d: { backup: { fileName: string } }) => d.backup.fileName === 'shop-3.dump');
    };
    expect(await decisionOf()).toMatchObject({ action: 'delete', rule: 'keep-last 1' });

    const pinned = await run(['backup', 'pin', oldest!.id, '--json']);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(JSON.parse(pinned.stdout)).toMatchObject({ id: oldest!.id, pinned: true });
    expect(await decisionOf()).toMatchObject({ action: 'keep', reasons: expect.arrayContaining(['pinned']) });

    const unpinned = await api.gql(
      `mutation { pinBackup(id: "${oldest!.id}", pinned: false) { ... on MutationPinBackupSuccess { data { pinned } } } }`,
      {},
      { cookie: api.adminCookie },
    );
    expect(unpinned.data).toEqual({ pinBackup: { data: { pinned: false } } });
    expect(await decisionOf()).toMatchObject({ action: 'delete' });
    const refused = await api.gql(
      `mutation { pinBackup(id: "${oldest!.id}", pinned: true) { __typename } }`,
      {},
      {
        cookie: api.viewerCookie,
      },
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('auth/forbidden');

    const audited = await api.app.db.select().from(auditEvents).where(eq(auditEvents.subjectId, oldest!.id));
    expect(audited.map((event) => event.action)).toEqual(['backup.pin', 'backup.unpin']);
    expect(audited.every((event) => event.targetId === targetId)).toBe(true);
  });
});
