import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { openCredential, sealCredential } from '../targets/credential-box.js';
import { canonicalJson } from './canonical-json.js';
import type { KeysDeps } from './keys-deps.js';

/** What a signed manifest carries in its `signature` field. */
export interface ManifestSignature {
  algorithm: 'ed25519';
  /** The signing key's id (sha256 of its public key, 16 hex characters): which key to verify with. */
  keyId: string;
  /** base64 of the Ed25519 signature over the manifest without this field. */
  value: string;
}

export type SignatureCheck =
  | { status: 'valid'; keyId: string }
  /** No signature: a foreign upload, or a first-stage backup. */
  | { status: 'unsigned' }
  /** A signature that does not verify, or by a key this service does not know. */
  | { status: 'invalid'; reason: 'malformed' | 'unknown-key' | 'mismatch'; keyId?: string };

// Domain separation: a signature over a manifest can never be replayed as one over anything else.
const CONTEXT = 'pgbs-manifest-v1\0';
const message = (manifest: Record<string, unknown>) => {
  const { signature: _signature, ...rest } = manifest;
  return Buffer.from(CONTEXT + canonicalJson(rest));
};

const keyIdOf = (spki: Buffer) => createHash('sha256').update(spki).digest('hex').slice(0, 16);

/**
 * Signs and verifies manifests with the service's Ed25519 key. The key is made on first use and
 * stored in signing_keys, its private half sealed with the master key; every stored key verifies,
 * the newest unretired one signs. Anyone with a recipient can make a valid age file, so the
 * signature is what tells this service's backups from uploads.
 */
export class ManifestSigner {
  private signing: Promise<{ id: string; key: KeyObject } | null> | null = null;
  private readonly publicKeys = new Map<string, KeyObject>();

  constructor(private readonly deps: Pick<KeysDeps, 'repo' | 'masterKeys'>) {}

  /** Whether manifests can be signed: it needs a master key (MASTER_KEY / MASTER_KEY_FILE, or embedded mode's). */
  get canSign(): boolean {
    return this.deps.masterKeys.current !== null;
  }

  /**
   * The manifest with its `signature` (over every other field, in canonical JSON). Without a
   * master key it comes back unsigned: rescans will treat it as foreign (the start warns).
   */
  async sign<T extends Record<string, unknown>>(manifest: T): Promise<T & { signature?: ManifestSignature }> {
    const key = await this.signingKey();
    if (!key) return manifest;
    const signature: ManifestSignature = {
      algorithm: 'ed25519',
      keyId: key.id,
      value: sign(null, message(manifest), key.key).toString('base64'),
    };
    return { ...manifest, signature };
  }

  async verify(manifest: Record<string, unknown>): Promise<SignatureCheck> {
    const signature = manifest['signature'] as Partial<ManifestSignature> | undefined | null;
    if (signature === undefined || signature === null) return { status: 'unsigned' };
    if (
      signature.algorithm !== 'ed25519' ||
      typeof signature.keyId !== 'string' ||
      typeof signature.value !== 'string'
    ) {
      return { status: 'invalid', reason: 'malformed' };
    }
    const publicKey = await this.publicKey(signature.keyId);
    if (!publicKey) return { status: 'invalid', reason: 'unknown-key', keyId: signature.keyId };
    let signed: Buffer;
    try {
      signed = message(manifest);
    } catch {
      // A number no signature can cover unambiguously (canonicalJson): never valid.
      return { status: 'invalid', reason: 'malformed', keyId: signature.keyId };
    }
    const ok = verify(null, signed, publicKey, Buffer.from(signature.value, 'base64'));
    return ok
      ? { status: 'valid', keyId: signature.keyId }
      : { status: 'invalid', reason: 'mismatch', keyId: signature.keyId };
  }

  private signingKey(): Promise<{ id: string; key: KeyObject } | null> {
    this.signing ??= this.loadOrCreate().catch((error: unknown) => {
      this.signing = null;
      throw error;
    });
    return this.signing;
  }

  private async loadOrCreate(): Promise<{ id: string; key: KeyObject } | null> {
    if (!this.canSign) return null;
    const existing = await this.deps.repo.currentSigningKey();
    if (existing) {
      const der = openCredential(this.deps.masterKeys, existing.id, existing.privateKeySealed);
      return {
        id: existing.id,
        key: createPrivateKey({ key: Buffer.from(der, 'base64'), format: 'der', type: 'pkcs8' }),
      };
    }
    const pair = generateKeyPairSync('ed25519');
    const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
    const id = keyIdOf(spki);
    const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    await this.deps.repo.insertSigningKey({
      id,
      publicKey: spki.toString('base64'),
      privateKeySealed: sealCredential(this.deps.masterKeys, id, pkcs8),
    });
    // Another instance may have made one at the same moment: sign with whichever is current.
    const current = await this.deps.repo.currentSigningKey();
    if (current && current.id !== id) return this.loadOrCreate();
    return { id, key: pair.privateKey };
  }

  private async publicKey(keyId: string): Promise<KeyObject | null> {
    const cached = this.publicKeys.get(keyId);
    if (cached) return cached;
    const [row] = await this.deps.repo.signingKeys([keyId]);
    if (!row) return null;
    const key = createPublicKey({ key: Buffer.from(row.publicKey, 'base64'), format: 'der', type: 'spki' });
    this.publicKeys.set(keyId, key);
    return key;
  }
}
