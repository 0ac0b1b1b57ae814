import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decryptStream, encryptTransform, generateAgeIdentity } from '../../../src/crypto/age-stream.js';
import { reencryptStream } from '../../../src/crypto/reencrypt.js';
import { zstdCompressor } from '../../../src/compression/codec.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function through(input: Buffer, ...stages: NodeJS.ReadWriteStream[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      chunks.push(chunk);
      done();
    },
  });
  await pipeline([Readable.from([input]), ...stages, sink]);
  return Buffer.concat(chunks);
}

function sinkOf(): { sink: Writable; bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  return {
    sink: new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        chunks.push(chunk);
        done();
      },
    }),
    bytes: () => Buffer.concat(chunks),
  };
}

describe('reencryptStream', () => {
  // Larger than age's 64 KiB chunks and zlib's buffers: backpressure on the side branch is exercised.
  const dump = randomBytes(3 * 1024 * 1024);

  it('re-encrypts a zstd age file to new recipients in one pass, with all three digests', async () => {
    const [oldKey, newKey] = [await generateAgeIdentity(), await generateAgeIdentity()];
    const compressed = await through(dump, zstdCompressor(3));
    const stored = await through(compressed, await encryptTransform({ recipients: [oldKey.recipient] }));
    const out = sinkOf();
    const result = await reencryptStream({
      source: {
        open: async () => Readable.from([stored]),
        sizeBytes: stored.length,
        codec: 'zstd',
        format: 'custom',
        encrypted: true,
        identities: [oldKey.identity],
      },
      encryptTo: [newKey.recipient],
      sink: out.sink,
      signal: new AbortController().signal,
    });
    expect(result.source).toEqual({ sha256: sha256(stored), sizeBytes: stored.length });
    expect(result.written).toEqual({ sha256: sha256(out.bytes()), sizeBytes: out.bytes().length });
    expect(result.contentSha256).toBe(sha256(dump));
    // The new file opens with the new identity only.
    const clear = await collect(await decryptStream(Readable.from([out.bytes()]), { identities: [newKey.identity] }));
    expect(clear.equals(compressed)).toBe(true);
    await expect(decryptStream(Readable.from([out.bytes()]), { identities: [oldKey.identity] })).rejects.toMatchObject({
      code: 'key/wrong-identity',
    });
  });

  it('encrypts a backup stored in clear (plain SQL: its gzip is removed for the content digest)', async () => {
    const key = await generateAgeIdentity();
    const stored = gzipSync(dump);
    const out = sinkOf();
    const result = await reencryptStream({
      source: {
        open: async () => Readable.from([stored]),
        sizeBytes: stored.length,
        codec: 'gzip',
        format: 'plain-gzip',
      },
      encryptTo: [key.recipient],
      sink: out.sink,
      signal: new AbortController().signal,
    });
    expect(result.source.sha256).toBe(sha256(stored));
    expect(result.contentSha256).toBe(sha256(dump));
    const clear = await collect(await decryptStream(Readable.from([out.bytes()]), { identities: [key.identity] }));
    expect(clear.equals(stored)).toBe(true);
  });

  it('fails with key/wrong-identity before writing a byte', async () => {
    const [oldKey, other] = [await generateAgeIdentity(), await generateAgeIdentity()];
    const stored = await through(dump, await encryptTransform({ recipients: [oldKey.recipient] }));
    const out = sinkOf();
    await expect(
      reencryptStream({
        source: {
          open: async () => Readable.from([stored]),
          sizeBytes: stored.length,
          codec: 'none',
          format: 'custom',
          encrypted: true,
          identities: [other.identity],
        },
        encryptTo: [other.recipient],
        sink: out.sink,
        signal: new AbortController().signal,
      }),
    ).rejects.toMatchObject({ code: 'key/wrong-identity' });
    expect(out.bytes().length).toBe(0);
  });

  it('fails with a coded error when the content does not decode (a damaged zstd stream)', async () => {
    const key = await generateAgeIdentity();
    const stored = await through(dump, zstdCompressor(3));
    stored[stored.length >> 1]! ^= 0xff;
    await expect(
      reencryptStream({
        source: {
          open: async () => Readable.from([stored]),
          sizeBytes: stored.length,
          codec: 'zstd',
          format: 'custom',
        },
        encryptTo: [key.recipient],
        sink: sinkOf().sink,
        signal: new AbortController().signal,
      }),
    ).rejects.toMatchObject({ code: expect.stringMatching(/^archive\//) });
  });
});

describe('reencryptStream failing downstream', () => {
  /** An endless source (an open file or S3 response), destroyed or not. */
  const endless = () =>
    new Readable({
      read() {
        this.push(randomBytes(16 * 1024));
      },
    });
  /** A sink whose destination fails (a disk full, an upload refused) at the first write. */
  const failing = () =>
    new Writable({
      write: (_chunk, _encoding, done) => done(new Error('sink failed')),
    });

  it('destroys the source of a clear backup (no read left open)', async () => {
    const source = endless();
    const key = await generateAgeIdentity();
    await expect(
      reencryptStream({
        source: { open: async () => source, sizeBytes: 1 << 30, codec: 'none', format: 'custom' },
        encryptTo: [key.recipient],
        sink: failing(),
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow();
    expect(source.destroyed).toBe(true);
  });

  it('destroys the source of an encrypted backup', async () => {
    const [oldKey, newKey] = [await generateAgeIdentity(), await generateAgeIdentity()];
    // A valid header, then more ciphertext than the sink takes: the sink fails first.
    const stored = await through(randomBytes(1 << 20), await encryptTransform({ recipients: [oldKey.recipient] }));
    let served = false;
    const source = new Readable({
      read() {
        if (served) return; // open, waiting: as a slow S3 response would
        served = true;
        this.push(stored);
      },
    });
    await expect(
      reencryptStream({
        source: {
          open: async () => source,
          sizeBytes: stored.length,
          codec: 'none',
          format: 'custom',
          encrypted: true,
          identities: [oldKey.identity],
        },
        encryptTo: [newKey.recipient],
        sink: failing(),
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow();
    expect(source.destroyed).toBe(true);
  });
});
