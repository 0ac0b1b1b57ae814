import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import { type S3TestServer, startS3Server, withSql } from '@pgbs/test-support';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { App } from '../../src/app.js';
import {
  auditEvents,
  backupCopies,
  backups,
  destinationRetentionPolicies,
  jobs,
  readLeases,
} from '../../src/db/schema.js';
import { type HttpService, startHttpServer } from '../../src/http/http-server.js';
import { CSRF_HEADER } from '../../src/http/yoga.js';
import { copyLeases } from '../../src/modules/backups/copy-leases.js';
import { manifestNameOf } from '../../src/storage/manifest.js';
import { cli } from './cli-process.js';
import { type TestEnv, codeOf, createTestEnv, silentLogger, waitFor } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const BUCKET = 'pgbs-retention';
const actor = { name: 'test' };
const DAY_MS = 86_400_000;

describe('retention per destination, and read leases', () => {
  let env: TestEnv;
  let s3: S3TestServer;
  let app: App;
  /** A second instance on the same metadata database: it prunes while the first serves downloads. */
  let other: App;
  let http: HttpService;
  let bearer: Record<string, string>;
  let cliEnv: Record<string, string>;
  let targetId: string;
  let localId: string;
  let offsiteId: string;
  /** Made now, 30 days ago, 400 days ago. */
  const ids = { fresh: '', month: '', old: '' };
  const masterKey = randomBytes(32).toString('base64');

  const copiesOf = async (backupId: string) =>
    (await app.db.select().from(backupCopies).where(eq(backupCopies.backupId, backupId)))
      .map((copy) => `${copy.destinationId === localId ? 'local' : 'offsite'}:${copy.state}`)
      .sort();
  const exists = async (backupId: string) =>
    (await app.db.select({ id: backups.id }).from(backups).where(eq(backups.id, backupId))).length === 1;
  const inBucket = async (fileName: string) =>
    (await (await app.destinations.storage('offsite')).stat(fileName)) !== null;
  const onDisk = (fileName: string) => existsSync(path.join(env.backupDir, fileName));

  /** A backup with both copies complete and no job left on it, dated `daysAgo` back. */
  const backUp = async (daysAgo: number) => {
    const { done } = await app.backups.createBackup({}, actor);
    const finished = await done;
    expect(finished.state, finished.errorMessage ?? '').toBe('succeeded');
    const id = finished.backupId!;
    await waitFor('the S3 copy', async () => {
      const copies = await copiesOf(id);
      const active = await app.db
        .select()
        .from(jobs)
        .where(and(eq(jobs.backupId, id), inArray(jobs.state, ['queued', 'running'])));
      return copies.join() === 'local:complete,offsite:complete' && active.length === 0 ? true : undefined;
    });
    await app.db
      .update(backups)
      .set({ createdAt: new Date(Date.now() - daysAgo * DAY_MS) })
      .where(eq(backups.id, id));
    return id;
  };

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'retdest');
    // Uncompressed and ~20 MB: bigger than the socket buffers, so a download can be held in flight.
    await withSql(
      env.target.url,
      (q) => q`CREATE TABLE payload AS SELECT g AS id, md5(g::text) || md5((-g)::text) AS body
               FROM generate_series(1, 250000) g`,
    );
    s3 = await startS3Server({ buckets: [BUCKET] });
    const overrides = { MASTER_KEY: masterKey, BACKUP_CODEC: 'none' };
    app = await env.startApp(overrides, { scheduleTicker: false });
    other = await env.startApp(overrides, { scheduleTicker: false });
    cliEnv = { ...env.env, ...overrides };
    for (const name of ['offsite', 'unused']) {
      await app.destinations.add(
        {
          name,
          kind: 's3',
          endpoint: s3.endpoint,
          bucket: BUCKET,
          prefix: name,
          pathStyle: true,
          credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
        },
        actor,
      );
    }
    offsiteId = (await app.destinations.get('offsite')).id;
    localId = (await app.destinations.get('local')).id;
    const [target] = await app.targets.list();
    targetId = target!.id;
    await app.destinations.setForTarget(targetId, ['local', 'offsite'], actor);
    const user = await app.auth.createUser('admin@example.com', 'admin-password-123', 'admin');
    bearer = { authorization: `Bearer ${(await app.auth.createApiToken(user.id, 'retention')).token}` };
    http = await startHttpServer(app, silentLogger, 0);
    ids.old = await backUp(400);
    ids.month = await backUp(30);
    ids.fresh = await backUp(0);
  });
  afterAll(async () => {
    await http?.close();
    await s3?.stop();
    await env?.cleanup();
  });

  it('refuses a destination that does not exist or that the target does not use, changing nothing', async () => {
    const name = env.target.name;
    expect(await codeOf(app.retention.setDestinationPolicy(name, 'nowhere', { keepLast: 1 }, actor))).toBe(
      'destination/not-found',
    );
    expect(await codeOf(app.retention.setDestinationPolicy(name, 'unused', { keepLast: 1 }, actor))).toBe(
      'retention/destination-not-used',
    );
    expect(await codeOf(app.retention.setDestinationPolicy(name, 'local', { keepLast: -1 }, actor))).toBe(
      'retention/invalid-policy',
    );
    expect(await codeOf(app.retention.setDestinationPolicy('ghost', 'local', { keepLast: 1 }, actor))).toBe(
      'target/not-found',
    );
    expect(await codeOf(app.retention.clearDestinationPolicy(name, 'unused', actor))).toBe(
      'retention/destination-not-used',
    );
    const cliRun = await cli(cliEnv, ['retention', 'set', name, '--destination', 'unused', '--keep-last', '2']);
    expect(cliRun.code).not.toBe(0);
    expect(cliRun.stderr).toContain('retention/destination-not-used');
    expect(await app.db.select().from(destinationRetentionPolicies)).toEqual([]);
  });

  it('sets 7 days locally and 12 months in S3 from the CLI, and shows them', async () => {
    const name = env.target.name;
    // The target's own policy stays the default of destinations without rules of their own.
    await app.retention.setPolicy(name, { keepLast: 10 }, actor);
    const local = await cli(cliEnv, ['retention', 'set', name, '--destination', 'local', '--keep-within-days', '7']);
    expect(local.code, local.stderr).toBe(0);
    const refused = await cli(cliEnv, ['retention', 'set', name, '--destination', 'local', '--upload-keep-days', '1']);
    expect(refused.stderr).toContain('cli/usage');
    // A year, by age: keep-monthly 12 would keep 12 months that have backups, however old.
    await app.retention.setDestinationPolicy(name, 'offsite', { keepWithinDays: 365 }, actor);
    const shown = await cli(cliEnv, ['retention', 'show', name, '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      policy: { keepLast: 10 },
      destinations: [
        { destination: 'local', rules: { keepWithinDays: 7, keepLast: null } },
        { destination: 'offsite', rules: { keepWithinDays: 365 } },
      ],
    });
  });

  it('previews each destination with its own rules', async () => {
    const preview = await app.retention.preview(env.target.name);
    const byName = Object.fromEntries(preview.destinations.map((plan) => [plan.destination.name, plan]));
    const deleted = (name: string) =>
      byName[name]!.decisions.filter((d) => d.action === 'delete').map((d) => d.backup.id);
    expect(byName.local).toMatchObject({ source: 'destination', rules: 'keep-within-days 7' });
    expect(deleted('local').sort()).toEqual([ids.month, ids.old].sort());
    expect(byName.offsite).toMatchObject({ source: 'destination', rules: 'keep-within-days 365' });
    expect(deleted('offsite')).toEqual([ids.old]);
    // Only the old backup loses every copy: it alone leaves the catalog.
    expect(preview.decisions.filter((d) => d.action === 'delete').map((d) => d.backup.id)).toEqual([ids.old]);
  });

  it('keeps a pinned backup on every destination, and prunes only the local copies of old backups', async () => {
    const old = await app.backups.get(ids.old);
    const month = await app.backups.get(ids.month);
    await app.backups.pin(ids.old, true, actor);
    const report = await other.retention.prune(targetId);
    expect(report.deleted).toEqual([]);
    expect(report.copiesDeleted.map((c) => [c.id, c.destination])).toEqual([[ids.month, 'local']]);
    expect(await copiesOf(ids.month)).toEqual(['offsite:complete']);
    expect(onDisk(month.fileName)).toBe(false);
    expect(await inBucket(month.fileName)).toBe(true);
    expect(await copiesOf(ids.old)).toEqual(['local:complete', 'offsite:complete']);
    expect(onDisk(old.fileName)).toBe(true);
    expect(await copiesOf(ids.fresh)).toEqual(['local:complete', 'offsite:complete']);
  });

  it('restores the pruned backup from its S3 copy', async () => {
    const restore = await app.backups.restore(
      {
        source: { backupId: ids.month },
        confirmation: env.target.name,
        options: { noOwner: false, noPrivileges: false, safetySnapshot: false },
      },
      actor,
    );
    const finished = await restore.done;
    expect(finished.state, finished.errorMessage ?? '').toBe('succeeded');
  });

  it('never prunes a copy a download is reading, on any instance, until the download ends', async () => {
    await app.backups.pin(ids.old, false, actor);
    const old = await app.backups.get(ids.old);
    const response = await fetch(`${http.url}/downloads/${ids.old}`, { headers: bearer });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    const [lease] = await app.db.select().from(readLeases).where(eq(readLeases.backupId, ids.old));
    expect(lease).toMatchObject({ destinationId: localId, instanceId: app.instanceId, purpose: 'download' });

    // The other instance prunes: the S3 copy goes, the local one being read stays, and so does the backup.
    const during = await other.retention.prune(targetId);
    expect(during.copiesDeleted.map((c) => [c.id, c.destination])).toEqual([[ids.old, 'offsite']]);
    expect(during.inUse.map((c) => [c.id, c.destination])).toEqual([[ids.old, 'local']]);
    expect(await copiesOf(ids.old)).toEqual(['local:complete']);
    expect(await inBucket(old.fileName)).toBe(false);
    // A delete by hand waits for the download too.
    expect(await codeOf(other.backups.delete(ids.old, actor))).toBe('backup/in-use');

    // The download still gets every byte.
    let size = 0;
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) size += chunk.value.length;
    expect(size).toBeGreaterThan(0);
    await waitFor('the lease released', async () =>
      (await app.db.select().from(readLeases).where(eq(readLeases.backupId, ids.old))).length === 0 ? true : undefined,
    );
    const after = await other.retention.prune(targetId);
    expect(after.deleted.map((entry) => entry.id)).toEqual([ids.old]);
    expect(await exists(ids.old)).toBe(false);
    expect(onDisk(old.fileName)).toBe(false);
  });

  it("honours another instance's lease until it expires", async () => {
    const month = await app.backups.get(ids.month);
    // 7 days in S3 now: the month-old backup's last copy is due, and the backup with it.
    await app.retention.setDestinationPolicy(env.target.name, 'offsite', { keepWithinDays: 7 }, actor);
    const lease = {
      id: randomUUID(),
      backupId: ids.month,
      destinationId: offsiteId,
      instanceId: randomUUID(),
      purpose: 'download',
      expiresAt: sql`now() + interval '1 hour'`,
    };
    await app.db.insert(readLeases).values(lease);
    const held = await app.retention.prune(targetId);
    expect(held.inUse.map((c) => [c.id, c.destination])).toEqual([[ids.month, 'offsite']]);
    expect(await exists(ids.month)).toBe(true);
    // Its instance died: the lease lapses and holds nothing.
    await app.db
      .update(readLeases)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(readLeases.id, lease.id));
    const freed = await app.retention.prune(targetId);
    expect(freed.deleted.map((entry) => entry.id)).toEqual([ids.month]);
    expect(await exists(ids.month)).toBe(false);
    expect(await inBucket(month.fileName)).toBe(false);
    // The newest backup, the latest good one, stays everywhere whatever the rules.
    expect(await copiesOf(ids.fresh)).toEqual(['local:complete', 'offsite:complete']);
  });

  it('carries per-destination rules through GraphQL and the configuration export and import', async () => {
    const gql = async (query: string, variables: Record<string, unknown>) =>
      (await (
        await fetch(`${http.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', [CSRF_HEADER]: '1', ...bearer },
          body: JSON.stringify({ query, variables }),
        })
      ).json()) as { data: Record<string, { __typename: string; data?: unknown; code?: string }> };
    const target = env.target.name;
    const set = await gql(
      `mutation ($target: String!, $destination: String!, $policy: DestinationRetentionPolicyInput!) {
        setDestinationRetentionPolicy(target: $target, destination: $destination, policy: $policy) {
          __typename
          ... on MutationSetDestinationRetentionPolicySuccess { data { destination keepDaily keepWithinDays } }
          ... on CodedError { code }
        }
      }`,
      { target, destination: 'offsite', policy: { keepDaily: 30 } },
    );
    expect(set.data.setDestinationRetentionPolicy!.data).toEqual({
      destination: 'offsite',
      keepDaily: 30,
      keepWithinDays: null,
    });
    const refused = await gql(
      `mutation ($target: String!) {
        setDestinationRetentionPolicy(target: $target, destination: "unused", policy: { keepLast: 1 }) {
          __typename
          ... on CodedError { code }
        }
      }`,
      { target },
    );
    expect(refused.data.setDestinationRetentionPolicy!.code).toBe('retention/destination-not-used');
    const preview = await gql(
      `query ($target: String!) {
        previewRetention(target: $target) {
          ... on QueryPreviewRetentionSuccess { data { destinations { destinationName source rules } } }
        }
      }`,
      { target },
    );
    expect(preview.data.previewRetention!.data).toEqual({
      destinations: [
        { destinationName: 'local', source: 'destination', rules: 'keep-within-days 7' },
        { destinationName: 'offsite', source: 'destination', rules: 'keep-daily 30' },
      ],
    });

    // Both output types show the count rules: the target's policy and each destination's own.
    const shown = await gql(
      `query ($target: String!) {
        retentionPolicy(target: $target) {
          ... on QueryRetentionPolicySuccess { data { keepLast keepDaily keepWithinDays } }
        }
        destinationRetentionPolicies(target: $target) {
          ... on QueryDestinationRetentionPoliciesSuccess { data { destination keepLast keepDaily keepWithinDays } }
        }
      }`,
      { target },
    );
    expect(shown.data.retentionPolicy!.data).toEqual({ keepLast: 10, keepDaily: null, keepWithinDays: null });
    expect(shown.data.destinationRetentionPolicies!.data).toEqual([
      { destination: 'local', keepLast: null, keepDaily: null, keepWithinDays: 7 },
      { destination: 'offsite', keepLast: null, keepDaily: 30, keepWithinDays: null },
    ]);

    const exported = await app.configTransfer.export(new Date(), actor);
    expect(exported.sections.destinationRetentionPolicies).toEqual([
      expect.objectContaining({ target, destination: 'local', keepWithinDays: 7, keepDaily: null }),
      expect.objectContaining({ target, destination: 'offsite', keepDaily: 30 }),
    ]);
    await app.db.delete(destinationRetentionPolicies);
    const report = await app.configTransfer.import(JSON.stringify(exported), actor);
    expect(JSON.stringify(report)).toContain(`${target} on offsite`);
    expect((await app.retention.destinationPolicies(target)).map((p) => [p.destination, p.rules.keepDaily])).toEqual([
      ['local', null],
      ['offsite', 30],
    ]);
  });

  it('clears a destination’s rules: its copies follow the target’s policy again', async () => {
    const cleared = await cli(cliEnv, ['retention', 'clear', env.target.name, '--destination', 'offsite', '--json']);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(JSON.parse(cleared.stdout)).toEqual({ cleared: true });
    const preview = await app.retention.preview(env.target.name);
    expect(preview.destinations.find((plan) => plan.destination.name === 'offsite')).toMatchObject({
      source: 'target',
      rules: 'keep-last 10',
    });
  });

  it('renews a lease while it is held, and drops it on release', async () => {
    // A one-second lease: without renewals it would have lapsed by the check.
    const leases = copyLeases(app.db, randomUUID(), 1);
    const lease = (await leases.acquire(ids.fresh, localId, 'download'))!;
    expect(lease).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const live = await app.db
      .select()
      .from(readLeases)
      .where(and(eq(readLeases.id, lease.id), sql`${readLeases.expiresAt} > now()`));
    expect(live).toHaveLength(1);
    await lease.release();
    expect(await app.db.select().from(readLeases).where(eq(readLeases.id, lease.id))).toEqual([]);
    // A copy that is not complete (here: none on an unknown destination) is not leased.
    expect(await leases.acquire(ids.fresh, randomUUID(), 'download')).toBeNull();
  });

  it('finishes a copy delete that an instance began and never finished', async () => {
    const fresh = await app.backups.get(ids.fresh);
    // An instance claimed the S3 copy, then died before removing it.
    await app.db
      .update(backupCopies)
      .set({ state: 'deleting', updatedAt: new Date(Date.now() - 3_600_000) })
      .where(and(eq(backupCopies.backupId, ids.fresh), eq(backupCopies.destinationId, offsiteId)));
    const report = await other.retention.prune(targetId);
    expect(report.copiesDeleted).toEqual([
      expect.objectContaining({ id: ids.fresh, destination: 'offsite', rule: 'interrupted delete' }),
    ]);
    expect(await copiesOf(ids.fresh)).toEqual(['local:complete']);
    expect(await inBucket(fresh.fileName)).toBe(false);
    expect(onDisk(fresh.fileName)).toBe(true);
  });

  it('never prunes the last complete copy while another copy is failed: that destination never had its say', async () => {
    await app.retention.setDestinationPolicy(env.target.name, 'local', { keepWithinDays: 7 }, actor);
    await app.retention.setDestinationPolicy(env.target.name, 'offsite', { keepWithinDays: 365 }, actor);
    const id = await backUp(30);
    const { fileName } = await app.backups.get(id);
    // The S3 copy failed (an outage when it was made): only the local one, due after 7 days, is left.
    await app.db
      .update(backupCopies)
      .set({ state: 'failed' })
      .where(and(eq(backupCopies.backupId, id), eq(backupCopies.destinationId, offsiteId)));
    const held = await other.retention.prune(targetId);
    expect(held.deleted.map((d) => d.id)).not.toContain(id);
    expect(held.copiesDeleted.map((c) => c.id)).not.toContain(id);
    expect(await copiesOf(id)).toEqual(['local:complete', 'offsite:failed']);
    expect(onDisk(fileName)).toBe(true);
    expect(await inBucket(fileName)).toBe(true);
    const preview = await app.retention.preview(env.target.name);
    const decision = preview.decisions.find((d) => d.backup.id === id);
    expect(decision).toMatchObject({ action: 'keep', reasons: [expect.stringContaining('offsite is not complete')] });
    // Once the S3 copy is complete again, the local one goes by its 7 days and S3 keeps the backup.
    await app.db
      .update(backupCopies)
      .set({ state: 'complete' })
      .where(and(eq(backupCopies.backupId, id), eq(backupCopies.destinationId, offsiteId)));
    const pruned = await other.retention.prune(targetId);
    expect(pruned.copiesDeleted.map((c) => [c.id, c.destination])).toContainEqual([id, 'local']);
    expect(await copiesOf(id)).toEqual(['offsite:complete']);
    expect(await inBucket(fileName)).toBe(true);
  });

  it('prunes a backup whose every copy failed once the rules are past it, leftovers and all; never while a copy or a job is on it, under a lease, or with nothing newer to restore', async () => {
    const name = env.target.name;
    await app.retention.setDestinationPolicy(name, 'local', { keepWithinDays: 7 }, actor);
    await app.retention.setDestinationPolicy(name, 'offsite', { keepWithinDays: 7 }, actor);
    const id = await backUp(30);
    const { fileName } = await app.backups.get(id);
    const manifest = manifestNameOf(fileName);
    const offsite = await app.destinations.storage('offsite');
    // Damage a verify finds: both objects overwritten (their manifests left as they were).
    await writeFile(path.join(env.backupDir, fileName), 'not a backup any more');
    const writer = await offsite.createWriter(fileName);
    await pipeline(Readable.from([Buffer.from('not a backup either')]), writer.stream);
    await writer.commit();
    const verified = await (await app.backups.verify(id, actor)).done;
    expect(verified.state).toBe('failed');
    expect(await copiesOf(id)).toEqual(['local:failed', 'offsite:failed']);
    const decision = async () => (await app.retention.preview(name)).decisions.find((d) => d.backup.id === id);
    const setOffsiteCopy = (state: string) =>
      app.db
        .update(backupCopies)
        .set({ state })
        .where(and(eq(backupCopies.backupId, id), eq(backupCopies.destinationId, offsiteId)));

    // A copy still on its way may yet make it whole.
    await setOffsiteCopy('pending');
    expect(await decision()).toMatchObject({ action: 'keep', reasons: [expect.stringContaining('not complete yet')] });
    await setOffsiteCopy('failed');
    // A copy's retry waiting its turn (its job names the backup).
    const retry = randomUUID();
    await app.db.insert(jobs).values({ id: retry, kind: 'copy', state: 'queued', backupId: id, params: {} });
    expect(await decision()).toMatchObject({
      action: 'keep',
      reasons: [expect.stringContaining('a job still uses it')],
    });
    expect((await other.retention.prune(targetId)).deleted.map((d) => d.id)).not.toContain(id);
    await app.db.delete(jobs).where(eq(jobs.id, retry));
    // Nothing newer restores (the newest backup failed its verification too): what is left stays.
    const { verifyStatus } = await app.backups.get(ids.fresh);
    await app.db.update(backups).set({ verifyStatus: 'failed' }).where(eq(backups.id, ids.fresh));
    expect(await decision()).toMatchObject({
      action: 'keep',
      reasons: [expect.stringContaining('no newer restorable backup')],
    });
    await app.db.update(backups).set({ verifyStatus }).where(eq(backups.id, ids.fresh));
    // Still within a destination's rules (a year in S3): kept as a good backup would be.
    await app.retention.setDestinationPolicy(name, 'offsite', { keepWithinDays: 365 }, actor);
    expect(await decision()).toMatchObject({ action: 'keep', reasons: [expect.stringContaining('within 365 days')] });
    await app.retention.setDestinationPolicy(name, 'offsite', { keepWithinDays: 7 }, actor);
    expect(await decision()).toMatchObject({ action: 'delete', rule: expect.stringContaining('every copy failed') });
    const preview = await cli(cliEnv, ['retention', 'preview', name]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.stdout).toMatch(new RegExp(`${id.slice(0, 8)}.*delete.*every copy failed`));

    // Another instance reads what is left of it: the prune waits for the lease.
    const lease = {
      id: randomUUID(),
      backupId: id,
      destinationId: localId,
      instanceId: randomUUID(),
      purpose: 'download',
      expiresAt: sql`now() + interval '1 hour'`,
    };
    await app.db.insert(readLeases).values(lease);
    const held = await other.retention.prune(targetId);
    expect(held.inUse.map((c) => c.id)).toContain(id);
    expect(await exists(id)).toBe(true);
    await app.db.delete(readLeases).where(eq(readLeases.id, lease.id));

    const pruned = await other.retention.prune(targetId);
    expect(pruned.deleted).toContainEqual(
      expect.objectContaining({ id, rule: expect.stringContaining('every copy failed') }),
    );
    expect(await exists(id)).toBe(false);
    expect(onDisk(fileName)).toBe(false);
    expect(onDisk(manifest)).toBe(false);
    expect(await offsite.stat(manifest)).toBeNull();
    const [audited] = await app.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.action, 'retention.delete'), eq(auditEvents.subjectId, id)));
    expect(audited?.details).toMatchObject({ removed: 'backup', rule: expect.stringContaining('every copy failed') });
    // The newest backup, restorable, stays.
    expect(await exists(ids.fresh)).toBe(true);
  });
});
