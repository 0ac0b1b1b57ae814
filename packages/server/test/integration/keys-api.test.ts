import { randomBytes, randomUUID } from 'node:crypto';
import { decryptStream, encryptTransform } from '@pgbs/engine';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { backups } from '../../src/db/schema.js';
import { type ApiEnv, startApi } from './api-harness.js';

const adminUrl = inject('pgAdminUrl');
let api: ApiEnv;

beforeAll(async () => {
  api = await startApi(adminUrl, 'keysapi', { MASTER_KEY: randomBytes(32).toString('base64') });
});
afterAll(async () => api?.close());

const RECIPIENT_FIELDS = 'id name recipient fingerprint identityKept retiredAt backupCount dependentBackupIds';

describe('GraphQL keys', () => {
  it('generateKey answers the identity once; nothing answers it again; viewers are refused', async () => {
    const admin = { cookie: api.adminCookie };
    const made = await api.gql<{
      generateKey: { data: { identity: string; recoveryKit: string; recipient: { recipient: string; name: string } } };
    }>(
      `mutation { generateKey(name: "api-key") { ... on MutationGenerateKeySuccess { data {
         identity recoveryKit recipient { ${RECIPIENT_FIELDS} } } } ... on CodedError { code } } }`,
      {},
      admin,
    );
    const { identity, recoveryKit, recipient } = made.data!.generateKey.data;
    expect(identity).toMatch(/^AGE-SECRET-KEY-1/);
    expect(recoveryKit).toContain(identity);
    // The identity opens what is encrypted to the recipient.
    const sealed = Readable.from(['secret']).pipe(await encryptTransform({ recipients: [recipient.recipient] }));
    expect(await text(await decryptStream(sealed, { identities: [identity] }))).toBe('secret');

    const listed = await api.gql(`{ recipients { ${RECIPIENT_FIELDS} } }`, {}, admin);
    const kit = await api.gql(`{ recoveryKit(id: "api-key") { ... on QueryRecoveryKitSuccess { data } } }`, {}, admin);
    expect(JSON.stringify([listed, kit])).not.toContain(identity);
    expect(JSON.stringify(kit)).toContain(recipient.recipient);

    const refused = await api.gql(`{ recipients { name } }`, {}, { cookie: api.viewerCookie });
    expect(refused.errors?.[0]?.extensions?.code).toBe('auth/forbidden');
  });

  it('addRecipient, setTargetRecipients and retireRecipient with its confirmation by backup ids', async () => {
    const admin = { cookie: api.adminCookie };
    const bad = await api.gql<{ addRecipient: { code: string } }>(
      `mutation { addRecipient(recipient: "age1nope") { ... on CodedError { code } } }`,
      {},
      admin,
    );
    expect(bad.data!.addRecipient.code).toBe('key/invalid-recipient');

    const target = (await api.app.targets.list())[0]!.name;
    const set = await api.gql<{ setTargetRecipients: { data: { name: string }[] } }>(
      `mutation($t: ID!) { setTargetRecipients(target: $t, recipients: ["api-key"]) {
         ... on MutationSetTargetRecipientsSuccess { data { name } } ... on CodedError { code } } }`,
      { t: target },
      admin,
    );
    expect(set.data!.setTargetRecipients.data.map((r) => r.name)).toEqual(['api-key']);
    const retire = (confirm: string[]) =>
      api.gql<{ retireRecipient: { code?: string; data?: { retiredAt: string | null } } }>(
        `mutation($c: [ID!]) { retireRecipient(id: "api-key", confirmBackupIds: $c) {
           ... on MutationRetireRecipientSuccess { data { retiredAt } } ... on CodedError { code } } }`,
        { c: confirm },
        admin,
      );
    expect((await retire([])).data!.retireRecipient.code).toBe('key/in-use');
    await api.gql(
      `mutation($t: ID!) { setTargetRecipients(target: $t, recipients: []) { __typename } }`,
      { t: target },
      admin,
    );

    const key = await api.app.keys.get('api-key');
    const id = randomUUID();
    await api.app.db.insert(backups).values({
      id,
      fileName: `${id}.dump.zst.age`,
      format: 'custom',
      sizeBytes: 1,
      sha256: 'x',
      origin: 'manual',
      recipientFingerprints: [key.fingerprint],
    });
    const shown = await api.gql<{ recipients: { name: string; dependentBackupIds: string[]; backupCount: number }[] }>(
      `{ recipients { name backupCount dependentBackupIds } }`,
      {},
      admin,
    );
    expect(shown.data!.recipients.find((r) => r.name === 'api-key')).toEqual({
      name: 'api-key',
      backupCount: 1,
      dependentBackupIds: [id],
    });
    expect((await retire([])).data!.retireRecipient.code).toBe('key/last-recipient');
    expect((await retire([id])).data!.retireRecipient.data!.retiredAt).not.toBeNull();
  });
});
