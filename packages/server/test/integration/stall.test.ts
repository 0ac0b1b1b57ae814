import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { withSql } from '@pgbs/test-support';
import { type TestEnv, createTestEnv, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv(adminUrl, 'stall');
  await withSql(env.target.url, (sql) =>
    sql.unsafe(`CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 6) AS v FROM generate_series(1, 600000) g;`),
  );
});
afterAll(async () => env?.cleanup());

const partials = async () => (await readdir(env.backupDir)).filter((f) => f.endsWith('.partial'));

/** This process's pg_dump (the in-process app's job spawned it). */
async function ourPgDump(): Promise<number | undefined> {
  const { stdout } = await promisify(execFile)('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]);
  const line = stdout.split('\n').find((l) => l.trim().endsWith('pg_dump'));
  return line ? Number(line.trim().split(/\s+/)[0]) : undefined;
}

it('fails a job whose bytes stop and whose server does nothing for it with job/stalled, keeping nothing', async () => {
  const app = await env.startApp({ STALL_TIMEOUT_SECONDS: '2' });
  const { job, done } = await app.backups.createBackup({ description: 'will hang' }, { name: 'test' });
  await waitFor('a partial file with data', async () => {
    const [file] = await partials();
    return file && (await stat(`${env.backupDir}/${file}`)).size > 0 ? true : undefined;
  });
  // pg_dump hangs (as on a stuck NFS write): no bytes, and its backend only waits for it (ClientWrite).
  const pid = await waitFor('pg_dump', ourPgDump);
  process.kill(pid, 'SIGSTOP');
  const finished = await done;
  expect(finished.id).toBe(job.id);
  expect(finished.state).toBe('failed');
  expect(finished.errorCode).toBe('job/stalled');
  expect(finished.activityAt).not.toBeNull();
  expect(await partials()).toEqual([]);
  expect(await app.backups.list()).toEqual([]);
});

it('a job whose bytes keep moving is not stalled by a short timeout', async () => {
  const app = await env.startApp({ STALL_TIMEOUT_SECONDS: '3' });
  const finished = await (await app.backups.createBackup({ description: 'moving' }, { name: 'test' })).done;
  expect(finished.state, `${finished.errorCode} ${finished.errorMessage}`).toBe('succeeded');
});
