import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { diffFingerprints, fingerprint, withSql } from '@pgbs/test-support';
import { type Server, graphql, login, startServer } from '../../scripts/service-process.js';
import { type TestEnv, addBigTable, createTestEnv, waitFor } from '../integration/harness.js';

const adminUrl = inject('pgAdminUrl');

interface JobState {
  id: string;
  state: string;
  errorCode: string | null;
  backupId: string | null;
  progress: { phase: string; currentTable: string | null } | null;
}
const JOB = 'id state errorCode backupId progress { phase currentTable }';

describe('kill -9 of the server process during a job', () => {
  let env: TestEnv;
  let dataDir: string;
  let server: Server | undefined;
  // Every server started, so a failing test leaves none running.
  const started: Server[] = [];

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'fsrv');
    dataDir = await mkdtemp(path.join(tmpdir(), 'pgbs-fsrv-data-'));
    // Big enough that a backup and a restore take seconds on two cores.
    await addBigTable(env.target.url);
  });
  afterAll(async () => {
    for (const each of started) await each.stop();
    await env?.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The real service (`src/main.ts`) on the test's databases, and a logged-in session. */
  async function start() {
    server = await startServer({ ...env.env, DATA_DIR: dataDir });
    started.push(server);
    const cookie = await login(server.url);
    const request = <T>(query: string, variables: Record<string, unknown> = {}) =>
      graphql<T>(server!.url, { cookie }, query, variables);
    const job = async (id: string) =>
      (await request<{ job: JobState }>(`query($id: ID!) { job(id: $id) { ${JOB} } }`, { id })).job;
    const backupIds = async () =>
      (
        await request<{ backups: { items: { id: string }[] } }>('{ backups(limit: 100) { items { id } } }')
      ).backups.items
        .map((b) => b.id)
        .sort();
    return { request, job, backupIds };
  }

  /** Until the tools the killed server started have gone from the target (they notice their pipes close). */
  async function waitForToolsToEnd() {
    await waitFor('the orphaned tools to end', async () => {
      const [row] = await withSql(
        adminUrl,
        (sql) => sql`SELECT count(*)::int AS n FROM pg_stat_activity
                     WHERE datname = ${env.target.name} AND application_name LIKE 'pgbs-%'`,
      );
      return row!.n === 0 ? true : undefined;
    });
  }

  const partials = async () => (await readdir(env.backupDir)).filter((f) => f.endsWith('.partial'));

  it('during a backup: after a restart the job is failed (job/interrupted), no partial file, the catalog unchanged', async () => {
    const api = await start();
    const before = await api.backupIds();
    const { createBackup } = await api.request<{ createBackup: { data: { id: string } } }>(
      'mutation { createBackup(description: "killed") { ... on MutationCreateBackupSuccess { data { id } } } }',
    );
    const jobId = createBackup.data.id;
    await waitFor('the dump to be written', async () => ((await partials()).length > 0 ? true : undefined));
    await server!.kill();
    await waitForToolsToEnd();

    const restarted = await start();
    expect(await restarted.job(jobId)).toMatchObject({ state: 'failed', errorCode: 'job/interrupted', backupId: null });
    expect(await partials()).toEqual([]);
    expect(await restarted.backupIds()).toEqual(before);
    // Every file left is a listed backup or its manifest.
    const listed = await restarted.backupIds();
    for (const file of (await readdir(env.backupDir)).filter((f) => !f.startsWith('.'))) {
      expect(
        listed.some((id) => file.includes(id)),
        file,
      ).toBe(true);
    }
    await server!.stop();
  });

  it('during a restore: after a restart the job is failed (job/interrupted) and the database wholly old', async () => {
    const api = await start();
    const { createBackup } = await api.request<{ createBackup: { data: { id: string } } }>(
      'mutation { createBackup(description: "to restore") { ... on MutationCreateBackupSuccess { data { id } } } }',
    );
    const backup = await waitFor('the backup', async () => {
      const job = await api.job(createBackup.data.id);
      if (job.state === 'failed') throw new Error(`the backup failed: ${job.errorCode}`);
      return job.state === 'succeeded' ? job : undefined;
    });
    const newPrint = await fingerprint(env.target.url);
    await withSql(env.target.url, (sql) => sql`DELETE FROM big WHERE id % 3 = 0`);
    const oldPrint = await fingerprint(env.target.url);
    expect(diffFingerprints(oldPrint, newPrint)).not.toEqual([]);

    const { restoreBackup } = await api.request<{ restoreBackup: { data?: { id: string }; code?: string } }>(
      `mutation($id: ID!, $db: String!) { restoreBackup(id: $id, confirmation: $db, options: { safetySnapshot: false }) {
         ... on MutationRestoreBackupSuccess { data { id } } ... on CodedError { code } } }`,
      { id: backup.backupId, db: env.target.name },
    );
    const jobId = restoreBackup.data!.id;
    // Killed while the big table's rows stream into the target, inside the restore's transaction.
    await waitFor('the restore to stream the big table', async () => {
      const job = await api.job(jobId);
      return job.progress?.currentTable === 'public.big' ? true : undefined;
    });
    await server!.kill();
    await waitForToolsToEnd();

    expect(diffFingerprints(oldPrint, await fingerprint(env.target.url))).toEqual([]);
    const restarted = await start();
    expect(await restarted.job(jobId)).toMatchObject({ state: 'failed', errorCode: 'job/interrupted' });
    expect(await restarted.backupIds()).toEqual([backup.backupId]);
    expect(await partials()).toEqual([]);
    await server!.stop();
  });
});
