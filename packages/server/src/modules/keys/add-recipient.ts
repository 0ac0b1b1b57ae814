import { parseRecipient, recipientFingerprint } from '@pgbs/engine';
import type { RecipientRow } from '../../db/schema.js';
import { auditedKey } from './audit-key.js';
import { defaultKeyName, validKeyName } from './key-name.js';
import type { Actor, KeysDeps } from './keys-deps.js';

export interface AddRecipientInput {
  /** age1… (an X25519 recipient, as age-keygen prints it). */
  recipient: string;
  name?: string;
}

/** Registers a public key whose identity the administrator holds elsewhere: the service can encrypt to it, never decrypt. */
export function addRecipient(deps: KeysDeps, input: AddRecipientInput, actor: Actor): Promise<RecipientRow> {
  return auditedKey(
    deps,
    actor,
    'key.add-recipient',
    { name: input.name ?? null },
    async () => {
      const recipient = parseRecipient(input.recipient);
      const fingerprint = recipientFingerprint(recipient);
      const name = validKeyName(input.name ?? defaultKeyName('recipient', fingerprint));
      return deps.repo.insert({ name, recipient, fingerprint, identitySealed: null });
    },
    (row) => ({ subjectId: row.id, details: { name: row.name, fingerprint: row.fingerprint } }),
  );
}
