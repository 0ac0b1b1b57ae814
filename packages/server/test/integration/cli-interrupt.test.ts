import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { diffFingerprints, fingerprint, mutateFeatureRichDatabase, withSql } from '@pgbs/test-support';
import { eq } from 'drizzle-orm';
import { jobs } from '../../src/db/schema.js';
import { spawnCli } from './cli-process.js';
import { type TestEnv, createBigTestEnv, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');

/** Ctrl-C in a terminal: SIGINT to the CLI's whole process group, during a real job. */
describe('Ctrl-C in the CLI', () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await createBigTestEnv(adminUrl, 'cli_int');
  });
  afterAll(async () => env?.cleanup());

  const restoreRoles = () =>
    withSql(adminUrl, (sql) => sql`SELECT rolname FROM pg_roles WHERE rolname LIKE 'pgbs\\_restore\\_%'`);
  const sessionsOnTarget = async () =>
    (
      await withSql(
        adminUrl,
        (sql) =>
          sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ${env.target.name} AND pid <> pg_backend_pid()`,
      )
    )[0]!.n;

  /** Starts the CLI and sends SIGINT once its output matches `when`; returns its end and its job. */
  async function interrupt(envVars: Record<string, string>, args: string[], when: RegExp) {
    const run = spawnCli(envVars, args);
    await waitFor('the job to be under way', async () => {
      if (run.child.exitCode !== null) throw new Error(`the CLI ended early: ${run.stderr}`);
      return when.test(run.stderr) ? true : undefined;
    });
    const app = await env.startApp();
    const [running] = await app.db.select().from(jobs).where(eq(jobs.state, 'running'));
    expect(running, 'a running job').toBeDefined();
    const during = { roles: (await restoreRoles()).length, files: await readdir(env.backupDir) };
    run.signal('SIGINT');
    const result = await run.done;
    const [job] = (await app.db.select().from(jobs)).filter((row) => row.id === running!.id);
    return { result, job: job!, during, app };
  }

  it('cancels a backup: the job is cancelled, no partial file is left', async () => {
    const { result, job, during, app } = await interrupt(
      env.env,
      ['backup', 'create', '--description', 'interrupted'],
      /data .*public\.big/,
    );
    expect(during.files.filter((f) => f.endsWith('.partial'))).toHaveLength(1);
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain(`Cancelling job ${job.id}…`);
    expect(result.stderr).toContain('backup cancelled [job/cancelled]');
    expect(job).toMatchObject({ kind: 'backup', state: 'cancelled', errorCode: 'job/cancelled', partialRef: null });
    expect(job.finishedAt).not.toBeNull();
    expect((await readdir(env.backupDir)).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(await app.backups.list()).toEqual([]);
    await waitFor('pg_dump to end', async () => ((await sessionsOnTarget()) === 0 ? true : undefined));
  });

  it('cancels a restore through a superuser connection: target unchanged, no restore role left', async () => {
    const superuser = { ...env.env, DATABASE_URL: env.target.adminUrl };
    const setup = await env.startApp({ DATABASE_URL: env.target.adminUrl });
    const backup = await (await setup.backups.createBackup({ description: 'new' }, { name: 'test' })).done;
    expect(backup.state, backup.errorMessage ?? '').toBe('succeeded');
    await mutateFeatureRichDatabase(env.target.url);
    await withSql(env.target.url, (sql) => sql`DELETE FROM big WHERE id % 3 = 0`);
    const before = await fingerprint(env.target.url);

    const { result, job, during } = await interrupt(
      superuser,
      ['backup', 'restore', backup.backupId!, '--yes', '--no-snapshot'],
      /data .*public\.big/,
    );
    // The restore ran through its short-lived role when it was interrupted.
    expect(during.roles).toBe(1);
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('restore cancelled [job/cancelled]');
    expect(job).toMatchObject({ kind: 'restore', state: 'cancelled', errorCode: 'job/cancelled' });
    expect(await restoreRoles()).toEqual([]);
    await waitFor('the restore session to end', async () => ((await sessionsOnTarget()) === 0 ? true : undefined));
    expect(diffFingerprints(before, await fingerprint(env.target.url))).toEqual([]);
    const files = await readdir(env.backupDir);
    expect(files.filter((f) => f.endsWith('.partial'))).toEqual([]);
    // The backup restored from stays, with its manifest, and nothing else.
    expect(files.filter((f) => !f.startsWith('.'))).toHaveLength(2);
  });
});
