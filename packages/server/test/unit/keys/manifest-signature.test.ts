import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { SigningKeyRow } from '../../../src/db/schema.js';
import { keyRingOf } from '../../../src/modules/targets/credential-box.js';
import { canonicalJson, parseSignedJson } from '../../../src/modules/keys/canonical-json.js';
import type { KeysRepository } from '../../../src/modules/keys/keys-repository.js';
import { ManifestSigner } from '../../../src/modules/keys/manifest-signer.js';
import { parseManifest } from '../../../src/storage/manifest.js';

/** The signer over an in-memory signing_keys table (the repository is the only fake). */
function signer(): ManifestSigner {
  const rows: SigningKeyRow[] = [];
  const repo = {
    currentSigningKey: async () => rows.at(-1),
    signingKeys: async (ids: readonly string[]) => rows.filter((row) => ids.includes(row.id)),
    insertSigningKey: async (row: Pick<SigningKeyRow, 'id' | 'publicKey' | 'privateKeySealed'>) => {
      rows.push({ ...row, createdAt: new Date(), retiredAt: null } as SigningKeyRow);
    },
  } as unknown as KeysRepository;
  return new ManifestSigner({ repo, masterKeys: keyRingOf([randomBytes(32)]) });
}

describe('manifest signatures and numbers', () => {
  it('two manifests that differ only in an integer beyond 2^53 never share a signature', async () => {
    const keys = signer();
    const signed = await keys.sign({ id: 'a', sizeBytes: 2 ** 53 - 1 });
    expect(await keys.verify(signed)).toMatchObject({ status: 'valid' });
    // JSON.parse reads both of these texts as 2^53: a signature over the one must not cover the other.
    const big = { ...signed, sizeBytes: 2 ** 53 };
    expect(await keys.verify(big)).toMatchObject({ status: 'invalid', reason: 'malformed' });
    // Two texts that differ only in a big integer: the first is never signed, so the second cannot borrow it.
    const [a, b] = ['9007199254740993', '9007199254740992'].map((n) => `{"id":"a","sizeBytes":${n}}`);
    await expect(keys.sign(JSON.parse(a!) as Record<string, unknown>)).rejects.toMatchObject({ code: 'input/invalid' });
    expect(() => parseSignedJson(b!)).toThrow();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 0.5]) {
      await expect(keys.sign({ id: 'a', n: bad })).rejects.toMatchObject({ code: 'input/invalid' });
      expect(() => canonicalJson({ nested: [{ n: bad }] })).toThrow(/integers/);
    }
  });

  it('refuses texts whose numbers read as another number than they say', () => {
    expect(parseSignedJson('{"a":9007199254740991,"b":[-3,0]}')).toEqual({ a: 2 ** 53 - 1, b: [-3, 0] });
    for (const text of ['{"a":9007199254740993}', '{"a":9007199254740992}', '{"a":1.0}', '{"a":1e2}', '{"a":-0}']) {
      expect(() => parseSignedJson(text), text).toThrow(/safe integer/);
    }
    const manifest = {
      manifestVersion: 2,
      id: '00000000-0000-4000-8000-000000000001',
      fileName: 'x.dump.zst',
      format: 'custom',
      codec: 'zstd',
      sizeBytes: 3,
      sha256: 'a'.repeat(64),
      contentSha256: null,
      origin: 'scheduled',
      createdAt: '2026-01-02T03:04:05.000Z',
    };
    const text = JSON.stringify(manifest);
    expect(parseManifest(text)).not.toBeNull();
    expect(parseManifest(text.replace('"sizeBytes":3', '"sizeBytes":9007199254740993'))).toBeNull();
    expect(parseManifest(text.replace('"sizeBytes":3', '"sizeBytes":3.0'))).toBeNull();
  });
});
