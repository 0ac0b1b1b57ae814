import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withSql } from '@pgbs/test-support';
import { jobs } from '../../src/db/schema.js';
import { type TestEnv, createTestEnv, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const serverDir = fileURLToPath(new URL('../../', import.meta.url));

describe('jobs that do not finish normally', () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'crash');
    // Big enough that a dump takes a few seconds on two cores.
    await withSql(env.target.url, (sql) =>
      sql.unsafe(`CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 6) AS v FROM generate_series(1, 600000) g;`),
    );
  });
  afterAll(async () => env?.cleanup());

  const partials = async () => (await readdir(env.backupDir)).filter((f) => f.endsWith('.partial'));

  it('cancels a running backup: state cancelled, no file, no catalog row', async () => {
    const app = await env.startApp();
    const { job, done } = await app.backups.createBackup({}, { name: 'test' });
    await waitFor('progress', async () => ((await partials()).length > 0 ? true : undefined));
    await app.jobs.cancel(job.id);
    const finished = await done;
    expect(finished.state).toBe('cancelled');
    expect(finished.errorCode).toBe('job/cancelled');
    expect(finished.backupId).toBeNull();
    expect(await partials()).toEqual([]);
    expect(await app.backups.list()).toEqual([]);
  });

  it('stops a job that exceeds its timeout and keeps nothing', async () => {
    const app = await env.startApp({ JOB_TIMEOUT_SECONDS: '1' });
    const finished = await (await app.backups.createBackup({}, { name: 'test' })).done;
    expect(finished.state).toBe('failed');
    expect(finished.errorCode).toBe('job/timeout');
    expect(await partials()).toEqual([]);
    expect(await app.backups.list()).toEqual([]);
  });

  it('marks a job killed with the process as failed at the next start, and removes its partial file', async () => {
    const cli = spawn('node_modules/.bin/tsx', ['src/cli/main.ts', 'backup', 'create', '--description', 'doomed'], {
      cwd: serverDir,
      env: { ...process.env, ...env.env },
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise((resolve) => cli.once('exit', resolve));
    const [partial] = await waitFor('a partial file with data', async () => {
      const files = await partials();
      if (files.length === 0) return undefined;
      const { size } = await stat(`${env.backupDir}/${files[0]}`);
      return size > 0 ? files : undefined;
    });
    process.kill(-cli.pid!, 'SIGKILL');
    await exited;
    expect(partial).toBeDefined();

    const app = await env.startApp();
    const all = await app.db.select().from(jobs);
    const killed = all.find((j) => (j.params as { description?: string }).description === 'doomed');
    expect(killed?.state).toBe('failed');
    expect(killed?.errorCode).toBe('job/interrupted');
    expect(await partials()).toEqual([]);
    expect((await app.backups.list()).some((b) => b.description === 'doomed')).toBe(false);
  });
});
