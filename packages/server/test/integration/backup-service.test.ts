import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  diffFingerprints,
  fingerprint,
  loadFeatureRichSchema,
  mutateFeatureRichDatabase,
  withSql,
} from '@pgbs/test-support';
import type { App } from '../../src/app.js';
import { jobs } from '../../src/db/schema.js';
import { freshLockSessions, takeJobLocks } from '../../src/jobs/target-lock.js';
import { type TestEnv, codeOf, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const actor = { name: 'test@example.com', address: '127.0.0.1' };

describe('backup service', () => {
  let env: TestEnv;
  let app: App;

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'svc');
    await loadFeatureRichSchema(env.target.url);
    app = await env.startApp();
  });
  afterAll(async () => env?.cleanup());

  it('creates a backup: file, manifest, checksum and catalog row agree', async () => {
    const { job, done } = await app.backups.createBackup({ description: '  nightly  ' }, actor);
    expect(job.state).toBe('queued'); // a real state now: the queue starts it
    const finished = await done;
    expect(finished.state, finished.errorMessage ?? '').toBe('succeeded');
    expect((finished.progress as { percent: number }).percent).toBe(100);
    const backup = await app.backups.get(finished.backupId!);
    expect(backup.description).toBe('nightly');
    expect(backup.origin).toBe('manual');
    expect(backup.tableCount).toBeGreaterThan(5);
    const bytes = await readFile(path.join(env.backupDir, backup.fileName));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(backup.sha256);
    expect(bytes.length).toBe(backup.sizeBytes);
    const manifest = JSON.parse(await readFile(path.join(env.backupDir, `${backup.fileName}.manifest.json`), 'utf8'));
    expect(manifest.sha256).toBe(backup.sha256);
    expect((await readdir(env.backupDir)).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('verifies a backup, and detects a damaged file', async () => {
    const { done } = await app.backups.createBackup({ format: 'plain' }, actor);
    const backup = await app.backups.get((await done).backupId!);
    expect(backup.fileName).toMatch(/\.sql\.gz$/);
    const verified = await (await app.backups.verify(backup.id, actor)).done;
    expect(verified.state, verified.errorMessage ?? '').toBe('succeeded');
    expect((await app.backups.get(backup.id)).verifyStatus).toBe('ok');

    const file = path.join(env.backupDir, backup.fileName);
    const bytes = await readFile(file);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff;
    await writeFile(file, bytes);
    const failed = await (await app.backups.verify(backup.id, actor)).done;
    expect(failed.state).toBe('failed');
    expect(['backup/checksum-mismatch', 'archive/corrupt']).toContain(failed.errorCode);
    expect((await app.backups.get(backup.id)).verifyStatus).toBe('failed');
    await app.backups.delete(backup.id, actor);
  });

  it('refuses a restore whose confirmation does not match, without starting anything', async () => {
    const [latest] = await app.backups.list();
    const jobCount = (await app.db.select().from(jobs)).length;
    expect(
      await codeOf(
        app.backups.restore(
          {
            source: { backupId: latest!.id },
            confirmation: 'wrong',
            options: { noOwner: false, noPrivileges: false, safetySnapshot: true },
          },
          actor,
        ),
      ),
    ).toBe('restore/confirmation-mismatch');
    expect((await app.db.select().from(jobs)).length).toBe(jobCount);
  });

  it('restores over a changed database after a safety snapshot, exactly', async () => {
    const original = await fingerprint(env.target.url);
    const { done } = await app.backups.createBackup({ description: 'before changes' }, actor);
    const backupId = (await done).backupId!;
    await mutateFeatureRichDatabase(env.target.url);
    const changed = await fingerprint(env.target.url);

    const restore = await app.backups.restore(
      {
        source: { backupId },
        confirmation: env.target.name,
        options: { noOwner: false, noPrivileges: false, safetySnapshot: true },
      },
      actor,
    );
    const finished = await restore.done;
    expect(finished.state, finished.errorMessage ?? '').toBe('succeeded');
    expect(diffFingerprints(original, await fingerprint(env.target.url))).toEqual([]);

    const snapshot = (await app.backups.list()).find((b) => b.origin === 'pre-restore-snapshot');
    expect(snapshot).toBeDefined();
    // The snapshot holds the changed state: restoring it brings the changes back.
    const back = await app.backups.restore(
      {
        source: { backupId: snapshot!.id },
        confirmation: env.target.name,
        options: { noOwner: false, noPrivileges: false, safetySnapshot: false },
      },
      actor,
    );
    expect((await back.done).state).toBe('succeeded');
    expect(diffFingerprints(changed, await fingerprint(env.target.url))).toEqual([]);
  });

  it('refuses a second restore while one holds the target (across connections)', async () => {
    const [latest] = await app.backups.list();
    // As another process (a first-stage CLI, a job's locks) holding the database would.
    const held = (await takeJobLocks(
      freshLockSessions(() => postgres(env.metadata.url, { max: 1 })),
      {
        database: { key: await app.backups.lockKey(), mode: 'exclusive' },
        slots: { global: 0, perServer: 0 },
      },
    ))!;
    expect(held).not.toBeNull();
    try {
      const options = { noOwner: false, noPrivileges: false, safetySnapshot: false };
      expect(
        await codeOf(
          app.backups.restore({ source: { backupId: latest!.id }, confirmation: env.target.name, options }, actor),
        ),
      ).toBe('job/busy');
      expect(await codeOf(app.backups.createBackup({}, actor))).toBe('job/busy');
    } finally {
      await held.release();
    }
  });

  it('refuses to delete a backup a running job uses', async () => {
    const [latest] = await app.backups.list();
    await app.db
      .insert(jobs)
      .values({ id: crypto.randomUUID(), kind: 'restore', state: 'running', backupId: latest!.id });
    expect(await codeOf(app.backups.delete(latest!.id, actor))).toBe('backup/in-use');
    await app.db.update(jobs).set({ state: 'failed' });
  });

  it('rebuilds the catalog from the storage directory', async () => {
    const before = (await app.backups.list()).map((b) => b.id).sort();
    await withSql(env.metadata.url, (sql) => sql`UPDATE jobs SET backup_id = NULL`);
    await withSql(env.metadata.url, (sql) => sql`DELETE FROM backups`);
    expect(await app.backups.list()).toEqual([]);
    const result = await app.backups.rescan(actor);
    expect(result.added.sort()).toEqual(before);
    expect((await app.backups.list()).map((b) => b.id).sort()).toEqual(before);
  });

  it('audits what happened', async () => {
    const events = await withSql(env.metadata.url, (sql) => sql`SELECT action, outcome FROM audit_events`);
    const actions = new Set(events.map((e) => e.action));
    for (const action of ['backup.create', 'backup.verify', 'backup.restore', 'backup.delete', 'backup.rescan']) {
      expect(actions).toContain(action);
    }
  });
});
