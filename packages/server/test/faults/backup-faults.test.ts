import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withSql } from '@pgbs/test-support';
import { jobs } from '../../src/db/schema.js';
import { isCodedError } from '../../src/errors/service-error.js';
import { type TestEnv, createTestEnv, waitFor } from '../integration/harness.js';

const adminUrl = inject('pgAdminUrl');
const run = promisify(execFile);
const actor = { name: 'test' };

describe('backup and restore faults', () => {
  let env: TestEnv;

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'fbak');
    // Big enough that a dump takes a few seconds and its custom archive is well over 2 MB.
    await withSql(env.target.url, (sql) =>
      sql.unsafe(`CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 6) AS v FROM generate_series(1, 600000) g;`),
    );
  });
  afterAll(async () => env?.cleanup());

  const leftovers = async (dir = env.backupDir) => (await readdir(dir)).filter((f) => !f.startsWith('.'));

  it('pg_dump killed mid-way: the job fails with a coded error, no file, no catalog row', async () => {
    const app = await env.startApp();
    const before = await leftovers();
    const { job, done } = await app.backups.createBackup({ description: 'pg_dump dies' }, actor);
    // The job's pg_dump, told apart from other tests' by its PGAPPNAME (pgbs-backup-<job id>).
    const appName = `PGAPPNAME=pgbs-backup-${job.id.slice(0, 8)}`;
    const pid = await waitFor('the job’s pg_dump with some output', async () => {
      const { stdout } = await run('pgrep', ['-x', 'pg_dump']).catch(() => ({ stdout: '' }));
      for (const candidate of stdout.split('\n').filter(Boolean).map(Number)) {
        const environ = await readFile(`/proc/${candidate}/environ`, 'latin1').catch(() => '');
        if (!environ.split('\0').includes(appName)) continue;
        const partial = (await readdir(env.backupDir)).some((f) => f.endsWith('.partial'));
        return partial ? candidate : undefined;
      }
      return undefined;
    });
    process.kill(pid, 'SIGKILL');
    const finished = await done;
    expect(finished.state).toBe('failed');
    expect(finished.errorCode).toMatch(/^[a-z]+\/[a-z-]+$/);
    expect(finished.errorCode).not.toBe('internal');
    expect(finished.backupId).toBeNull();
    expect(await leftovers()).toEqual(before);
    expect(await app.backups.list()).toEqual([]);
  });

  it('target database unreachable: pg/connection-failed at once, nothing written', async () => {
    const app = await env.startApp({ DATABASE_URL: 'postgres://nobody:secret@127.0.0.1:1/nowhere' });
    const jobsBefore = (await app.db.select().from(jobs)).length;
    const started = Date.now();
    const error = await app.backups.createBackup({}, actor).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isCodedError(error, 'pg/connection-failed'), String(error)).toBe(true);
    expect(String((error as Error).message)).not.toContain('secret');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await leftovers()).toEqual([]);
    expect((await app.db.select().from(jobs)).length).toBe(jobsBefore);
  });

  it('disk full while a backup is written: backup/disk-full, nothing half-written kept', async (context) => {
    // A 2 MB tmpfs (root only); the custom archive of `big` is several MB.
    const dir = path.join(env.backupDir, '.tiny');
    await mkdir(dir, { recursive: true });
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      context.skip(`cannot mount a size-limited tmpfs here (needs root): ${(error as Error).message.split('\n')[0]}`);
      return;
    }
    try {
      const app = await env.startApp({ BACKUP_DIR: dir, UPLOAD_TEMP_DIR: path.join(env.backupDir, '.uploads-tiny') });
      const finished = await (await app.backups.createBackup({ description: 'too big' }, actor)).done;
      expect(finished.state).toBe('failed');
      expect(finished.errorCode, finished.errorMessage ?? '').toBe('backup/disk-full');
      expect(finished.backupId).toBeNull();
      expect(await readdir(dir)).toEqual([]);
      expect(await app.backups.list()).toEqual([]);
      // The space is given back: a small write succeeds again.
      const { stdout } = await run('df', ['--output=used', dir]);
      expect(Number(stdout.split('\n')[1])).toBeLessThan(100);
    } finally {
      await run('umount', [dir]).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('two restores requested at once: one refused with job/busy, the other succeeds', async () => {
    const first = await env.startApp();
    const backup = await (await first.backups.createBackup({ description: 'for the race' }, actor)).done;
    expect(backup.state, backup.errorMessage ?? '').toBe('succeeded');
    // Two apps, so two metadata connections, as with a server and a CLI.
    const second = await env.startApp();
    const request = { source: { backupId: backup.backupId! }, confirmation: env.target.name };
    const options = { noOwner: false, noPrivileges: false, safetySnapshot: false };
    const results = await Promise.allSettled([
      first.backups.restore({ ...request, options }, actor),
      second.backups.restore({ ...request, options }, actor),
    ]);
    const refused = results.filter((r) => r.status === 'rejected');
    const started = results.filter((r) => r.status === 'fulfilled');
    expect(refused).toHaveLength(1);
    expect(started).toHaveLength(1);
    expect(isCodedError(refused[0]!.reason, 'job/busy'), String(refused[0]!.reason)).toBe(true);
    const finished = await started[0]!.value.done;
    expect(finished.state, finished.errorMessage ?? '').toBe('succeeded');
    const [row] = await withSql(env.target.url, (sql) => sql`SELECT count(*)::int AS n FROM big`);
    expect(row!.n).toBe(600_000);
  });
});
