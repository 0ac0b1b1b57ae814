import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { backups, jobs, scheduleRuns, schedules, targets } from '../../src/db/schema.js';
import { type ApiEnv, startApi } from './api-harness.js';

const adminUrl = inject('pgAdminUrl');
const DAY = 86_400_000;
let api: ApiEnv;
const ids = { shop: randomUUID(), idle: randomUUID(), server: randomUUID(), child: randomUUID() };
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

const QUERY = `{ dashboard { targetId name kind enabled lastSuccessAt lastSuccessSizeBytes nextRunAt schedulePaused
  failures { count lastAt lastCode } pruningPaused failedRunsInARow failedRunsGuard sizeTrend } }`;

interface Entry {
  targetId: string;
  name: string;
  lastSuccessAt: string | null;
  nextRunAt: string | null;
  [field: string]: unknown;
}

async function failedScheduledRun(targetId: string, at: Date, code: string) {
  const jobId = randomUUID();
  await api.app.db.insert(jobs).values({
    id: jobId,
    kind: 'backup',
    state: 'failed',
    targetId,
    errorCode: code,
    createdAt: at,
    finishedAt: at,
  });
  await api.app.db
    .insert(scheduleRuns)
    .values({ id: randomUUID(), scheduleTargetId: targetId, targetId, slotAt: at, outcome: 'ran', jobId });
}

beforeAll(async () => {
  api = await startApi(adminUrl, 'dashboard');
  const url = 'postgres://u@localhost/x';
  await api.app.db.insert(targets).values([
    { id: ids.shop, name: 'shop', kind: 'database', url },
    { id: ids.idle, name: 'idle', kind: 'database', url, enabled: false },
    { id: ids.server, name: 'srv', kind: 'server', url },
    { id: ids.child, name: 'srv/app', kind: 'database', url, parentId: ids.server },
  ]);
  await api.app.db.insert(schedules).values([
    { targetId: ids.shop, cron: '0 * * * *', timeZone: 'UTC' },
    { targetId: ids.idle, cron: '0 * * * *', timeZone: 'UTC', paused: true },
    { targetId: ids.server, cron: '30 2 * * *', timeZone: 'Europe/Berlin' },
  ]);
  const backup = (targetId: string, origin: string, sizeBytes: number, createdAt: Date) => ({
    id: randomUUID(),
    fileName: `${randomUUID()}.dump`,
    format: 'custom',
    sha256: '0',
    targetId,
    origin,
    sizeBytes,
    createdAt,
  });
  await api.app.db.insert(backups).values([
    backup(ids.shop, 'scheduled', 100, daysAgo(4)),
    backup(ids.shop, 'manual', 200, daysAgo(3)),
    backup(ids.shop, 'scheduled', 300, daysAgo(2)),
    // Neither an upload nor a safety snapshot is a backup the schedule made.
    backup(ids.shop, 'upload', 999, daysAgo(1)),
    backup(ids.shop, 'pre-restore-snapshot', 888, daysAgo(1)),
  ]);
  // Before the last success: not counted.
  await failedScheduledRun(ids.shop, daysAgo(5), 'pg/connection-failed');
  for (const hours of [30, 20, 10])
    await failedScheduledRun(ids.shop, new Date(Date.now() - hours * 3_600_000), `pg/tool-failed`);
  // A failed verify is no failed backup.
  await api.app.db.insert(jobs).values({ id: randomUUID(), kind: 'verify', state: 'failed', targetId: ids.shop });
});
afterAll(async () => api?.close());

async function entries(): Promise<Map<string, Entry>> {
  const result = await api.gql<{ dashboard: Entry[] }>(QUERY, {}, { cookie: api.adminCookie });
  expect(result.errors).toBeUndefined();
  return new Map(result.data!.dashboard.map((entry) => [entry.name, entry]));
}

describe('dashboard', () => {
  it('shows per target the last success, next run, failures since it, the guard and the size trend', async () => {
    const byName = await entries();
    const shop = byName.get('shop')!;
    const nextHour = new Date(Math.floor(Date.now() / 3_600_000 + 1) * 3_600_000);
    expect(shop).toEqual({
      targetId: ids.shop,
      name: 'shop',
      kind: 'database',
      enabled: true,
      lastSuccessAt: expect.any(String),
      lastSuccessSizeBytes: 300,
      nextRunAt: nextHour.toISOString(),
      schedulePaused: false,
      failures: { count: 3, lastAt: expect.any(String), lastCode: 'pg/tool-failed' },
      pruningPaused: true,
      failedRunsInARow: 3,
      failedRunsGuard: 3,
      sizeTrend: [100, 200, 300],
    });
    expect(Math.abs(Date.parse(shop.lastSuccessAt!) - daysAgo(2).getTime())).toBeLessThan(60_000);
  });

  it('has no next run for a paused schedule, and an empty history for a target never backed up', async () => {
    const idle = (await entries()).get('idle')!;
    expect(idle).toMatchObject({
      enabled: false,
      lastSuccessAt: null,
      lastSuccessSizeBytes: null,
      nextRunAt: null,
      schedulePaused: true,
      failures: { count: 0, lastAt: null, lastCode: null },
      pruningPaused: false,
      sizeTrend: [],
    });
  });

  it("runs a server's database on the server's schedule", async () => {
    const byName = await entries();
    const child = byName.get('srv/app')!;
    expect(child.nextRunAt).not.toBeNull();
    expect(child.nextRunAt).toBe(byName.get('srv')!.nextRunAt);
    // 02:30 on the wall clock in Berlin.
    const wall = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      hour: '2-digit',
      minute: '2-digit',
    }).format(new Date(child.nextRunAt!));
    expect(wall).toBe('02:30');
  });

  it('a successful backup after the failures clears them and releases the guard', async () => {
    await api.app.db.insert(backups).values({
      id: randomUUID(),
      fileName: 'shop-now.dump',
      format: 'custom',
      sha256: '0',
      targetId: ids.shop,
      origin: 'scheduled',
      sizeBytes: 400,
    });
    const jobId = randomUUID();
    await api.app.db.insert(jobs).values({ id: jobId, kind: 'backup', state: 'succeeded', targetId: ids.shop });
    await api.app.db.insert(scheduleRuns).values({
      id: randomUUID(),
      scheduleTargetId: ids.shop,
      targetId: ids.shop,
      slotAt: new Date(),
      outcome: 'ran',
      jobId,
    });
    const shop = (await entries()).get('shop')!;
    expect(shop).toMatchObject({
      lastSuccessSizeBytes: 400,
      failures: { count: 0 },
      pruningPaused: false,
      failedRunsInARow: 0,
      sizeTrend: [100, 200, 300, 400],
    });
  });

  it('is for admins only', async () => {
    const refused = await api.gql(QUERY, {}, { cookie: api.viewerCookie });
    expect(refused.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
  });
});
