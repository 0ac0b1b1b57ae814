import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ServiceError } from '../../errors/service-error.js';

/** A 32-byte AES-256 key and its id (derived from the key, so it can never be mistyped). */
export interface MasterKey {
  id: string;
  key: Buffer;
}

/** The keys that open stored credentials; the current one (the first configured) seals new ones. */
export interface KeyRing {
  current: MasterKey | null;
  byId: ReadonlyMap<string, MasterKey>;
}

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A short public fingerprint of a key: safe to store beside what it sealed and to show in errors. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('pgbs-master-key-id\0').update(key).digest('hex').slice(0, 16);
}

export function keyRingOf(keys: readonly Buffer[]): KeyRing {
  const ring = keys.map((key) => ({ id: keyIdOf(key), key }));
  return { current: ring[0] ?? null, byId: new Map(ring.map((key) => [key.id, key])) };
}

// The AAD binds a sealed value to the row it belongs to: copied onto another target, it no longer opens.
const aad = (subjectId: string, keyId: string) => Buffer.from(`pgbs-credential\0${VERSION}\0${subjectId}\0${keyId}`);

/** AES-256-GCM with a random IV: "v1.<key id>.<iv>.<ciphertext+tag>" (base64url). */
export function sealCredential(ring: KeyRing, subjectId: string, plaintext: string): string {
  const key = ring.current;
  if (!key) {
    throw new ServiceError(
      'key/missing',
      'No master key is configured, so a password cannot be stored: set MASTER_KEY or MASTER_KEY_FILE (docs/operations.md, "Keys").',
    );
  }
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(aad(subjectId, key.id));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return [VERSION, key.id, iv.toString('base64url'), body.toString('base64url')].join('.');
}

/** The id of the key a value was sealed with (null: not a sealed value). */
export function sealedKeyId(sealed: string): string | null {
  const parts = sealed.split('.');
  return parts.length === 4 && parts[0] === VERSION ? parts[1]! : null;
}

export function openCredential(ring: KeyRing, subjectId: string, sealed: string): string {
  const [version, keyId, iv, body] = sealed.split('.');
  if (version !== VERSION || !keyId || !iv || !body) {
    throw new ServiceError('credential/tampered', 'A stored credential is not a sealed value.', { subjectId });
  }
  const key = ring.byId.get(keyId);
  if (!key) {
    throw new ServiceError(
      'key/unknown',
      `A stored credential was sealed with key ${keyId}, which is not configured (MASTER_KEY / MASTER_KEY_FILE). Add that key back, or set the password again.`,
      { keyId, subjectId },
    );
  }
  const bytes = Buffer.from(body, 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(aad(subjectId, keyId));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new ServiceError(
      'credential/tampered',
      'A stored credential does not open with its key: it was changed or copied from another target. Set the password again.',
      { keyId, subjectId },
    );
  }
}
