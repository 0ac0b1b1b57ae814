import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceError } from '../../src/errors/service-error.js';
import {
  keyIdOf,
  keyRingOf,
  openCredential,
  sealCredential,
  sealedKeyId,
} from '../../src/modules/targets/credential-box.js';
import { loadKeyRing } from '../../src/modules/targets/key-ring.js';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof ServiceError ? error.code : String(error);
  }
  return undefined;
};

describe('credential box', () => {
  const [a, b] = [randomBytes(32), randomBytes(32)];
  const ring = keyRingOf([a]);

  it('round-trips, with the key id in the sealed value and never the plaintext', () => {
    const sealed = sealCredential(ring, 'target-1', 'hunter2-sécret');
    expect(sealed).not.toContain('hunter2');
    expect(sealedKeyId(sealed)).toBe(keyIdOf(a));
    expect(openCredential(ring, 'target-1', sealed)).toBe('hunter2-sécret');
    // A random IV: sealing twice gives two values.
    expect(sealCredential(ring, 'target-1', 'hunter2-sécret')).not.toBe(sealed);
  });

  it('refuses a tampered value, and one copied onto another target', () => {
    const sealed = sealCredential(ring, 'target-1', 'pw');
    const body = sealed.split('.');
    const flipped = Buffer.from(body[3]!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    const tampered = [...body.slice(0, 3), flipped.toString('base64url')].join('.');
    expect(codeOf(() => openCredential(ring, 'target-1', tampered))).toBe('credential/tampered');
    expect(codeOf(() => openCredential(ring, 'target-2', sealed))).toBe('credential/tampered');
    expect(codeOf(() => openCredential(ring, 'target-1', 'plain text'))).toBe('credential/tampered');
  });

  it('names a missing key by id, and cannot seal without a key', () => {
    const sealed = sealCredential(keyRingOf([b]), 'target-1', 'pw');
    expect(codeOf(() => openCredential(ring, 'target-1', sealed))).toBe('key/unknown');
    expect(codeOf(() => sealCredential(keyRingOf([]), 'target-1', 'pw'))).toBe('key/missing');
  });

  it('opens values of an older key after rotation, and seals with the first', () => {
    const old = sealCredential(keyRingOf([a]), 't', 'pw');
    const rotated = keyRingOf([b, a]);
    expect(openCredential(rotated, 't', old)).toBe('pw');
    const resealed = sealCredential(rotated, 't', openCredential(rotated, 't', old));
    expect(sealedKeyId(resealed)).toBe(keyIdOf(b));
    // The old key is no longer needed.
    expect(openCredential(keyRingOf([b]), 't', resealed)).toBe('pw');
  });
});

describe('key ring sources', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pgbs-keys-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads MASTER_KEY (comma-separated, first current) and MASTER_KEY_FILE (lines, comments)', async () => {
    const [a, b] = [randomBytes(32), randomBytes(32)];
    const fromEnv = await loadKeyRing({ masterKey: `${b.toString('base64')},${a.toString('base64')}` });
    expect(fromEnv.current?.id).toBe(keyIdOf(b));
    expect([...fromEnv.byId.keys()].sort()).toEqual([keyIdOf(a), keyIdOf(b)].sort());
    const file = path.join(dir, 'keys');
    await writeFile(file, `# current\n${a.toString('base64')}\n\n# older\n${b.toString('base64')}\n`);
    expect((await loadKeyRing({ masterKeyFile: file })).current?.id).toBe(keyIdOf(a));
  });

  it('refuses a key that is not 32 bytes without showing it', async () => {
    const error = await loadKeyRing({ masterKey: 'c2hvcnQta2V5' }).catch((e: unknown) => e);
    expect((error as ServiceError).code).toBe('key/invalid');
    expect(String(error)).not.toContain('c2hvcnQta2V5');
    expect(
      ((await loadKeyRing({ masterKeyFile: path.join(dir, 'none') }).catch((e: unknown) => e)) as ServiceError).code,
    ).toBe('key/missing');
  });

  it('generates a 0600 key file once when told where (embedded mode), and has no key otherwise', async () => {
    expect((await loadKeyRing({})).current).toBeNull();
    const file = path.join(dir, 'master.key');
    const first = await loadKeyRing({ generatedKeyFile: file });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64')).toHaveLength(32);
    expect((await loadKeyRing({ generatedKeyFile: file })).current?.id).toBe(first.current?.id);
  });
});
