import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { type TestDatabase, createTestDatabase, withSql } from '@pgbs/test-support';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { auditEvents, retentionPolicies, schedules } from '../../src/db/schema.js';
import { type ApiEnv, startApi } from './api-harness.js';
import { cli } from './cli-process.js';
import { codeOf } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const actor = { name: 'test' };

/** A URL without its password, and the password: how an administrator gives them. */
function split(url: string): { url: string; password: string } {
  const parsed = new URL(url);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { url: parsed.toString(), password };
}

interface BackupItem {
  id: string;
  globalsFileName: string | null;
  target: { id: string; name: string; removed: boolean } | null;
}

describe('targets everywhere', () => {
  let api: ApiEnv;
  let second: TestDatabase;
  let envId: string;
  let secondId: string;
  let envBackupId: string;
  let secondBackupId: string;
  const masterKey = randomBytes(32).toString('base64');

  const backupsOf = async (targetId: string) => {
    const answer = await api.gql<{ backups: { total: number; items: BackupItem[] } }>(
      `query($t: ID) { backups(targetId: $t) { total items { id globalsFileName target { id name removed } } } }`,
      { t: targetId },
      { cookie: api.adminCookie },
    );
    expect(answer.errors).toBeUndefined();
    return answer.data!.backups;
  };
  const restore = (variables: Record<string, unknown>) =>
    api.gql<{ restoreBackup: { __typename: string; code?: string; message?: string; data?: { id: string } } }>(
      `mutation($id: ID!, $c: String!, $t: ID) {
        restoreBackup(id: $id, confirmation: $c, targetId: $t, options: { safetySnapshot: false, acceptSourceMismatch: true, noOwner: true, noPrivileges: true }) {
          __typename ... on CodedError { code message } ... on MutationRestoreBackupSuccess { data { id } }
        }
      }`,
      variables,
      { cookie: api.adminCookie },
    );
  const marker = (db: TestDatabase) =>
    withSql(db.url, async (sql) => (await sql`SELECT note FROM public.marker`)[0]!['note'] as string);

  beforeAll(async () => {
    api = await startApi(adminUrl, 'tew', { MASTER_KEY: masterKey });
    second = await createTestDatabase(adminUrl, 'tew_second');
    await withSql(api.env.target.url, (sql) => sql`CREATE TABLE public.marker AS SELECT 'first' AS note`);
    await withSql(second.url, (sql) => sql`CREATE TABLE public.marker AS SELECT 'second' AS note`);
    envId = (await api.app.targets.connections.defaultTarget()).id;
    const { url, password } = split(second.url);
    secondId = (await api.app.targets.add({ name: 'second', url, password, keepGlobals: true }, actor)).target.id;
    const envJob = await (await api.app.backups.createBackup({}, actor)).done;
    const secondJob = await (await api.app.backups.createBackup({ targetId: secondId }, actor)).done;
    expect([envJob.state, secondJob.state]).toEqual(['succeeded', 'succeeded']);
    envBackupId = envJob.backupId!;
    secondBackupId = secondJob.backupId!;
  });
  afterAll(async () => {
    await api?.close();
    await second?.drop();
  });

  it('filters backups, jobs and the audit log by target, and names the target of each', async () => {
    const ofSecond = await backupsOf(secondId);
    expect(ofSecond.total).toBe(1);
    expect(ofSecond.items[0]).toMatchObject({ id: secondBackupId, target: { id: secondId, name: 'second' } });
    const ofEnv = await backupsOf(envId);
    expect(ofEnv.items.map((item) => item.id)).toEqual([envBackupId]);
    expect(ofEnv.items[0]!.target).toMatchObject({ id: envId, removed: false });
    expect((await backupsOf('not-an-id')).total).toBe(0);

    const jobsAnswer = await api.gql<{ jobs: { kind: string; backupId: string; target: { name: string } }[] }>(
      `query($t: ID) { jobs(targetId: $t) { kind backupId target { name } } }`,
      { t: secondId },
      { cookie: api.adminCookie },
    );
    expect(jobsAnswer.data!.jobs).toEqual([{ kind: 'backup', backupId: secondBackupId, target: { name: 'second' } }]);

    const audit = async (targetId: string) =>
      (
        await api.gql<{ auditEvents: { action: string; target: { id: string } | null }[] }>(
          `query($t: ID) { auditEvents(targetId: $t) { action target { id } } }`,
          { t: targetId },
          { cookie: api.adminCookie },
        )
      ).data!.auditEvents;
    const secondEvents = await audit(secondId);
    expect(secondEvents.map((event) => event.action)).toEqual(expect.arrayContaining(['target.add', 'backup.create']));
    expect(secondEvents.every((event) => event.target?.id === secondId)).toBe(true);
    const envEvents = await audit(envId);
    expect(envEvents.map((event) => event.action)).toContain('backup.create');
    expect(envEvents.map((event) => event.action)).not.toContain('target.add');
  });

  it('keeps the roles beside a backup of a target that keeps them, private and without password hashes', async () => {
    const [item] = (await backupsOf(secondId)).items;
    const backup = await api.app.backups.get(secondBackupId);
    expect(item!.globalsFileName).toBe(`${backup.fileName}.globals.sql`);
    const file = path.join(api.env.backupDir, item!.globalsFileName!);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const globals = await readFile(file, 'utf8');
    expect(globals).toContain(`CREATE ROLE ${second.owner}`);
    expect(globals).not.toMatch(/SCRAM-SHA-256\$|md5[0-9a-f]{32}|PASSWORD '/);
    const manifest = JSON.parse(
      await readFile(path.join(api.env.backupDir, `${backup.fileName}.manifest.json`), 'utf8'),
    );
    expect(manifest.globalsFileName).toBe(item!.globalsFileName);
    // The env-managed target keeps no roles (the default).
    expect((await backupsOf(envId)).items[0]!.globalsFileName).toBeNull();
  });

  it('deletes the roles with their backup', async () => {
    const job = await (await api.app.backups.createBackup({ targetId: secondId }, actor)).done;
    const backup = await api.app.backups.get(job.backupId!);
    const file = path.join(api.env.backupDir, backup.globalsFileName!);
    await stat(file);
    await api.app.backups.delete(backup.id, actor);
    expect(await codeOf(stat(file))).toMatch(/ENOENT/);
  });

  it("a restore is confirmed by the name of the database of the target it goes to, the backup's own by default", async () => {
    const check = await api.gql<{ restoreCheck: { targetId: string; targetName: string; targetDatabase: string } }>(
      `query($id: ID!, $t: ID) { restoreCheck(id: $id, targetId: $t) { targetId targetName targetDatabase } }`,
      { id: envBackupId, t: secondId },
      { cookie: api.adminCookie },
    );
    expect(check.data!.restoreCheck).toEqual({ targetId: secondId, targetName: 'second', targetDatabase: second.name });

    // Target A's database name does not restore into target B, named or by default.
    const named = await restore({ id: envBackupId, c: api.env.target.name, t: secondId });
    expect(named.data!.restoreBackup).toMatchObject({
      __typename: 'CodedError',
      code: 'restore/confirmation-mismatch',
    });
    expect(named.data!.restoreBackup.message).toContain(`"${second.name}"`);
    const byDefault = await restore({ id: secondBackupId, c: api.env.target.name });
    expect(byDefault.data!.restoreBackup).toMatchObject({ code: 'restore/confirmation-mismatch' });
    expect((await api.app.jobs.list({ limit: 50, offset: 0 })).some((job) => job.kind === 'restore')).toBe(false);

    // Named rightly: the env target's backup replaces the second target's content.
    const restored = await restore({ id: envBackupId, c: second.name, t: secondId });
    expect(restored.data!.restoreBackup.__typename).toBe('MutationRestoreBackupSuccess');
    const done = await api.app.jobs.waitFor(restored.data!.restoreBackup.data!.id);
    expect(done).toMatchObject({ state: 'succeeded', targetId: secondId });
    expect(await marker(second)).toBe('first');
    expect(await marker(api.env.target)).toBe('first');
  });

  it('exports and imports schedules and retention policies by target name', async () => {
    const envName = api.env.target.name;
    await api.app.schedules.set(
      { target: envName, cron: '0 3 * * *', timeZone: 'Europe/Berlin', missedPolicy: 'skip', retries: 3 },
      actor,
    );
    await api.app.schedules.set({ target: 'second', cron: '@hourly' }, actor);
    await api.app.schedules.pause('second', actor);
    await api.app.retention.setPolicy(envName, { keepLast: 3, keepDaily: 7, snapshotKeepDays: 2 }, actor);
    await api.app.retention.setPolicy('second', { keepWeekly: 4, failedRunsGuard: 0, uploadKeepDays: null }, actor);
    const exported = await api.app.configTransfer.export(new Date(), actor);
    // By target name.
    expect(exported.sections['schedules']).toEqual([
      { target: 'second', cron: '@hourly', timeZone: 'UTC', missedPolicy: 'run-once', paused: true, retries: 1 },
      {
        target: envName,
        cron: '0 3 * * *',
        timeZone: 'Europe/Berlin',
        missedPolicy: 'skip',
        paused: false,
        retries: 3,
      },
    ]);
    expect(exported.sections['retentionPolicies']).toEqual(
      expect.arrayContaining([expect.objectContaining({ target: 'second', keepWeekly: 4, uploadKeepDays: null })]),
    );

    // A bad entry anywhere imports nothing.
    await api.app.db.delete(schedules);
    await api.app.db.delete(retentionPolicies);
    const bad = { ...exported, sections: { ...exported.sections, schedules: [{ target: 'second', cron: 'nope' }] } };
    expect(await codeOf(api.app.configTransfer.import(JSON.stringify(bad), actor))).toBe('config/import-invalid');
    expect(await codeOf(api.app.configTransfer.import('{ not json', actor))).toBe('config/import-invalid');
    const badRetries = {
      ...exported,
      sections: { ...exported.sections, schedules: [{ target: 'second', cron: '@daily', retries: -1 }] },
    };
    expect(await codeOf(api.app.configTransfer.import(JSON.stringify(badRetries), actor))).toBe(
      'config/import-invalid',
    );
    expect(await api.app.db.$count(retentionPolicies)).toBe(0);
    // Refused imports are audited too: one may be somebody probing.
    const refused = await api.app.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'config.import'), eq(auditEvents.outcome, 'failed')));
    expect(refused.map((event) => event.details)).toEqual([
      { errorCode: 'config/import-invalid' },
      { errorCode: 'config/import-invalid' },
      { errorCode: 'config/import-invalid' },
    ]);

    const report = await api.app.configTransfer.import(JSON.stringify(exported), actor);
    expect(report['schedules']).toEqual({ set: ['second', envName], skipped: [] });
    const again = await api.app.configTransfer.export(new Date(), actor);
    expect(again.sections['schedules']).toEqual(exported.sections['schedules']);
    expect(again.sections['retentionPolicies']).toEqual(exported.sections['retentionPolicies']);

    // A target that does not exist here is skipped and reported.
    const elsewhere = {
      ...exported,
      sections: {
        schedules: [{ target: 'elsewhere', cron: '@daily' }],
        retentionPolicies: [{ target: 'elsewhere', keepLast: 1 }],
      },
    };
    expect(await api.app.configTransfer.import(JSON.stringify(elsewhere), actor)).toEqual({
      schedules: { set: [], skipped: ['elsewhere'] },
      retentionPolicies: { set: [], skipped: ['elsewhere'] },
    });
  });

  it('the CLI lists by --target, shows the target and the roles, and asks for the right database', async () => {
    const env = { ...api.env.env, MASTER_KEY: masterKey };
    const list = await cli(env, ['backup', 'list', '--target', 'second', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).map((row: { id: string }) => row.id)).toContain(secondBackupId);
    expect(JSON.parse(list.stdout).every((row: { targetId: string }) => row.targetId === secondId)).toBe(true);
    const table = await cli(env, ['backup', 'list']);
    expect(table.stdout).toMatch(new RegExp(`${secondBackupId}.*second`));

    const jobList = await cli(env, ['job', 'list', '--target', 'second', '--json']);
    expect(jobList.code, jobList.stderr).toBe(0);
    expect(JSON.parse(jobList.stdout).every((row: { targetId: string }) => row.targetId === secondId)).toBe(true);

    const show = await cli(env, ['backup', 'show', secondBackupId]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('target:      second');
    expect(show.stdout).toMatch(/globals: +\S+\.globals\.sql/);

    const unknown = await cli(env, ['backup', 'list', '--target', 'nope']);
    expect(unknown.stderr).toContain('target/not-found');

    // Typing the default target's database name does not restore the second target's backup.
    const restoreRun = await cli(
      env,
      ['backup', 'restore', secondBackupId, '--no-snapshot'],
      `${api.env.target.name}\n`,
    );
    expect(restoreRun.stderr).toContain(`target second's database "${second.name}"`);
    expect(restoreRun.stderr).toContain('restore/confirmation-mismatch');
    expect(restoreRun.code).not.toBe(0);
  });

  it('a removed target keeps its name on its backups; restoring one then needs a target named', async () => {
    await api.app.targets.remove('second', actor);
    const markerBefore = await marker(second);
    const items = (await backupsOf(secondId)).items;
    expect(items[0]!.target).toEqual({ id: secondId, name: 'second', removed: true });
    const answer = await restore({ id: secondBackupId, c: second.name });
    expect(answer.data!.restoreBackup).toMatchObject({ code: 'target/not-found' });
    expect(answer.data!.restoreBackup.message).toContain('name the target');
    // Named by its id (what a stale panel could send), the removed target is refused all the same.
    const named = await restore({ id: secondBackupId, c: second.name, t: secondId });
    expect(named.data!.restoreBackup).toMatchObject({ code: 'target/not-found' });
    expect(await marker(second)).toBe(markerBefore);
  });
});
