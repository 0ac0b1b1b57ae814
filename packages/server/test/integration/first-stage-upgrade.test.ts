import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { withSql } from '@pgbs/test-support';
import { backups, jobs } from '../../src/db/schema.js';
import { type TestEnv, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv(adminUrl, 'upgrade');
});
afterAll(async () => env?.cleanup());

it('upgrades a first-stage catalog in place: its running job fails as interrupted, its backups join the target', async () => {
  // The schema as migrations leave it, then the rows a first-stage service left: no targets, no
  // instances, a job "running" in a process that is gone, a backup of the single target of then.
  const first = await env.startApp();
  await first.close();
  const partial = path.join(env.backupDir, 'old.dump.partial');
  await writeFile(partial, 'half a dump');
  const jobId = randomUUID();
  const backupId = randomUUID();
  await withSql(env.metadata.url, async (sql) => {
    await sql`DELETE FROM targets`;
    await sql`INSERT INTO backups (id, file_name, format, size_bytes, sha256, origin)
              VALUES (${backupId}, 'old.dump', 'custom', 1, 'x', 'manual')`;
    await sql`INSERT INTO jobs (id, kind, state, params, partial_path, started_at)
              VALUES (${jobId}, 'backup', 'running', '{}', ${partial}, now())`;
  });

  const app = await env.startApp();
  const [job] = await app.db.select().from(jobs).where(eq(jobs.id, jobId));
  expect(job).toMatchObject({ state: 'failed', errorCode: 'job/interrupted', partialPath: null });
  expect(existsSync(partial)).toBe(false);
  const [backup] = await app.db.select().from(backups).where(eq(backups.id, backupId));
  expect(backup?.targetId).toBe((await app.targets.connections.defaultTarget()).id);
  // And the queue runs jobs on it.
  const finished = await (await app.backups.createBackup({ description: 'after the upgrade' }, { name: 'test' })).done;
  expect(finished.state, finished.errorMessage ?? '').toBe('succeeded');
  expect(finished.targetId).toBe(backup?.targetId);

  // Later starts attach only the first stage's jobs: one of today without a target, or of a kind
  // the first stage did not have, has none on purpose.
  const today = randomUUID();
  const newKind = randomUUID();
  await withSql(env.metadata.url, async (sql) => {
    await sql`INSERT INTO jobs (id, kind, state, params) VALUES (${today}, 'verify', 'failed', '{}')`;
    await sql`INSERT INTO jobs (id, kind, state, params, created_at)
              VALUES (${newKind}, 'prune', 'failed', '{}', '2020-01-01T00:00:00Z')`;
  });
  await app.close();
  const again = await env.startApp();
  const targetOf = async (id: string) =>
    (await again.db.select({ targetId: jobs.targetId }).from(jobs).where(eq(jobs.id, id)))[0]?.targetId;
  expect(await targetOf(today)).toBeNull();
  expect(await targetOf(newKind)).toBeNull();
  expect(await targetOf(jobId)).toBe(backup?.targetId);
});
