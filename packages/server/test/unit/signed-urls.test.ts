import { describe, expect, it } from 'vitest';
import { UrlSigner } from '../../src/auth/signed-urls.js';

const ID = '5b0c1f3e-8d8a-4f55-9a43-3a1c2e9b7d10';
const OTHER_ID = '0f6b2c4d-1e2f-4a3b-8c9d-0e1f2a3b4c5d';
const NOW = 1_750_000_000_000;

describe('UrlSigner', () => {
  const signer = new UrlSigner(Buffer.from('a-test-secret-of-at-least-32-characters'));
  const signature = signer.sign(ID, NOW + 60_000);

  it('accepts its own signature for the same backup until it expires', () => {
    expect(signature).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    expect(signer.verify(ID, signature, NOW)).toBe('valid');
    expect(signer.verify(ID, signature, NOW + 60_000)).toBe('valid');
  });

  it('reports an authentic link as expired once its time has passed', () => {
    expect(signer.verify(ID, signature, NOW + 60_001)).toBe('expired');
  });

  it('binds the signature to the backup id', () => {
    expect(signer.verify(OTHER_ID, signature, NOW)).toBe('invalid');
  });

  it('refuses signatures from another secret', () => {
    const other = new UrlSigner(Buffer.from('another-secret-of-at-least-32-characters'));
    expect(other.verify(ID, signature, NOW)).toBe('invalid');
  });

  it('refuses tampered signatures: a later expiry, a changed MAC, appended text', () => {
    const [expires, mac] = signature.split('.') as [string, string];
    const flipped = `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    for (const tampered of [
      `${Number(expires) + 3_600_000}.${mac}`,
      `${expires}.${flipped}`,
      `${signature}.extra`,
      `${signature}=`,
      `0${signature}`,
    ]) {
      expect(signer.verify(ID, tampered, NOW), tampered).toBe('invalid');
    }
  });

  it('refuses malformed signatures without throwing', () => {
    for (const malformed of ['', '.', 'abc', `${NOW}`, `${NOW}.`, `.${'A'.repeat(43)}`, `-1.${'A'.repeat(43)}`]) {
      expect(signer.verify(ID, malformed, NOW), malformed).toBe('invalid');
    }
    // Expiry as an exponent or hex would parse as a number: only plain digits are accepted.
    expect(signer.verify(ID, `1e20.${'A'.repeat(43)}`, NOW)).toBe('invalid');
  });
});
