import { ServiceError } from '../../errors/service-error.js';
import type { RecipientRow } from '../../db/schema.js';
import { openCredential } from '../targets/credential-box.js';
import type { KeysDeps } from './keys-deps.js';

/** What one backup is encrypted to: the age1… strings for the encrypter, their fingerprints for the manifest. */
export interface EncryptionPlan {
  recipients: string[];
  fingerprints: string[];
}

export const planOf = (rows: readonly RecipientRow[]): EncryptionPlan | null =>
  rows.length === 0
    ? null
    : { recipients: rows.map((row) => row.recipient), fingerprints: rows.map((row) => row.fingerprint) };

/**
 * The recipients a backup of this target is encrypted to: the target's own (a whole server's
 * databases: the server target's), else ENCRYPT_TO, else none (null: stored in clear). A target
 * whose recipients are all retired fails (key/no-recipient) rather than falling back to clear.
 */
export async function encryptionFor(
  deps: Pick<KeysDeps, 'repo' | 'targets'> & { defaultRecipients: () => Promise<RecipientRow[]> },
  targetId: string,
): Promise<EncryptionPlan | null> {
  const target = await deps.targets.byId(targetId);
  const own = await deps.repo.ofTarget(target.parentId ?? target.id);
  if (own.length > 0) {
    const live = own.filter((row) => row.retiredAt === null);
    if (live.length === 0) {
      throw new ServiceError(
        'key/no-recipient',
        `Every recipient of target "${target.name}" is retired: set new ones (pnpm cli target set ${target.name} --encrypt-to <key>).`,
      );
    }
    return planOf(live);
  }
  return planOf(await deps.defaultRecipients());
}

/**
 * The identities the service keeps (opt-in, key generate --keep-on-server) for these
 * fingerprints: what an automatic test-restore opens a backup with. Empty: none kept.
 */
export async function keptIdentities(
  deps: Pick<KeysDeps, 'repo' | 'masterKeys'>,
  fingerprints: readonly string[],
): Promise<string[]> {
  const identities: string[] = [];
  for (const fingerprint of fingerprints) {
    const row = await deps.repo.byFingerprint(fingerprint);
    if (row?.identitySealed) identities.push(openCredential(deps.masterKeys, row.id, row.identitySealed));
  }
  return identities;
}
