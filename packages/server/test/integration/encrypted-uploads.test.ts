import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateAgeIdentity } from '@pgbs/engine';
import { type HostileCorpus, buildHostileCorpus, dumpInEveryFormat, withSql } from '@pgbs/test-support';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { auditEvents } from '../../src/db/schema.js';
import { CSRF_HEADER } from '../../src/http/yoga.js';
import { type ApiEnv, multipart, startApi } from './api-harness.js';
import { cli } from './cli-process.js';
import { codeOf, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const actor = { name: 'test@example.com' };
const UPLOAD_BACKUP = `mutation($file: File!, $identity: String) {
  uploadBackup(file: $file, identity: $identity) {
    __typename
    ... on MutationUploadBackupSuccess { data { id fileName format } }
    ... on CodedError { code message }
  } }`;

const RESTORE_FROM_UPLOAD = `mutation($file: File!, $confirmation: String!, $identity: String) {
  restoreFromUpload(file: $file, confirmation: $confirmation, options: { safetySnapshot: false }, identity: $identity) {
    __typename
    ... on MutationRestoreFromUploadSuccess { data { id } }
    ... on CodedError { code message }
  } }`;

interface Uploaded {
  data?: {
    uploadBackup: {
      __typename: string;
      code?: string;
      message?: string;
      data?: { id: string; fileName: string; format: string };
    };
  };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe(
  'uploads of age-encrypted files (.age): decrypted with the identity given, validated, stored re-encrypted',
  { timeout: 300_000 },
  () => {
    const masterKey = randomBytes(32).toString('base64');
    let api: ApiEnv;
    let workDir: string;
    let corpus: HostileCorpus<'top-level'>;
    const dumps = new Map<string, Buffer>();
    /** The uploader's key (not the service's): the files come encrypted to it. */
    let uploader: { identity: string; recipient: string };
    let uploaderFile: string;
    /** The target's recipient, whose identity the administrator holds. */
    let adminIdentity: string;
    let adminFingerprint: string;

    /** Encrypted by Debian's age, as an administrator would. */
    const ageEncrypt = (bytes: Buffer, recipient = uploader.recipient) =>
      execFileSync('age', ['-r', recipient], { input: bytes });
    const ageDecrypt = async (file: string, identity: string) => {
      const key = path.join(workDir, `key-${randomBytes(4).toString('hex')}.txt`);
      await writeFile(key, `${identity}\n`, { mode: 0o600 });
      return execFileSync('age', ['-d', '-i', key, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    };
    const upload = async (file: Buffer, filename: string, identity?: string) => {
      const response = await fetch(`${api.http.url}/graphql`, {
        method: 'POST',
        body: multipart(UPLOAD_BACKUP, identity ? { identity } : {}, file, filename),
        headers: { [CSRF_HEADER]: '1', cookie: api.adminCookie },
      });
      const body = (await response.json()) as Uploaded & { errors?: unknown };
      if (!body.data) throw new Error(JSON.stringify(body.errors));
      return body.data.uploadBackup;
    };
    const restoreFromUpload = async (file: Buffer, filename: string, identity?: string) => {
      const variables = { confirmation: api.env.target.name, ...(identity ? { identity } : {}) };
      const response = await fetch(`${api.http.url}/graphql`, {
        method: 'POST',
        body: multipart(RESTORE_FROM_UPLOAD, variables, file, filename),
        headers: { [CSRF_HEADER]: '1', cookie: api.adminCookie },
      });
      const body = (await response.json()) as {
        data?: { restoreFromUpload: { __typename: string; code?: string; message?: string; data?: { id: string } } };
        errors?: unknown;
      };
      if (!body.data) throw new Error(JSON.stringify(body.errors));
      return body.data.restoreFromUpload;
    };
    const itemCount = async () =>
      (await withSql(api.env.target.url, (sql) => sql`SELECT count(*)::int AS n FROM items`))[0]!.n as number;
    const jobCount = async () => (await api.app.jobs.list({ limit: 1000, offset: 0 })).length;
    const finished = (jobId: string) =>
      waitFor(`job ${jobId}`, async () => {
        const job = await api.app.jobs.get(jobId);
        return job.state === 'queued' || job.state === 'running' ? undefined : job;
      });
    const stored = async () => (await readdir(api.env.backupDir)).sort();
    const catalogSize = async () => (await api.app.backups.list()).length;

    beforeAll(async () => {
      workDir = await mkdtemp(path.join(tmpdir(), 'pgbs-age-upl-'));
      api = await startApi(adminUrl, 'ageupl', { MASTER_KEY: masterKey, RATE_LIMIT_UPLOADS_PER_HOUR: '1000' });
      await withSql(api.env.target.url, async (sql) => {
        await sql`CREATE TABLE items (id integer PRIMARY KEY, note text NOT NULL)`;
        await sql`INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g`;
      });
      for (const [name, bytes] of await dumpInEveryFormat(api.env.target.url, workDir, 'items')) dumps.set(name, bytes);
      uploader = await generateAgeIdentity();
      uploaderFile = path.join(workDir, 'uploader.txt');
      await writeFile(uploaderFile, `# the uploader's key\n${uploader.identity}\n`, { mode: 0o600 });
      const generated = await api.app.keys.generate({ name: 'admin' }, actor);
      adminIdentity = generated.identity;
      adminFingerprint = generated.recipient.fingerprint;
      const [target] = await api.app.targets.list();
      await api.app.keys.setTargetRecipients(target!.name, ['admin'], actor);
      corpus = await buildHostileCorpus({ adminUrl, workDir, variant: 'top-level' });
    });
    afterAll(async () => {
      await corpus?.dispose();
      await api?.close();
      if (workDir) await rm(workDir, { recursive: true, force: true });
    });

    it('refuses an .age upload without an identity, or with one that does not open it, storing nothing', async () => {
      const encrypted = ageEncrypt(dumps.get('items.dump')!);
      const [files, count] = [await stored(), await catalogSize()];
      expect(await upload(encrypted, 'items.dump.age')).toMatchObject({ code: 'key/identity-required' });
      const other = await generateAgeIdentity();
      expect(await upload(encrypted, 'items.dump.age', other.identity)).toMatchObject({ code: 'key/wrong-identity' });
      expect(await stored()).toEqual(files);
      expect(await catalogSize()).toBe(count);
    });

    it.each([
      ['items.dump.age', 'items.dump', 'none', 'custom'],
      ['items.dump.zst.age', 'items.dump', 'zstd', 'custom'],
      ['items.sql.age', 'items.sql', 'none', 'plain'],
      ['items.sql.gz.age', 'items.sql.gz', 'none', 'plain-gzip'],
    ] as const)(
      'accepts %s with its identity; stored encrypted to the target’s recipient, it restores',
      async (name, dump, codec, format) => {
        const clear = codec === 'zstd' ? execFileSync('zstd', ['-c'], { input: dumps.get(dump)! }) : dumps.get(dump)!;
        const result = await upload(ageEncrypt(clear), name, uploader.identity);
        expect(result.__typename, result.message).toBe('MutationUploadBackupSuccess');
        const backup = await api.app.backups.get(result.data!.id);
        expect(backup).toMatchObject({
          origin: 'upload',
          format,
          codec,
          recipientFingerprints: [adminFingerprint],
          signed: true,
        });
        expect(backup.fileName.endsWith('.age')).toBe(true);
        // Re-encrypted: the target's identity opens it (Debian's age), the uploader's no longer does.
        const file = path.join(api.env.backupDir, backup.fileName);
        expect(sha256(await readFile(file))).toBe(backup.sha256);
        expect((await ageDecrypt(file, adminIdentity)).equals(clear)).toBe(true);
        await expect(ageDecrypt(file, uploader.identity)).rejects.toThrow();
        await withSql(api.env.target.url, (sql) => sql`DELETE FROM items WHERE id > 10`);
        const done = await (
          await api.app.backups.restore(
            {
              source: { backupId: backup.id },
              confirmation: api.env.target.name,
              options: { noOwner: false, noPrivileges: false, safetySnapshot: false },
              identity: adminIdentity,
            },
            actor,
          )
        ).done;
        expect(done.state, done.errorMessage ?? '').toBe('succeeded');
        const [row] = await withSql(api.env.target.url, (sql) => sql`SELECT count(*)::int AS n FROM items`);
        expect(row!.n).toBe(500);
      },
    );

    it('refuses a hostile dump inside valid age exactly like the same dump in clear: nothing stored, nothing run', async () => {
      const marker = path.join(workDir, 'pwned');
      const metaCommand = Buffer.from(`CREATE TABLE hacked (id integer);\n\\! touch ${marker}\nDELETE FROM items;\n`);
      const hostile: [string, Buffer][] = [
        ['evil.sql', metaCommand],
        ['corpus.sql', await readFile(corpus.files.plain)],
        ['corpus.sql.gz', await readFile(corpus.files.plainGzip)],
      ];
      const [files, count] = [await stored(), await catalogSize()];
      for (const [name, bytes] of hostile) {
        const inClear = await upload(bytes, name);
        expect(inClear.__typename, name).toBe('CodedError');
        if (name === 'evil.sql') expect(inClear.code).toBe('restore/unsafe-sql');
        const encrypted = await upload(ageEncrypt(bytes), `${name}.age`, uploader.identity);
        expect(encrypted, name).toMatchObject({ __typename: 'CodedError', code: inClear.code });
      }
      expect(existsSync(marker)).toBe(false);
      expect(await readdir(corpus.sentinel)).toEqual([]);
      expect(await stored()).toEqual(files);
      expect(await catalogSize()).toBe(count);
      const hacked = await withSql(api.env.target.url, (sql) => sql`SELECT to_regclass('public.hacked') AS t`);
      expect(hacked[0]!.t).toBeNull();
      // Audited as refused uploads, under the name they came with.
      const refused = await api.app.db.select().from(auditEvents).where(eq(auditEvents.action, 'backup.upload'));
      expect(refused.filter((entry) => entry.outcome === 'failed').map((entry) => entry.details.originalName)).toEqual(
        expect.arrayContaining(['evil.sql.age', 'corpus.sql.age', 'corpus.sql.gz.age']),
      );
    });

    it('restores an .age file directly with its identity; without one or with a wrong one it is refused, changing nothing', async () => {
      const encrypted = ageEncrypt(execFileSync('zstd', ['-c'], { input: dumps.get('items.dump')! }));
      await withSql(api.env.target.url, (sql) => sql`DELETE FROM items WHERE id > 10`);
      const [files, count, jobs] = [await stored(), await catalogSize(), await jobCount()];
      expect(await restoreFromUpload(encrypted, 'items.dump.zst.age')).toMatchObject({ code: 'key/identity-required' });
      const other = await generateAgeIdentity();
      expect(await restoreFromUpload(encrypted, 'items.dump.zst.age', other.identity)).toMatchObject({
        code: 'key/wrong-identity',
      });
      expect(await jobCount()).toBe(jobs);
      expect(await itemCount()).toBe(10);
      const started = await restoreFromUpload(encrypted, 'items.dump.zst.age', uploader.identity);
      expect(started.__typename, started.message).toBe('MutationRestoreFromUploadSuccess');
      const done = await finished(started.data!.id);
      expect(done.state, done.errorMessage ?? '').toBe('succeeded');
      expect(await itemCount()).toBe(500);
      // Restored, not stored; the identity is in no job's params.
      expect(await stored()).toEqual(files);
      expect(await catalogSize()).toBe(count);
      expect(JSON.stringify(done)).not.toContain(uploader.identity.slice('AGE-SECRET-KEY-1'.length));
    });

    it('refuses a hostile dump inside valid age for a direct restore exactly like the same dump in clear: nothing run', async () => {
      const marker = path.join(workDir, 'pwned-restore');
      const metaCommand = Buffer.from(`CREATE TABLE hacked (id integer);\n\\! touch ${marker}\nDELETE FROM items;\n`);
      const hostile: [string, Buffer][] = [
        ['evil.sql', metaCommand],
        ['corpus.sql', await readFile(corpus.files.plain)],
        ['corpus.sql.gz', await readFile(corpus.files.plainGzip)],
      ];
      const [items, jobs] = [await itemCount(), await jobCount()];
      for (const [name, bytes] of hostile) {
        const inClear = await restoreFromUpload(bytes, name);
        expect(inClear.__typename, name).toBe('CodedError');
        if (name === 'evil.sql') expect(inClear.code).toBe('restore/unsafe-sql');
        const encrypted = await restoreFromUpload(ageEncrypt(bytes), `${name}.age`, uploader.identity);
        expect(encrypted, name).toMatchObject({ __typename: 'CodedError', code: inClear.code });
      }
      expect(existsSync(marker)).toBe(false);
      expect(await readdir(corpus.sentinel)).toEqual([]);
      expect(await itemCount()).toBe(items);
      expect(await jobCount()).toBe(jobs);
      const hacked = await withSql(api.env.target.url, (sql) => sql`SELECT to_regclass('public.hacked') AS t`);
      expect(hacked[0]!.t).toBeNull();
    });

    it('the CLI restores an .age file with --file and --identity FILE, and refuses it without', async () => {
      const file = path.join(workDir, 'restore-items.dump.age');
      await writeFile(file, ageEncrypt(dumps.get('items.dump')!));
      await withSql(api.env.target.url, (sql) => sql`DELETE FROM items WHERE id > 10`);
      const vars = { ...api.env.env, MASTER_KEY: masterKey };
      const args = ['backup', 'restore', '--file', file, '--yes', '--no-snapshot', '--json'];
      const refused = await cli(vars, args);
      expect(refused.code).not.toBe(0);
      expect(refused.stdout + refused.stderr).toContain('key/identity-required');
      expect(await itemCount()).toBe(10);
      const restored = await cli(vars, [...args, '--identity', uploaderFile]);
      expect(restored.code, restored.stderr).toBe(0);
      expect(restored.stdout + restored.stderr).not.toContain(uploader.identity);
      expect(await itemCount()).toBe(500);
    });

    it('the CLI uploads an .age file with --identity FILE, and refuses it without', async () => {
      const file = path.join(workDir, 'items.dump.age');
      await writeFile(file, ageEncrypt(dumps.get('items.dump')!));
      const vars = { ...api.env.env, MASTER_KEY: masterKey };
      const refused = await cli(vars, ['backup', 'upload', file, '--json']);
      expect(refused.code).not.toBe(0);
      expect(refused.stdout + refused.stderr).toContain('key/identity-required');
      const accepted = await cli(vars, ['backup', 'upload', file, '--identity', uploaderFile, '--json']);
      expect(accepted.code, accepted.stderr).toBe(0);
      expect(accepted.stdout + accepted.stderr).not.toContain(uploader.identity);
      const backup = JSON.parse(accepted.stdout) as { id: string; recipientFingerprints: string[] };
      expect(backup.recipientFingerprints).toEqual([adminFingerprint]);
      expect(await codeOf(api.app.backups.get(backup.id))).toBeUndefined();
    });
  },
);
