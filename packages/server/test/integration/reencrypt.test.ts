import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type S3TestServer, startS3Server, withSql } from '@pgbs/test-support';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { App } from '../../src/app.js';
import { auditEvents, backupCopies, backups, jobs, readLeases } from '../../src/db/schema.js';
import { cli, spawnCli } from './cli-process.js';
import { type TestEnv, codeOf, createTestEnv, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const BUCKET = 'pgbs-reencrypt';
const actor = { name: 'test@example.com' };
const options = { noOwner: false, noPrivileges: false, safetySnapshot: false };

const contentOf = (url: string) =>
  withSql(url, async (sql) => {
    const [row] = await sql`SELECT count(*)::int AS n, md5(string_agg(id || v, ',' ORDER BY id)) AS digest FROM items`;
    return row as { n: number; digest: string };
  });

const sha256Of = async (stream: NodeJS.ReadableStream) => {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

describe(
  'backup reencrypt: to the target’s current recipients, verified before the old objects go',
  { timeout: 300_000 },
  () => {
    const masterKey = randomBytes(32).toString('base64');
    let env: TestEnv;
    let s3: S3TestServer;
    let app: App;
    let original: { n: number; digest: string };
    let targetName: string;
    let offsiteId: string;
    const keys: Record<string, { identity: string; file: string }> = {};

    const run = async (
      started: Promise<{ done: Promise<{ state: string; errorMessage: string | null; errorCode: string | null }> }>,
    ) => (await started).done;
    const restore = async (backupId: string, identity?: string) =>
      run(app.backups.restore({ source: { backupId }, confirmation: env.target.name, options, identity }, actor));
    const localFiles = async () => (await readdir(env.backupDir)).sort();
    const offsiteFiles = async () =>
      (await (await app.destinations.storage('offsite')).list()).map((object) => object.name).sort();
    /** Nothing uses the backup any more (its copy jobs have ended). */
    const settled = (backupId: string) =>
      waitFor('the copies', async () => {
        const copies = await app.db.select().from(backupCopies).where(eq(backupCopies.backupId, backupId));
        const active = await app.db
          .select()
          .from(jobs)
          .where(and(eq(jobs.backupId, backupId), inArray(jobs.state, ['queued', 'running'])));
        return copies.length === 2 && copies.every((copy) => copy.state === 'complete') && active.length === 0
          ? copies
          : undefined;
      });
    const generate = async (name: string) => {
      const { identity } = await app.keys.generate({ name }, actor);
      const file = path.join(env.backupDir, '..', `reencrypt-${name}-${process.pid}.txt`);
      await writeFile(file, `${identity}\n`, { mode: 0o600 });
      keys[name] = { identity, file };
    };

    beforeAll(async () => {
      env = await createTestEnv(adminUrl, 'reenc');
      await withSql(env.target.url, (sql) =>
        sql.unsafe(`CREATE TABLE items AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g;`),
      );
      original = await contentOf(env.target.url);
      s3 = await startS3Server({ buckets: [BUCKET] });
      app = await env.startApp({ MASTER_KEY: masterKey }, { scheduleTicker: false });
      const { destination } = await app.destinations.add(
        {
          name: 'offsite',
          kind: 's3',
          endpoint: s3.endpoint,
          bucket: BUCKET,
          prefix: 'pg',
          pathStyle: true,
          credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        },
        actor,
      );
      offsiteId = destination.id;
      const [target] = await app.targets.list();
      targetName = target!.name;
      await app.destinations.setForTarget(target!.id, ['local', 'offsite'], actor);
      await generate('old');
      await generate('new');
    });
    afterAll(async () => {
      await app?.close();
      await s3?.stop();
      await env?.cleanup();
    });

    let backupId: string;

    it('encrypts a backup stored in clear once its target has recipients (no identity needed), on both destinations', async () => {
      const made = await run(app.backups.createBackup({ description: 'in clear' }, actor));
      expect(made.state, made.errorMessage ?? '').toBe('succeeded');
      const clear = await app.backups.get((made as unknown as { backupId: string }).backupId);
      backupId = clear.id;
      await settled(backupId);
      expect(clear.recipientFingerprints).toEqual([]);
      // No recipients: nothing to encrypt to.
      expect(await codeOf(app.backups.reencrypt(backupId, actor))).toBe('key/no-recipient');

      await app.keys.setTargetRecipients(targetName, ['old'], actor);
      const done = await run(app.backups.reencrypt(backupId, actor));
      expect(done.state, done.errorMessage ?? '').toBe('succeeded');
      const encrypted = await app.backups.get(backupId);
      expect(encrypted.fileName).toMatch(/-r[0-9a-f]{8}\.dump\.zst\.age$/);
      expect(encrypted.recipientFingerprints).toEqual([(await app.keys.get('old')).fingerprint]);
      expect(encrypted.contentSha256).toBe(clear.contentSha256);
      expect(encrypted.signed).toBe(true);
      // The old objects are gone from both destinations; the new ones are there with their manifests.
      for (const files of [await localFiles(), await offsiteFiles()]) {
        expect(files.filter((name) => name.startsWith(clear.fileName))).toEqual([]);
        expect(files).toContain(encrypted.fileName);
        expect(files).toContain(`${encrypted.fileName}.manifest.json`);
      }
      const copies = await app.db.select().from(backupCopies).where(eq(backupCopies.backupId, backupId));
      expect(copies.map((copy) => [copy.objectName, copy.storedSha256, copy.state])).toEqual([
        [encrypted.fileName, encrypted.sha256, 'complete'],
        [encrypted.fileName, encrypted.sha256, 'complete'],
      ]);
      const stored = await readFile(path.join(env.backupDir, encrypted.fileName));
      expect(stored.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
      expect(createHash('sha256').update(stored).digest('hex')).toBe(encrypted.sha256);
      const offsite = await app.destinations.storage('offsite');
      expect(await sha256Of(await offsite.openRead(encrypted.fileName))).toBe(encrypted.sha256);
      // The manifest is sealed to the new recipients: no table name in clear.
      const manifest = await readFile(path.join(env.backupDir, `${encrypted.fileName}.manifest.json`), 'utf8');
      expect(manifest).not.toContain('in clear');
      expect(JSON.parse(manifest)).toMatchObject({ sealedFields: expect.any(String), sha256: encrypted.sha256 });
      // Debian's age opens it with the identity.
      const content = execFileSync('sh', [
        '-c',
        'age -d -i "$1" "$2" | zstd -dc | sha256sum',
        'sh',
        keys.old!.file,
        path.join(env.backupDir, encrypted.fileName),
      ]);
      expect(content.toString().split(' ')[0]).toBe(encrypted.contentSha256);
    });

    it('refuses a wrong identity or none, changing nothing', async () => {
      await app.keys.setTargetRecipients(targetName, ['new'], actor);
      const before = await app.backups.get(backupId);
      const files = await localFiles();
      expect(await codeOf(app.backups.reencrypt(backupId, actor))).toBe('key/identity-required');
      expect(await codeOf(app.backups.reencrypt(backupId, actor, { identity: keys.new!.identity }))).toBe(
        'key/wrong-identity',
      );
      expect(await app.backups.get(backupId)).toEqual(before);
      expect(await localFiles()).toEqual(files);
    });

    it('abandons a re-encryption whose content does not check out, leaving the old backup whole', async () => {
      const before = await app.backups.get(backupId);
      const local = await localFiles();
      const offsite = await offsiteFiles();
      // What a damaged read would look like: the content digest the pass computes is not the recorded one.
      await app.db
        .update(backups)
        .set({ contentSha256: 'f'.repeat(64) })
        .where(eq(backups.id, backupId));
      const failed = await run(app.backups.reencrypt(backupId, actor, { identity: keys.old!.identity }));
      await app.db.update(backups).set({ contentSha256: before.contentSha256 }).where(eq(backups.id, backupId));
      expect(failed.state).toBe('failed');
      expect(failed.errorCode).toBe('backup/checksum-mismatch');
      expect(await app.backups.get(backupId)).toMatchObject({
        fileName: before.fileName,
        sha256: before.sha256,
        recipientFingerprints: before.recipientFingerprints,
      });
      // The new objects were removed from both destinations, the old ones kept.
      expect(await localFiles()).toEqual(local);
      expect(await offsiteFiles()).toEqual(offsite);
      const done = await restore(backupId, keys.old!.identity);
      expect(done.state, done.errorMessage ?? '').toBe('succeeded');
    });

    it('does not switch a backup a download (on any instance) is reading: the old objects stay, the new go', async () => {
      const before = await app.backups.get(backupId);
      const local = await localFiles();
      const offsite = await offsiteFiles();
      const lease = {
        id: randomUUID(),
        backupId,
        destinationId: offsiteId,
        instanceId: randomUUID(),
        purpose: 'download',
        expiresAt: sql`now() + interval '1 hour'`,
      };
      await app.db.insert(readLeases).values(lease);
      const failed = await run(app.backups.reencrypt(backupId, actor, { identity: keys.old!.identity }));
      await app.db.delete(readLeases).where(eq(readLeases.id, lease.id));
      expect(failed.state).toBe('failed');
      expect(failed.errorCode).toBe('backup/in-use');
      expect(await app.backups.get(backupId)).toMatchObject({ fileName: before.fileName, sha256: before.sha256 });
      expect(await localFiles()).toEqual(local);
      expect(await offsiteFiles()).toEqual(offsite);
    });

    it('the CLI re-encrypts to the new key with --identity FILE; the new identity restores it, the old one no longer does', async () => {
      const before = await app.backups.get(backupId);
      const result = await cli({ ...env.env, MASTER_KEY: masterKey }, [
        'backup',
        'reencrypt',
        backupId,
        '--identity',
        keys.old!.file,
        '--json',
      ]);
      expect(result.code, result.stderr).toBe(0);
      const output = JSON.parse(result.stdout) as { job: { state: string; kind: string } };
      expect(output.job).toMatchObject({ state: 'succeeded', kind: 'reencrypt' });
      expect(result.stdout + result.stderr).not.toContain(keys.old!.identity);
      const after = await app.backups.get(backupId);
      expect(after.fileName).not.toBe(before.fileName);
      expect(after.recipientFingerprints).toEqual([(await app.keys.get('new')).fingerprint]);
      expect((await localFiles()).filter((name) => name.startsWith(before.fileName))).toEqual([]);
      expect(await offsiteFiles()).not.toContain(before.fileName);
      await withSql(env.target.url, (sql) => sql`DELETE FROM items WHERE id % 2 = 0`);
      expect(await codeOf(restore(backupId, keys.old!.identity))).toBe('key/wrong-identity');
      const done = await restore(backupId, keys.new!.identity);
      expect(done.state, done.errorMessage ?? '').toBe('succeeded');
      expect(await contentOf(env.target.url)).toEqual(original);
      // Read from S3 alone: the copy there is the re-encrypted one too.
      const copies = await app.db.select().from(backupCopies).where(eq(backupCopies.backupId, backupId));
      expect(copies.find((copy) => copy.destinationId === offsiteId)).toMatchObject({
        objectName: after.fileName,
        storedSha256: after.sha256,
      });
      const audits = await app.db.select().from(auditEvents).where(eq(auditEvents.action, 'backup.reencrypt'));
      expect(audits.map((entry) => entry.outcome).sort()).toEqual(['failed', 'failed', 'succeeded', 'succeeded']);
    });

    it('refuses a backup encrypted to its target’s current recipients already', async () => {
      expect(await codeOf(app.backups.reencrypt(backupId, actor, { identity: keys.new!.identity }))).toBe(
        'backup/already-encrypted-to-current',
      );
    });

    it('refuses while a copy is being deleted; removes the old objects a failed copy left on its destination', async () => {
      const before = await app.backups.get(backupId);
      // The identity given (new's) is one of the new recipients too: it must open the new file before the switch.
      await app.keys.setTargetRecipients(targetName, ['old', 'new'], actor);
      const setOffsite = (state: string) =>
        app.db
          .update(backupCopies)
          .set({ state })
          .where(and(eq(backupCopies.backupId, backupId), eq(backupCopies.destinationId, offsiteId)));
      // A delete interrupted on the destination: it would remove the new name and leave the old objects.
      await setOffsite('deleting');
      expect(await codeOf(app.backups.reencrypt(backupId, actor, { identity: keys.new!.identity }))).toBe(
        'backup/in-use',
      );
      expect(await app.backups.get(backupId)).toEqual(before);

      // A delete that failed there: the copy is failed, its objects still on the destination.
      await setOffsite('failed');
      expect(await offsiteFiles()).toContain(before.fileName);
      const done = await run(app.backups.reencrypt(backupId, actor, { identity: keys.new!.identity }));
      expect(done.state, done.errorMessage ?? '').toBe('succeeded');
      const after = await app.backups.get(backupId);
      expect(after.fileName).not.toBe(before.fileName);
      expect(after.recipientFingerprints.sort()).toEqual(
        [(await app.keys.get('old')).fingerprint, (await app.keys.get('new')).fingerprint].sort(),
      );
      expect(await localFiles()).toContain(after.fileName);
      // Nothing of the old backup is left anywhere; the failed copy is made later from the new name.
      for (const files of [await localFiles(), await offsiteFiles()]) {
        expect(files.filter((name) => name.startsWith(before.fileName))).toEqual([]);
      }
      const copies = await app.db.select().from(backupCopies).where(eq(backupCopies.backupId, backupId));
      expect(copies.find((copy) => copy.destinationId === offsiteId)).toMatchObject({
        state: 'failed',
        objectName: after.fileName,
      });
    });
  },
);

describe('backup reencrypt killed midway', { timeout: 600_000 }, () => {
  const masterKey = randomBytes(32).toString('base64');
  let env: TestEnv;
  let keptId: string;

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'reenckill');
    // Incompressible enough that the one pass lasts long enough to be killed inside it.
    await withSql(env.target.url, (sql) =>
      sql.unsafe(
        `CREATE TABLE items AS SELECT g AS id, md5(random()::text) || md5(random()::text) || md5(random()::text) AS v FROM generate_series(1, 1000000) g;`,
      ),
    );
  });
  afterAll(async () => env?.cleanup());

  it('leaves the old backup whole and usable; recovery discards the partial new object', async () => {
    const first = await env.startApp({ MASTER_KEY: masterKey }, { scheduleTicker: false });
    const made = await (await first.backups.createBackup({ description: 'kept' }, actor)).done;
    expect(made.state, made.errorMessage ?? '').toBe('succeeded');
    const before = await first.backups.get(made.backupId!);
    keptId = before.id;
    await first.keys.generate({ name: 'later' }, actor);
    await first.keys.setTargetRecipients((await first.targets.list())[0]!.name, ['later'], actor);
    await first.close();
    const files = (await readdir(env.backupDir)).sort();

    // The CLI runs the job itself: no other instance is up to take it.
    const cli = spawnCli({ ...env.env, MASTER_KEY: masterKey }, ['backup', 'reencrypt', before.id, '--json']);
    // Killed while its writer is open (its partial ref recorded), before anything is switched.
    await withSql(env.metadata.url, (sql) =>
      waitFor(
        'the re-encryption writing',
        async () => {
          const [job] = await sql`SELECT state, partial_ref, error_message FROM jobs WHERE kind = 'reencrypt'`;
          // Ended before it could be killed: the test proves nothing then, and says why.
          if (job && job.state !== 'queued' && job.state !== 'running') {
            throw new Error(`the job ended (${job.state}: ${job.error_message}) before it was killed; ${cli.stderr}`);
          }
          return job?.partial_ref ? job : undefined;
        },
        120_000,
      ),
    );
    cli.signal('SIGKILL');
    await cli.done;

    const app = await env.startApp({ MASTER_KEY: masterKey }, { scheduleTicker: false });
    const [job] = await app.db.select().from(jobs).where(eq(jobs.kind, 'reencrypt'));
    expect(job).toMatchObject({ state: 'failed', errorCode: 'job/interrupted', partialRef: null });
    expect(await app.backups.get(before.id)).toEqual(before);
    // Only the old backup's objects: the partial is gone, nothing new was committed.
    expect((await readdir(env.backupDir)).sort()).toEqual(files);
    expect(files).toContain(before.fileName);
    await withSql(env.target.url, (sql) => sql`DELETE FROM items WHERE id % 2 = 0`);
    const restored = await (
      await app.backups.restore({ source: { backupId: before.id }, confirmation: env.target.name, options }, actor)
    ).done;
    expect(restored.state, restored.errorMessage ?? '').toBe('succeeded');
    const [row] = await withSql(env.target.url, (sql) => sql`SELECT count(*)::int AS n FROM items`);
    expect(row!.n).toBe(1_000_000);
  });

  it('abandons a re-encryption whose new recipient is retired while it runs', async () => {
    const app = await env.startApp({ MASTER_KEY: masterKey }, { scheduleTicker: false });
    try {
      const before = await app.backups.get(keptId);
      const files = (await readdir(env.backupDir)).sort();
      await app.keys.generate({ name: 'successor' }, actor);
      const { job, done } = await app.backups.reencrypt(before.id, actor);
      await waitFor(
        'the re-encryption writing',
        async () => {
          const [row] = await app.db.select().from(jobs).where(eq(jobs.id, job.id));
          if (row && row.state !== 'queued' && row.state !== 'running') {
            throw new Error(`the job ended (${row.state}: ${row.errorMessage}) before the key was retired`);
          }
          return row?.partialRef ? row : undefined;
        },
        120_000,
      );
      // The key the pass encrypts to is given up meanwhile (no backup depended on it yet).
      await app.keys.setTargetRecipients((await app.targets.list())[0]!.name, ['successor'], actor);
      await app.keys.retire('later', {}, actor);
      const ended = await done;
      expect(ended.state).toBe('failed');
      expect(ended.errorCode).toBe('key/retired');
      expect(await app.backups.get(before.id)).toEqual(before);
      expect((await readdir(env.backupDir)).sort()).toEqual(files);
    } finally {
      await app.close();
    }
  });
});
