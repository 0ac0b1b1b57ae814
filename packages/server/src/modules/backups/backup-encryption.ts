import { type Writable, pipeline } from 'node:stream';
import { type ArchiveSource, encryptTransform, openDecrypted, parseIdentities } from '@pgbs/engine';
import type { BackupRow } from '../../db/schema.js';
import type { EncryptionPlan } from '../keys/encryption-plan.js';
import type { KeysModule } from '../keys/keys-module.js';
import { sealManifest } from '../keys/manifest-secrets.js';
import type { BackupManifest } from '../../storage/manifest.js';

/** What the backup pipeline asks the keys module (app.keys). */
export type BackupKeys = Pick<
  KeysModule,
  'encryptionFor' | 'keptIdentities' | 'signManifest' | 'verifyManifestSignature' | 'signsManifests' | 'get'
>;

/** age's extension, after the codec's: `.dump.zst.age`. */
export const AGE_EXTENSION = '.age';

export const encryptedName = (fileName: string, plan: EncryptionPlan | null) =>
  plan ? `${fileName}${AGE_EXTENSION}` : fileName;

/** What a new backup of the target is encrypted to (null: in clear, also when no keys module is wired). */
export async function encryptionPlan(keys: BackupKeys | undefined, targetId: string): Promise<EncryptionPlan | null> {
  return keys ? keys.encryptionFor(targetId) : null;
}

/**
 * The manifest as it is stored: an encrypted backup's schema-revealing fields sealed to its own
 * recipients, then signed (every manifest the service writes; unsigned only without a master key).
 */
export async function protectManifest(
  keys: BackupKeys | undefined,
  manifest: BackupManifest,
  plan: EncryptionPlan | null,
): Promise<{ manifest: BackupManifest; signed: boolean }> {
  const recorded: Record<string, unknown> = plan
    ? { ...manifest, recipientFingerprints: plan.fingerprints }
    : { ...manifest };
  const sealed = plan ? await sealManifest(recorded, plan.recipients) : recorded;
  const signed = keys ? await keys.signManifest(sealed) : sealed;
  return { manifest: signed as unknown as BackupManifest, signed: 'signature' in signed };
}

/** Whether a stored manifest carries this service's valid signature (false without a keys module). */
export async function signatureValid(keys: BackupKeys | undefined, manifest: BackupManifest): Promise<boolean> {
  if (!keys) return false;
  return (await keys.verifyManifestSignature(manifest as unknown as Record<string, unknown>)).status === 'valid';
}

/**
 * Not known to be this service's own: an upload, or, when the service signs its manifests, a
 * backup whose manifest had no valid signature (a rescan). Without a master key nothing is signed,
 * so a signature tells nothing and only the origin counts.
 */
export function isForeign(keys: BackupKeys | undefined, backup: Pick<BackupRow, 'origin' | 'signed'>): boolean {
  if (backup.origin === 'upload') return true;
  return keys !== undefined && keys.signsManifests() && !backup.signed;
}

/**
 * The identities that open a stored backup: those given with the request (identity file text),
 * else the ones the service keeps for its recipients (opt-in); none for a backup in clear.
 */
export async function identitiesFor(
  keys: BackupKeys | undefined,
  backup: Pick<BackupRow, 'recipientFingerprints'>,
  given: string | undefined,
): Promise<readonly string[]> {
  if (backup.recipientFingerprints.length === 0) return [];
  if (given !== undefined && given.trim() !== '') return parseIdentities(given);
  return keys ? keys.keptIdentities(backup.recipientFingerprints) : [];
}

/**
 * Opens an encrypted source's header and closes it: key/identity-required or key/wrong-identity
 * now, before a job is queued or anything is changed.
 */
export async function requireOpens(source: Pick<ArchiveSource, 'open' | 'encrypted' | 'identities'>): Promise<void> {
  if (!source.encrypted) return;
  (await openDecrypted(source)).destroy();
}

/**
 * A sink that encrypts into `sink` (a globals file of an encrypted target). `done` settles when
 * the encrypted bytes are all written.
 */
export async function encryptingSink(
  sink: Writable,
  plan: EncryptionPlan,
): Promise<{ stream: Writable; done: Promise<void> }> {
  const transform = await encryptTransform({ recipients: plan.recipients });
  const done = new Promise<void>((resolve, reject) =>
    pipeline(transform, sink, (error) => (error ? reject(error) : resolve())),
  );
  done.catch(() => {});
  return { stream: transform, done };
}
