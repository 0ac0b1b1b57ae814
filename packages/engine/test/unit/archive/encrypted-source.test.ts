import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { detectSource, openContent } from '../../../src/archive/source.js';
import { zstdCompressor } from '../../../src/compression/codec.js';
import { encryptTransform, generateAgeIdentity } from '../../../src/crypto/age-stream.js';

/** `clear` through zstd and age, as a backup of an encrypted target is stored. */
async function sealed(clear: Buffer, recipient: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await pipeline(Readable.from([clear]), zstdCompressor(3), await encryptTransform({ recipients: [recipient] }), sink);
  return Buffer.concat(chunks);
}

const source = (bytes: Buffer, identities?: string[]) => ({
  sizeBytes: bytes.length,
  open: async () => Readable.from([bytes]),
  ...(identities ? { identities } : {}),
});

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('encrypted sources', () => {
  const sql = Buffer.from('-- PostgreSQL database dump\nSELECT 1;\n-- PostgreSQL database dump complete\n');

  it('detects the format inside age and zstd, and opens the content with the identity', async () => {
    const key = await generateAgeIdentity();
    const bytes = await sealed(sql, key.recipient);
    const detected = await detectSource(source(bytes, [key.identity]));
    expect(detected).toMatchObject({ format: 'plain', codec: 'zstd', encrypted: true });
    expect(await text(await openContent(detected))).toBe(sql.toString());
  });

  it('refuses without an identity (key/identity-required) and with a wrong one (key/wrong-identity)', async () => {
    const key = await generateAgeIdentity();
    const other = await generateAgeIdentity();
    const bytes = await sealed(sql, key.recipient);
    await expect(detectSource(source(bytes))).rejects.toMatchObject({ code: 'key/identity-required' });
    await expect(detectSource(source(bytes, [other.identity]))).rejects.toMatchObject({ code: 'key/wrong-identity' });
    const stored = { ...source(bytes), format: 'plain' as const, codec: 'zstd' as const, encrypted: true };
    await expect(openContent(stored)).rejects.toMatchObject({ code: 'key/identity-required' });
  });
});
