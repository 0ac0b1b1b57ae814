import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, withSql } from '@pgbs/test-support';
import type { App } from '../../src/app.js';
import { backups } from '../../src/db/schema.js';
import { type TestEnv, codeOf, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const actor = { name: 'test@example.com', address: '127.0.0.1' };
const options = { noOwner: false, noPrivileges: false, safetySnapshot: false };

/** What the restores must bring back: the rows, as one digest. */
const contentOf = (url: string) =>
  withSql(url, async (sql) => {
    const [row] = await sql`SELECT count(*)::int AS n, md5(string_agg(id || v, ',' ORDER BY id)) AS digest FROM items`;
    return row as { n: number; digest: string };
  });

describe('codecs: zstd by default, streamed or spooled restores, first-stage files', () => {
  let env: TestEnv;
  let app: App;
  let original: { n: number; digest: string };
  const database = () => env.target.name;
  const restore = async (backupId: string) =>
    (await app.backups.restore({ source: { backupId }, confirmation: database(), options }, actor)).done;
  const spoolDir = () => app.uploadSpoolDir;

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'codecs');
    await withSql(env.target.url, (sql) =>
      sql.unsafe(`CREATE TABLE items AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g;
                  ALTER TABLE items ADD PRIMARY KEY (id);`),
    );
    original = await contentOf(env.target.url);
    app = await env.startApp();
  });
  afterAll(async () => env?.cleanup());

  const changeTarget = () => withSql(env.target.url, (sql) => sql`DELETE FROM items WHERE id % 2 = 0`);
  /** Back to the original rows, for the tests that dump it next. */
  const repairTarget = () =>
    withSql(
      env.target.url,
      (sql) => sql`INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 20000) g ON CONFLICT DO NOTHING`,
    );

  it('writes .dump.zst with both digests, and standard tools restore it (zstd -d | pg_restore)', async () => {
    const done = await (await app.backups.createBackup({ description: 'zstd' }, actor)).done;
    expect(done.state, done.errorMessage ?? '').toBe('succeeded');
    const backup = await app.backups.get(done.backupId!);
    expect(backup).toMatchObject({ format: 'custom', codec: 'zstd' });
    expect(backup.fileName).toMatch(/\.dump\.zst$/);
    const file = path.join(env.backupDir, backup.fileName);
    const stored = await readFile(file);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(backup.sha256);
    const content = execFileSync('zstd', ['-dc', file], { maxBuffer: 1 << 30 });
    expect(createHash('sha256').update(content).digest('hex')).toBe(backup.contentSha256);
    const manifest = JSON.parse(await readFile(`${file}.manifest.json`, 'utf8'));
    expect(manifest).toMatchObject({ manifestVersion: 2, codec: 'zstd', contentSha256: backup.contentSha256 });

    const bare = await createTestDatabase(adminUrl, 'codecs_bare', { owner: env.target });
    try {
      execFileSync('sh', ['-c', 'zstd -dc "$1" | pg_restore --exit-on-error -d "$2"', 'sh', file, bare.url]);
      expect(await contentOf(bare.url)).toEqual(original);
    } finally {
      await bare.drop();
    }
  });

  it('restores its own zstd backup streamed from storage, with no local copy', async () => {
    const [backup] = await app.backups.list();
    await changeTarget();
    const done = await restore(backup!.id);
    expect(done.state, done.errorMessage ?? '').toBe('succeeded');
    expect(await contentOf(env.target.url)).toEqual(original);
    expect(await readdir(spoolDir()).catch(() => [])).toEqual([]);
  });

  it('rolls back before COMMIT when the content digest does not match, changing nothing', async () => {
    const [backup] = await app.backups.list();
    await app.db
      .update(backups)
      .set({ contentSha256: '0'.repeat(64) })
      .where(eq(backups.id, backup!.id));
    await changeTarget();
    const changed = await contentOf(env.target.url);
    const done = await restore(backup!.id);
    expect(done).toMatchObject({ state: 'failed', errorCode: 'backup/checksum-mismatch' });
    expect(await contentOf(env.target.url)).toEqual(changed);
    await app.backups.delete(backup!.id, actor);
    await repairTarget();
  });

  it('accepts .zst and tar uploads by their bytes, and restores them from a local copy that is then removed', async () => {
    const work = path.join(env.backupDir, '..', `codecs-${process.pid}`);
    execFileSync('mkdir', ['-p', work]);
    try {
      const dump = path.join(work, 'foreign.dump');
      const tar = path.join(work, 'foreign.tar');
      const url = env.target.url;
      execFileSync('pg_dump', ['-Fc', '-f', dump, '-d', url]);
      execFileSync('pg_dump', ['-Ft', '-f', tar, '-d', url]);
      const zst = path.join(work, 'foreign.dump.zst');
      execFileSync('zstd', ['-q', dump, '-o', zst]);
      for (const [file, format] of [
        [zst, 'custom'],
        [tar, 'tar'],
      ] as const) {
        const upload = await app.backups.importUpload(file, { originalName: path.basename(file) }, actor);
        expect(upload).toMatchObject({ format, origin: 'upload', codec: file.endsWith('.zst') ? 'zstd' : 'none' });
        await changeTarget();
        const done = await restore(upload.id);
        expect(done.state, done.errorMessage ?? '').toBe('succeeded');
        expect(await contentOf(env.target.url)).toEqual(original);
        expect(await readdir(spoolDir())).toEqual([]);
      }
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('refuses a zstd upload whose window exceeds the cap, storing and restoring nothing', async () => {
    const [backup] = await app.backups.list();
    const file = path.join(env.backupDir, backup!.fileName);
    const bomb = path.join(env.backupDir, '..', `bomb-${process.pid}.zst`);
    // From a pipe zstd cannot shrink the window to the input: the frame asks for 2 GiB.
    await writeFile(
      bomb,
      execFileSync('sh', ['-c', 'cat "$1" | zstd -q --long=31 -c', 'sh', file], { maxBuffer: 1 << 30 }),
    );
    try {
      const before = (await app.backups.list()).length;
      expect(await codeOf(app.backups.importUpload(bomb, { originalName: 'bomb.dump.zst' }, actor))).toBe(
        'archive/window-too-large',
      );
      expect((await app.backups.list()).length).toBe(before);
      await changeTarget();
      const changed = await contentOf(env.target.url);
      const restoring = app.backups.restoreUpload(
        bomb,
        { originalName: 'bomb.dump.zst', confirmation: database(), options },
        actor,
      );
      expect(await codeOf(restoring)).toBe('archive/window-too-large');
      expect(await contentOf(env.target.url)).toEqual(changed);
    } finally {
      await repairTarget();
      await rm(bomb, { force: true });
    }
  });

  it('still restores and rescans first-stage backups: gzip custom .dump, plain .sql.gz, version-1 manifests', async () => {
    const gzipApp = await env.startApp({ BACKUP_CODEC: 'gzip' });
    const made = [];
    for (const format of ['custom', 'plain'] as const) {
      const done = await (await gzipApp.backups.createBackup({ format }, actor)).done;
      expect(done.state, done.errorMessage ?? '').toBe('succeeded');
      made.push(await gzipApp.backups.get(done.backupId!));
    }
    expect(made.map((b) => [b.fileName.replace(/^.*?(\.[a-z.]+)$/, '$1'), b.codec])).toEqual([
      ['.dump', 'none'],
      ['.sql.gz', 'gzip'],
    ]);
    // As the first stage wrote them: version 1, no codec, no content digest; and a catalog that lost them.
    for (const backup of made) {
      const name = path.join(env.backupDir, `${backup.fileName}.manifest.json`);
      const { codec: _codec, contentSha256: _content, ...v1 } = JSON.parse(await readFile(name, 'utf8'));
      await writeFile(name, JSON.stringify({ ...v1, manifestVersion: 1 }));
      await app.db.delete(backups).where(eq(backups.id, backup.id));
    }
    const rescanned = await app.backups.rescan(actor);
    expect(rescanned.added.sort()).toEqual(made.map((b) => b.id).sort());
    for (const backup of made) {
      expect(await app.backups.get(backup.id)).toMatchObject({ codec: backup.codec, contentSha256: null });
      await changeTarget();
      const done = await restore(backup.id);
      expect(done.state, done.errorMessage ?? '').toBe('succeeded');
      expect(await contentOf(env.target.url)).toEqual(original);
    }
  });
});
