import { randomUUID } from 'node:crypto';
import { generateAgeIdentity, recipientFingerprint } from '@pgbs/engine';
import type { RecipientRow } from '../../db/schema.js';
import { sealCredential } from '../targets/credential-box.js';
import { auditedKey } from './audit-key.js';
import { defaultKeyName, validKeyName } from './key-name.js';
import type { Actor, KeysDeps } from './keys-deps.js';

export interface GenerateKeyInput {
  name?: string;
  /**
   * Keep the identity on the server, sealed with the master key: automatic test-restores need it,
   * and whoever holds the metadata database and the master key can then read the backups.
   */
  keepOnServer?: boolean;
}

export interface GeneratedKey {
  recipient: RecipientRow;
  /** AGE-SECRET-KEY-1…: returned this once, never stored in clear, never answered again. */
  identity: string;
}

/** Makes an X25519 identity and registers its recipient. */
export function generateKey(deps: KeysDeps, input: GenerateKeyInput, actor: Actor): Promise<GeneratedKey> {
  const keepOnServer = input.keepOnServer ?? false;
  return auditedKey(
    deps,
    actor,
    'key.generate',
    { name: input.name ?? null, keepOnServer },
    async () => {
      const { identity, recipient } = await generateAgeIdentity();
      const fingerprint = recipientFingerprint(recipient);
      const name = validKeyName(input.name ?? defaultKeyName('key', fingerprint));
      const id = randomUUID();
      const identitySealed = keepOnServer ? sealCredential(deps.masterKeys, id, identity) : null;
      return { recipient: await deps.repo.insert({ name, recipient, fingerprint, identitySealed }, id), identity };
    },
    ({ recipient }) => ({
      subjectId: recipient.id,
      details: { name: recipient.name, fingerprint: recipient.fingerprint },
    }),
  );
}
