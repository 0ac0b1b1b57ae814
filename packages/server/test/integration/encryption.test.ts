import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateAgeIdentity } from '@pgbs/engine';
import { createTestDatabase, withSql } from '@pgbs/test-support';
import { sql as raw } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { cli } from './cli-process.js';
import { type TestEnv, codeOf, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const actor = { name: 'test@example.com', address: '127.0.0.1' };
const options = { noOwner: false, noPrivileges: false, safetySnapshot: false };

const contentOf = (url: string) =>
  withSql(url, async (sql) => {
    const [row] =
      await sql`SELECT count(*)::int AS n, md5(string_agg(id || v, ',' ORDER BY id)) AS digest FROM secret_items`;
    return row as { n: number; digest: string };
  });

describe(
  'encryption at rest: age backups, sealed and signed manifests, identities per request',
  { timeout: 300_000 },
  () => {
    const masterKey = randomBytes(32).toString('base64');
    let env: TestEnv;
    let app: App;
    let original: { n: number; digest: string };
    let identity: string;
    let keyFile: string;
    const logged: string[] = [];
    const logger: Logger = {
      info: (...args: unknown[]) => void logged.push(JSON.stringify(args)),
      warn: (...args: unknown[]) => void logged.push(JSON.stringify(args)),
      error: (...args: unknown[]) => void logged.push(JSON.stringify(args)),
    };
    const database = () => env.target.name;
    const change = () => withSql(env.target.url, (sql) => sql`DELETE FROM secret_items WHERE id % 2 = 0`);
    const restore = async (backupId: string, identity?: string) =>
      (await app.backups.restore({ source: { backupId }, confirmation: database(), options, identity }, actor)).done;

    beforeAll(async () => {
      env = await createTestEnv(adminUrl, 'crypt');
      await withSql(env.target.url, (sql) =>
        sql.unsafe(`CREATE TABLE secret_items AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g;`),
      );
      original = await contentOf(env.target.url);
      // The service's own log, kept: the identity must never reach it.
      app = await createApp(loadConfig({ ...env.env, MASTER_KEY: masterKey }), logger);
      const generated = await app.keys.generate({ name: 'admin' }, actor);
      identity = generated.identity;
      keyFile = path.join(env.backupDir, '..', `crypt-key-${process.pid}.txt`);
      await writeFile(keyFile, `# test key\n${identity}\n`, { mode: 0o600 });
      const [target] = await app.targets.list();
      await app.keys.setTargetRecipients(target!.name, ['admin'], actor);
    });
    afterAll(async () => {
      await app?.close();
      await env?.cleanup();
    });

    let backupId: string;
    let fileName: string;

    it('writes an age file of zstd content, with a sealed, signed manifest; Debian age | zstd | pg_restore restores it', async () => {
      const done = await (await app.backups.createBackup({ description: 'nightly secret' }, actor)).done;
      expect(done.state, done.errorMessage ?? '').toBe('succeeded');
      const backup = await app.backups.get(done.backupId!);
      backupId = backup.id;
      fileName = backup.fileName;
      expect(backup.fileName).toMatch(/\.dump\.zst\.age$/);
      expect(backup.recipientFingerprints).toHaveLength(1);
      expect(backup.signed).toBe(true);
      const file = path.join(env.backupDir, backup.fileName);
      const stored = await readFile(file);
      expect(stored.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
      expect(createHash('sha256').update(stored).digest('hex')).toBe(backup.sha256);
      const manifestText = await readFile(`${file}.manifest.json`, 'utf8');
      expect(manifestText).not.toContain('secret_items');
      expect(manifestText).not.toContain('nightly secret');
      const manifest = JSON.parse(manifestText);
      expect(manifest).toMatchObject({ recipientFingerprints: backup.recipientFingerprints, codec: 'zstd' });
      expect(manifest.sealedFields).toEqual(expect.any(String));
      expect(manifest.signature).toMatchObject({ algorithm: 'ed25519' });
      // Sealed without a kept identity: the service cannot list its tables.
      expect(await app.backups.contents(backup)).toBeNull();

      const bare = await createTestDatabase(adminUrl, 'crypt_bare', { owner: env.target });
      try {
        execFileSync('sh', [
          '-c',
          'age -d -i "$1" "$2" | zstd -dc | pg_restore --exit-on-error -d "$3"',
          'sh',
          keyFile,
          file,
          bare.url,
        ]);
        expect(await contentOf(bare.url)).toEqual(original);
      } finally {
        await bare.drop();
      }
    });

    it('refuses a restore without an identity or with a wrong one, changing nothing; restores with the right one', async () => {
      await change();
      const changed = await contentOf(env.target.url);
      expect(await codeOf(restore(backupId))).toBe('key/identity-required');
      const other = await generateAgeIdentity();
      expect(await codeOf(restore(backupId, other.identity))).toBe('key/wrong-identity');
      expect(await contentOf(env.target.url)).toEqual(changed);
      const done = await restore(backupId, await readFile(keyFile, 'utf8'));
      expect(done.state, done.errorMessage ?? '').toBe('succeeded');
      expect(await contentOf(env.target.url)).toEqual(original);
    });

    it('verifies the stored digest without a key, and the content with --deep and the identity', async () => {
      const plain = await (await app.backups.verify(backupId, actor)).done;
      expect(plain.state, plain.errorMessage ?? '').toBe('succeeded');
      expect(await codeOf(app.backups.verify(backupId, actor, { deep: true }))).toBe('key/identity-required');
      const deep = await (await app.backups.verify(backupId, actor, { deep: true, identity })).done;
      expect(deep.state, deep.errorMessage ?? '').toBe('succeeded');
    });

    it('the CLI restores with --identity FILE and deep-verifies with it; without one (no terminal) it is refused', async () => {
      const vars = { ...env.env, MASTER_KEY: masterKey };
      await change();
      const refused = await cli(vars, ['backup', 'restore', backupId, '--yes', '--no-snapshot', '--json']);
      expect(refused.code).not.toBe(0);
      expect(refused.stdout + refused.stderr).toContain('key/identity-required');
      const restored = await cli(vars, [
        'backup',
        'restore',
        backupId,
        '--yes',
        '--no-snapshot',
        '--identity',
        keyFile,
      ]);
      expect(restored.code, restored.stderr).toBe(0);
      expect(await contentOf(env.target.url)).toEqual(original);
      const verified = await cli(vars, ['backup', 'verify', backupId, '--deep', '--identity', keyFile]);
      expect(verified.code, verified.stderr).toBe(0);
      expect(restored.stdout + restored.stderr + verified.stdout + verified.stderr).not.toContain('AGE-SECRET-KEY');
    });

    it('never stores the identity: not in jobs, audit events or the log', async () => {
      const secret = identity.slice('AGE-SECRET-KEY-1'.length);
      const rows = await app.db.execute(raw`SELECT (SELECT coalesce(string_agg(j::text, ''), '') FROM jobs j) ||
      (SELECT coalesce(string_agg(a::text, ''), '') FROM audit_events a) AS text`);
      const text = (rows as unknown as { text: string }[])[0]!.text;
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toContain(secret);
      expect(logged.join('\n')).not.toContain(secret);
    });

    it('a tampered manifest loses its signature on rescan: the backup is foreign, sealed fields stay sealed', async () => {
      const manifestPath = path.join(env.backupDir, `${fileName}.manifest.json`);
      const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
      await writeFile(manifestPath, JSON.stringify({ ...manifest, origin: 'scheduled' }));
      await app.db.execute(raw`DELETE FROM backups`);
      await app.backups.rescan(actor);
      const backup = await app.backups.get(backupId);
      expect(backup).toMatchObject({ signed: false, description: '(encrypted)', tableSizes: [] });
      await change();
      // Validated completely (both digests) before the restore, which then succeeds.
      const done = await restore(backupId, identity);
      expect(done.state, done.errorMessage ?? '').toBe('succeeded');
      expect(await contentOf(env.target.url)).toEqual(original);
    });
  },
);
