import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { generateAgeIdentity, recipientFingerprint } from '@pgbs/engine';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { App } from '../../src/app.js';
import { auditEvents, backups, recipients, signingKeys } from '../../src/db/schema.js';
import { openManifest, sealFields, sealManifest } from '../../src/modules/keys/manifest-secrets.js';
import { type TestEnv, codeOf, createTestEnv } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const actor = { name: 'test' };

describe('keys', () => {
  let env: TestEnv;
  let app: App;
  const masterKey = randomBytes(32).toString('base64');
  const start = (overrides: Record<string, string> = {}, role?: 'cli') =>
    env.startApp({ MASTER_KEY: masterKey, ...overrides }, role ? { role } : {});

  beforeAll(async () => {
    env = await createTestEnv(adminUrl, 'keys');
    app = await start();
  });
  afterAll(async () => {
    await env?.cleanup();
  });

  /** A backup row encrypted to these fingerprints (only the catalog matters here). */
  async function backupTo(fingerprints: string[]): Promise<string> {
    const id = randomUUID();
    await app.db.insert(backups).values({
      id,
      fileName: `${id}.dump.zst.age`,
      format: 'custom',
      sizeBytes: 1,
      sha256: 'x',
      origin: 'manual',
      recipientFingerprints: fingerprints,
    });
    return id;
  }

  it('generates a key: the identity is answered once, stored only with keepOnServer (sealed), never audited', async () => {
    const { recipient, identity } = await app.keys.generate({ name: 'laptop' }, actor);
    expect(identity).toMatch(/^AGE-SECRET-KEY-1/);
    expect(recipient).toMatchObject({ name: 'laptop', identityKept: false, retiredAt: null, backupCount: 0 });
    expect(recipient.fingerprint).toBe(recipientFingerprint(recipient.recipient));
    const [row] = await app.db.select().from(recipients).where(eq(recipients.id, recipient.id));
    expect(row!.identitySealed).toBeNull();

    const kept = await app.keys.generate({ name: 'test-restores', keepOnServer: true }, actor);
    const [keptRow] = await app.db.select().from(recipients).where(eq(recipients.id, kept.recipient.id));
    expect(keptRow!.identitySealed).toMatch(/^v1\./);
    expect(keptRow!.identitySealed).not.toContain(kept.identity);
    expect(kept.recipient.identityKept).toBe(true);
    expect(await app.keys.keptIdentities([kept.recipient.fingerprint, recipient.fingerprint])).toEqual([kept.identity]);

    const generated = await app.keys.generate({}, actor);
    expect(generated.recipient.name).toBe(`key-${generated.recipient.fingerprint.slice(0, 8)}`);
    expect(await codeOf(app.keys.generate({ name: 'laptop' }, actor))).toBe('key/name-taken');
    expect(await codeOf(app.keys.generate({ name: 'none' }, actor))).toBe('key/invalid-name');
    // A name shaped like a fingerprint would make `key retire <fingerprint>` ambiguous.
    expect(await codeOf(app.keys.generate({ name: '0123456789abcdef' }, actor))).toBe('key/invalid-name');

    const audit = JSON.stringify(await app.db.select().from(auditEvents));
    expect(audit).toContain('key.generate');
    expect(audit).not.toContain('AGE-SECRET-KEY');
  });

  it('adds recipients with validation; a bad one changes nothing', async () => {
    const { recipient } = await generateAgeIdentity();
    const before = (await app.keys.list()).length;
    expect(await codeOf(app.keys.addRecipient({ recipient: 'age1nope' }, actor))).toBe('key/invalid-recipient');
    const badChecksum = recipient.slice(0, -1) + (recipient.endsWith('q') ? 'p' : 'q');
    expect(await codeOf(app.keys.addRecipient({ recipient: badChecksum }, actor))).toBe('key/invalid-recipient');
    expect((await app.keys.list()).length).toBe(before);
    const added = await app.keys.addRecipient({ recipient: `  ${recipient}\n`, name: 'offsite' }, actor);
    expect(added).toMatchObject({ name: 'offsite', recipient, identityKept: false });
    expect(await codeOf(app.keys.addRecipient({ recipient, name: 'other' }, actor))).toBe('key/recipient-exists');
    expect((await app.keys.get(added.fingerprint)).id).toBe(added.id);
    expect((await app.keys.get(recipient)).id).toBe(added.id);
    expect(await codeOf(app.keys.get('missing'))).toBe('key/not-found');
  });

  it("sets a target's recipients, which decide what its backups are encrypted to", async () => {
    const target = (await app.targets.list())[0]!;
    expect(await app.keys.encryptionFor(target.id)).toBeNull();
    expect(await codeOf(app.keys.setTargetRecipients(target.name, ['laptop', 'missing'], actor))).toBe('key/not-found');
    expect(await app.keys.targetRecipients(target.id)).toEqual([]);
    const set = await app.keys.setTargetRecipients(target.name, ['laptop', 'offsite', 'laptop'], actor);
    expect(set.map((r) => r.name)).toEqual(['laptop', 'offsite']);
    const plan = await app.keys.encryptionFor(target.id);
    expect(plan!.fingerprints.sort()).toEqual(set.map((r) => r.fingerprint).sort());
    expect(plan!.recipients.every((r) => r.startsWith('age1'))).toBe(true);
    await app.keys.setTargetRecipients(target.name, ['none'], actor);
    expect(await app.keys.encryptionFor(target.id)).toBeNull();
  });

  it('retires: refused while a target encrypts to it, and until the backups only it opens are named', async () => {
    const target = (await app.targets.list())[0]!;
    const laptop = await app.keys.get('laptop');
    const offsite = await app.keys.get('offsite');
    await app.keys.setTargetRecipients(target.name, ['laptop'], actor);
    expect(await codeOf(app.keys.retire('laptop', {}, actor))).toBe('key/in-use');
    await app.keys.setTargetRecipients(target.name, ['offsite'], actor);

    const onlyLaptop = await backupTo([laptop.fingerprint]);
    const both = await backupTo([laptop.fingerprint, offsite.fingerprint]);
    // A fingerprint the service does not know opens nothing here: the backup still depends on laptop.
    const withForeign = await backupTo([laptop.fingerprint, '0123456789abcdef']);
    expect((await app.keys.get('laptop')).backupCount).toBe(3);

    const refusal = await app.keys.retire('laptop', {}, actor).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: 'key/last-recipient' });
    const named = (refusal as { details: { backupIds: string[] } }).details.backupIds;
    expect(named.sort()).toEqual([onlyLaptop, withForeign].sort());
    expect((refusal as Error).message).toContain(onlyLaptop);
    expect(named).not.toContain(both);
    expect(await codeOf(app.keys.retire('laptop', { confirmBackups: [onlyLaptop] }, actor))).toBe('key/last-recipient');
    expect((await app.keys.get('laptop')).retiredAt).toBeNull();

    const retired = await app.keys.retire('laptop', { confirmBackups: [withForeign, onlyLaptop] }, actor);
    expect(retired.retiredAt).toBeInstanceOf(Date);
    expect(await codeOf(app.keys.retire('laptop', {}, actor))).toBe('key/retired');
    expect(await codeOf(app.keys.setTargetRecipients(target.name, ['laptop'], actor))).toBe('key/retired');
    // offsite now opens `both` alone: retiring it needs that backup named.
    await app.keys.setTargetRecipients(target.name, ['none'], actor);
    expect(await codeOf(app.keys.retire('offsite', {}, actor))).toBe('key/last-recipient');
    const events = await app.db
      .select({ action: auditEvents.action, outcome: auditEvents.outcome })
      .from(auditEvents)
      .where(eq(auditEvents.action, 'key.retire'));
    expect(events.filter((e) => e.outcome === 'succeeded')).toHaveLength(1);
    expect(events.filter((e) => e.outcome === 'failed').length).toBeGreaterThanOrEqual(4);
  });

  it('refuses to start when encryption is on and nothing can be encrypted to; the CLI starts and warns', async () => {
    expect(await codeOf(start({ ENCRYPT_TO: 'no-such-key' }))).toBe('key/not-found');
    expect(await codeOf(start({ ENCRYPT_TO: ' , ' }))).toBe('key/no-recipient');
    expect(await codeOf(start({ ENCRYPT_TO: 'laptop' }))).toBe('key/retired');
    expect(await codeOf(start({ ENCRYPT_TO: 'age1bad' }))).toBe('key/invalid-recipient');
    const cli = await start({ ENCRYPT_TO: 'no-such-key' }, 'cli');
    await cli.close();

    // An age1… in ENCRYPT_TO is registered, and is the default of targets without their own.
    const { recipient } = await generateAgeIdentity();
    const withDefault = await start({ ENCRYPT_TO: `${recipient},offsite` });
    const fingerprint = recipientFingerprint(recipient);
    expect((await withDefault.keys.get(fingerprint)).name).toBe(`env-${fingerprint.slice(0, 8)}`);
    const target = (await withDefault.targets.list())[0]!;
    expect((await withDefault.keys.encryptionFor(target.id))!.fingerprints).toContain(fingerprint);
    expect(await codeOf(withDefault.keys.retire('offsite', {}, actor))).toBe('key/in-use');
    await withDefault.close();

    // A target whose recipients were all retired behind the service's back (retire itself refuses).
    await app.keys.setTargetRecipients(target.name, ['offsite'], actor);
    await app.db.update(recipients).set({ retiredAt: new Date() }).where(eq(recipients.name, 'offsite'));
    try {
      expect(await codeOf(start())).toBe('key/no-recipient');
      expect(await codeOf(app.keys.encryptionFor(target.id))).toBe('key/no-recipient');
    } finally {
      await app.db.update(recipients).set({ retiredAt: null }).where(eq(recipients.name, 'offsite'));
      await app.keys.setTargetRecipients(target.name, ['none'], actor);
    }
    // Without ENCRYPT_TO and with no stranded target, it starts.
    await (await start()).close();
  });

  it('signs manifests with a key made on first use, verifiable by any instance; tampering shows', async () => {
    const manifest = { manifestVersion: 2, id: randomUUID(), sha256: 'ab', tableSizes: [{ name: 't', bytes: 1 }] };
    const signed = await app.keys.signManifest(manifest);
    expect(signed.signature).toMatchObject({ algorithm: 'ed25519', keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const keys = await app.db.select().from(signingKeys);
    expect(keys).toHaveLength(1);
    expect(keys[0]!.privateKeySealed).toMatch(/^v1\./);

    // Written and read back with its keys in another order: the canonical form is the same.
    const reread = JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(signed).reverse()))) as Record<
      string,
      unknown
    >;
    const other = await start();
    try {
      expect(await other.keys.verifyManifestSignature(reread)).toEqual({ status: 'valid', keyId: keys[0]!.id });
      expect((await other.keys.signManifest({ a: 1 })).signature!.keyId).toBe(keys[0]!.id);
      expect(await other.db.select().from(signingKeys)).toHaveLength(1);
    } finally {
      await other.close();
    }
    expect(await app.keys.verifyManifestSignature({ ...signed, sha256: 'ac' })).toMatchObject({
      status: 'invalid',
      reason: 'mismatch',
    });
    expect(await app.keys.verifyManifestSignature({ ...signed, tableSizes: [{ name: 't', bytes: 2 }] })).toMatchObject({
      status: 'invalid',
      reason: 'mismatch',
    });
    expect(
      await app.keys.verifyManifestSignature({
        ...signed,
        signature: { ...signed.signature!, keyId: 'ffffffffffffffff' },
      }),
    ).toMatchObject({ status: 'invalid', reason: 'unknown-key' });
    expect(await app.keys.verifyManifestSignature({ ...signed, signature: 'x' })).toMatchObject({
      status: 'invalid',
      reason: 'malformed',
    });
    expect(await app.keys.verifyManifestSignature(manifest)).toEqual({ status: 'unsigned' });
  });

  it("seals a manifest's schema fields to its recipients; Debian's age opens them too", async () => {
    const a = await generateAgeIdentity();
    const b = await generateAgeIdentity();
    const manifest = {
      id: 'x',
      sha256: 'ab',
      description: 'before the migration',
      databaseName: 'payroll',
      tableCount: 2,
      tableSizes: [{ name: 'salaries', bytes: 10 }],
    };
    const sealed = await sealManifest(manifest, [a.recipient, b.recipient]);
    expect(Object.keys(sealed).sort()).toEqual(['id', 'sealedFields', 'sha256']);
    expect(JSON.stringify(sealed)).not.toMatch(/payroll|salaries|migration/);
    expect(await openManifest(sealed, [b.identity])).toEqual(manifest);
    // The sealed part cannot override the clear header, whatever it holds.
    const forged = await sealManifest({ id: 'x', sha256: 'ab', description: 'd' }, [a.recipient]);
    const hostile = { ...forged, sealedFields: await sealFields({ sha256: 'evil', description: 'd' }, [a.recipient]) };
    expect(await openManifest(hostile, [a.identity])).toEqual({ id: 'x', sha256: 'ab', description: 'd' });
    const wrong = await generateAgeIdentity();
    expect(await codeOf(openManifest(sealed, [wrong.identity]))).toBe('key/wrong-identity');

    const keyFile = `${env.backupDir}/key.txt`;
    await writeFile(keyFile, `${a.identity}\n`, { mode: 0o600 });
    const age = spawnSync('sh', ['-c', `base64 -d | age -d -i ${keyFile}`], { input: sealed.sealedFields });
    expect(age.status).toBe(0);
    expect(JSON.parse(age.stdout.toString())).toMatchObject({ databaseName: 'payroll', tableCount: 2 });
  });

  it('counts backups per recipient in the list', async () => {
    const rows = await app.keys.list();
    const counts = await app.db.execute<{ n: number }>(
      sql`select count(*)::int as n from ${backups} where cardinality(${backups.recipientFingerprints}) > 0`,
    );
    expect(rows.find((r) => r.name === 'offsite')!.backupCount).toBe(1);
    expect(rows.find((r) => r.name === 'laptop')!.backupCount).toBe(3);
    expect(counts[0]!.n).toBe(3);
  });

  it('a master-key rotation re-seals kept identities and signing keys, so the old key can go', async () => {
    const kept = await app.keys.generate({ name: 'rotated', keepOnServer: true }, actor);
    const signed = await app.keys.signManifest({ id: 'rotation' });
    const newKey = randomBytes(32).toString('base64');
    await (await start({ MASTER_KEY: `${newKey},${masterKey}` })).close();
    const rotated = await start({ MASTER_KEY: newKey });
    try {
      expect(await rotated.keys.keptIdentities([kept.recipient.fingerprint])).toEqual([kept.identity]);
      expect(await rotated.keys.verifyManifestSignature(signed)).toMatchObject({ status: 'valid' });
      expect((await rotated.keys.signManifest({ id: 'after' })).signature!.keyId).toBe(signed.signature!.keyId);
      expect(await rotated.keys.rotate()).toMatchObject({ resealed: 0, failed: [] });
    } finally {
      await rotated.close();
    }
  });
});
