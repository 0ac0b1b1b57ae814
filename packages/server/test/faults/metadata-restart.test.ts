import { chmod, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type ThrowawayPostgres,
  diffFingerprints,
  fingerprint,
  startThrowawayPostgres,
  withSql,
} from '@pgbs/test-support';
import postgres from 'postgres';
import { jobs } from '../../src/db/schema.js';
import { freshLockSessions, takeJobLocks } from '../../src/jobs/target-lock.js';
import { type TestEnv, createTestEnv, waitFor } from '../integration/harness.js';

const adminUrl = inject('pgAdminUrl');
const actor = { name: 'test' };

describe('the metadata database restarted during a job', () => {
  let env: TestEnv;
  // The metadata database on a PostgreSQL server of its own, restarted while the target's keeps running.
  let metadataServer: ThrowawayPostgres;
  let metadataUrl: string;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'pgbs-fmeta-pg-'));
    // As root, embedded PostgreSQL runs as the postgres user, which must reach its data directory.
    await chmod(dir, 0o755);
    metadataServer = await startThrowawayPostgres(path.join(dir, 'data'));
    metadataUrl = metadataServer.url('postgres');
    env = await createTestEnv(adminUrl, 'fmeta');
    await withSql(env.target.url, (sql) =>
      sql.unsafe(`CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 6) AS v FROM generate_series(1, 600000) g;`),
    );
  });
  afterAll(async () => {
    await env?.cleanup();
    await metadataServer?.stop();
  });

  it('a backup carries on and is recorded once the database is back', async () => {
    const app = await env.startApp({ METADATA_DATABASE_URL: metadataUrl });
    const { job, done } = await app.backups.createBackup({ description: 'across a restart' }, actor);
    await waitFor('the dump to be written', async () =>
      (await readdir(env.backupDir)).some((f) => f.endsWith('.partial')) ? true : undefined,
    );
    let settledAt = 0;
    void done.then(() => (settledAt = Date.now()));
    const restartedAt = Date.now();
    await metadataServer.restart();
    const finished = await done;
    // The job was still running when every session (the lock's, the pool's) was terminated.
    expect(settledAt).toBeGreaterThan(restartedAt);
    expect(finished.state, `${finished.errorCode} ${finished.errorMessage}`).toBe('succeeded');
    const [row] = await app.db.select().from(jobs).where(eq(jobs.id, job.id));
    expect(row).toMatchObject({ state: 'succeeded', backupId: finished.backupId });
    expect((await app.backups.list()).map((b) => b.id)).toContain(finished.backupId);
    expect((await readdir(env.backupDir)).filter((f) => f.endsWith('.partial'))).toEqual([]);
    const verified = await (await app.backups.verify(finished.backupId!, actor)).done;
    expect(verified.state, verified.errorMessage ?? '').toBe('succeeded');
  });

  it('a restore carries on, replaces the database wholly, and is recorded once the database is back', async () => {
    const app = await env.startApp({ METADATA_DATABASE_URL: metadataUrl });
    const backup = await (await app.backups.createBackup({ description: 'to restore' }, actor)).done;
    expect(backup.state, backup.errorMessage ?? '').toBe('succeeded');
    const backupPrint = await fingerprint(env.target.url);
    await withSql(env.target.url, (sql) => sql`DELETE FROM big WHERE id % 2 = 0`);
    const options = { noOwner: false, noPrivileges: false, safetySnapshot: false };
    const lockKey = await app.backups.lockKey();
    const { job, done } = await app.backups.restore(
      { source: { backupId: backup.backupId! }, confirmation: env.target.name, options },
      actor,
    );
    await waitFor('the restore to stream the big table', async () => {
      const [row] = await withSql(
        adminUrl,
        (sql) => sql`SELECT count(*)::int AS n FROM pg_stat_progress_copy p
                     JOIN pg_stat_activity a ON a.pid = p.pid WHERE a.datname = ${env.target.name}`,
      );
      return row!.n > 0 ? true : undefined;
    });
    await metadataServer.restart();
    // The restart dropped the restore's lock with its session; the job takes it again.
    await waitFor(
      'the restore to hold the target lock again',
      async () => {
        const probe = await takeJobLocks(
          freshLockSessions(() => postgres(metadataServer.url('postgres'), { max: 1 })),
          {
            database: { key: lockKey, mode: 'exclusive' },
            slots: { global: 0, perServer: 0 },
          },
        ).catch(() => undefined);
        if (probe === null) return true;
        await probe?.release();
        return undefined;
      },
      15_000,
    );
    const finished = await done;
    expect(finished.state, `${finished.errorCode} ${finished.errorMessage}`).toBe('succeeded');
    const [row] = await app.db.select().from(jobs).where(eq(jobs.id, job.id));
    expect(row?.state).toBe('succeeded');
    expect(diffFingerprints(backupPrint, await fingerprint(env.target.url))).toEqual([]);
    // The service's connections work again: another job runs to the end.
    const after = await (await app.backups.createBackup({ description: 'after the restart' }, actor)).done;
    expect(after.state, after.errorMessage ?? '').toBe('succeeded');
  });
});
