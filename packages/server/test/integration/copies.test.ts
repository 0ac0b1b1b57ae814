import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type S3TestServer, loadFeatureRichSchema, startS3Server } from '@pgbs/test-support';
import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { App } from '../../src/app.js';
import { backupCopies, backups, jobs } from '../../src/db/schema.js';
import { CSRF_HEADER } from '../../src/http/yoga.js';
import { type HttpService, startHttpServer } from '../../src/http/http-server.js';
import { login } from '../../scripts/service-process.js';
import { type TestEnv, createTestEnv, silentLogger, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const BUCKET = 'pgbs-copies';
const actor = { name: 'test' };
const MiB = 1024 * 1024;

describe('backup copies on several destinations', () => {
  let env: TestEnv;
  let s3: S3TestServer;
  let app: App;
  let offsiteId: string;
  let localId: string;
  let http: HttpService;
  let cookie: string;
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const response = await fetch(`${http.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CSRF_HEADER]: '1', cookie },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as {
      data?: { backup: { copies: Record<string, unknown>[] } & Record<string, unknown> };
      errors?: unknown[];
    };
  };
  const masterKey = randomBytes(32).toString('base64');

  const copiesOf = (backupId: string) => app.db.select().from(backupCopies).where(eq(backupCopies.backupId, backupId));
  const copyOn = async (backupId: string, destinationId: string) =>
    (
      await app.db
        .select()
        .from(backupCopies)
        .where(and(eq(backupCopies.backupId, backupId), eq(backupCopies.destinationId, destinationId)))
    )[0];
  const sha256Of = async (stream: NodeJS.ReadableStream) => {
    const hash = createHash('sha256');
    for await (const chunk of stream) hash.update(chunk as Buffer);
    return hash.digest('hex');
  };
  /** The copy on S3 complete and its job ended (until then, the backup is in use). */
  const copied = (backupId: string) =>
    waitFor('the S3 copy', async () => {
      const copy = await copyOn(backupId, offsiteId);
      const active = await app.db
        .select()
        .from(jobs)
        .where(and(eq(jobs.backupId, backupId), inArray(jobs.state, ['queued', 'running'])));
      return copy?.state === 'complete' && active.length === 0 ? copy : undefined;
    });
  const backUp = async () => {
    const { done } = await app.backups.createBackup({}, actor);
    const finished = await done;
    expect(finished.state, finished.errorMessage ?? '').toBe('succeeded');
    return app.backups.get(finished.backupId!);
  };

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'copies');
    await loadFeatureRichSchema(env.target.url);
    s3 = await startS3Server({ buckets: [BUCKET] });
    // Retries within seconds: the test cannot wait the default minutes.
    app = await env.startApp({ MASTER_KEY: masterKey }, { scheduleTicker: false, copyRetryDelaysSeconds: [2] });
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
    localId = (await app.destinations.get('local')).id;
    const [target] = await app.targets.list();
    await app.destinations.setForTarget(target!.id, ['local', 'offsite'], actor);
    await app.auth.createUser('admin@example.com', 'admin-password-123', 'admin');
    http = await startHttpServer(app, silentLogger, 0);
    cookie = await login(http.url, { email: 'admin@example.com', password: 'admin-password-123' });
  });
  afterAll(async () => {
    await http?.close();
    await s3?.stop();
    await env?.cleanup();
  });

  it('writes a backup once, then copies it to the other destination with the same sha256', async () => {
    const backup = await backUp();
    const local = await copyOn(backup.id, localId);
    expect(local).toMatchObject({ state: 'complete', storedSha256: backup.sha256, sizeBytes: backup.sizeBytes });
    const offsite = await copied(backup.id);
    expect(offsite).toMatchObject({ storedSha256: backup.sha256, sizeBytes: backup.sizeBytes, attempts: 1 });
    // Really in the bucket, with its manifest, byte for byte.
    const storage = await app.destinations.storage('offsite');
    expect(await sha256Of(await storage.openRead(backup.fileName))).toBe(backup.sha256);
    expect(await storage.stat(`${backup.fileName}.manifest.json`)).not.toBeNull();
  });

  it('retries a copy that failed while S3 was down, and completes it once S3 is back', async () => {
    await s3.kill();
    let backupId: string;
    try {
      backupId = (await backUp()).id;
      const failed = await waitFor('the failed copy', async () => {
        const copy = await copyOn(backupId, offsiteId);
        return copy?.state === 'failed' ? copy : undefined;
      });
      expect(failed.errorCode).toBe('destination/unreachable');
      expect(failed.errorMessage).toBeTruthy();
      expect(failed.attempts).toBeGreaterThanOrEqual(1);
      // The backup itself succeeded and can be read; the API shows the copy's state and error.
      const answer = await gql(
        `query($id: ID!) { backup(id: $id) { copiesComplete copiesTotal copies { destination { name kind } state attempts errorCode errorMessage storedSha256 } } }`,
        { id: backupId },
      );
      expect(answer.errors).toBeUndefined();
      const seen = answer.data!.backup;
      expect(seen).toMatchObject({ copiesComplete: 1, copiesTotal: 2 });
      const [local, offsite] = seen.copies;
      expect(local).toMatchObject({ destination: { name: 'local', kind: 'local' }, state: 'complete' });
      expect(offsite).toMatchObject({ destination: { name: 'offsite', kind: 's3' }, storedSha256: null });
      expect(['failed', 'copying']).toContain(offsite?.state);
      expect(offsite?.errorCode).toBe('destination/unreachable');
    } finally {
      await s3.restart();
    }
    const done = await copied(backupId);
    expect(done.attempts).toBeGreaterThanOrEqual(2);
    expect(done.errorCode).toBeNull();
  });

  it('restores from the S3 copy when the local file is gone', async () => {
    const backup = await backUp();
    await copied(backup.id);
    await rm(path.join(env.backupDir, backup.fileName));
    const restore = await app.backups.restore(
      {
        source: { backupId: backup.id },
        confirmation: env.target.name,
        options: { noOwner: false, noPrivileges: false, safetySnapshot: false },
      },
      actor,
    );
    const finished = await restore.done;
    expect(finished.state, finished.errorMessage ?? '').toBe('succeeded');
  });

  it('deletes every copy, then the backup', async () => {
    const backup = await backUp();
    await copied(backup.id);
    await app.backups.delete(backup.id, actor);
    const storage = await app.destinations.storage('offsite');
    expect(await storage.stat(backup.fileName)).toBeNull();
    expect(await storage.stat(`${backup.fileName}.manifest.json`)).toBeNull();
    expect(await copiesOf(backup.id)).toEqual([]);
  });

  it('verifies every copy: a damaged one fails, the backup stays ok on the other', async () => {
    const backup = await backUp();
    await copied(backup.id);
    const file = path.join(env.backupDir, backup.fileName);
    const bytes = await readFile(file);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff;
    await writeFile(file, bytes);
    const verified = await (await app.backups.verify(backup.id, actor)).done;
    expect(verified.state, verified.errorMessage ?? '').toBe('succeeded');
    expect(JSON.stringify(verified.params['warnings'])).toContain(env.backupDir);
    expect((await app.backups.get(backup.id)).verifyStatus).toBe('ok');
    expect(await copyOn(backup.id, localId)).toMatchObject({ state: 'failed' });
    expect(['backup/checksum-mismatch', 'archive/corrupt']).toContain((await copyOn(backup.id, localId))?.errorCode);
    expect(await copyOn(backup.id, offsiteId)).toMatchObject({ state: 'complete' });
  });

  it('rebuilds a wiped catalog from the S3 destination alone', async () => {
    const backup = await backUp();
    await copied(backup.id);
    await app.db.update(jobs).set({ backupId: null });
    await app.db.delete(backups);
    const result = await app.backups.rescan(actor, { destinationId: offsiteId });
    expect(result.added).toContain(backup.id);
    expect(await app.backups.get(backup.id)).toMatchObject({ sha256: backup.sha256, sizeBytes: backup.sizeBytes });
    expect(await copiesOf(backup.id)).toEqual([
      expect.objectContaining({ destinationId: offsiteId, state: 'complete', storedSha256: backup.sha256 }),
    ]);
    // The whole catalog again, from every destination: the local copy comes back beside it.
    await app.backups.rescan(actor);
    expect((await copiesOf(backup.id)).map((copy) => copy.state)).toEqual(['complete', 'complete']);
  });

  it('recovery discards what a crashed writer left on the destination its partial ref names', async () => {
    const storage = await app.destinations.storage('offsite');
    const writer = await storage.createWriter('crashed.dump', { expectedBytes: 20 * MiB });
    const chunk = randomBytes(MiB);
    for (let i = 0; i < 11; i++) {
      if (!writer.stream.write(chunk)) await new Promise((resolve) => writer.stream.once('drain', resolve));
    }
    await waitFor('the pending upload', async () => (await s3.pendingUploads(BUCKET)).includes('pg/crashed.dump'));
    // A running job of no instance (a crashed first-stage process), its writer on the S3 destination.
    const jobId = randomUUID();
    await app.db
      .insert(jobs)
      .values({ id: jobId, kind: 'backup', state: 'running', partialRef: `${offsiteId}:${writer.partialRef}` });
    const second = await env.startApp({ MASTER_KEY: masterKey }, { scheduleTicker: false });
    const [job] = await second.db.select().from(jobs).where(eq(jobs.id, jobId));
    expect(job).toMatchObject({ state: 'failed', errorCode: 'job/interrupted' });
    expect(await s3.pendingUploads(BUCKET)).toEqual([]);
    writer.stream.destroy();
  });
});
