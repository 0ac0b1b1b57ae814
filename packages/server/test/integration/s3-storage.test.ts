import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { type S3TestServer, startS3Server } from '@pgbs/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCodedError } from '../../src/errors/service-error.js';
import { type S3Credentials, partSizeFor, s3Storage } from '../../src/storage/s3-storage.js';
import type { ObjectStorage } from '../../src/storage/object-storage.js';

const BUCKET = 'pgbs-test';
const MiB = 1024 * 1024;

let server: S3TestServer;
let credentials: S3Credentials;
const storageAt = (options: { bucket?: string; prefix?: string; credentials?: S3Credentials } = {}) =>
  s3Storage(
    {
      endpoint: server.endpoint,
      bucket: options.bucket ?? BUCKET,
      prefix: options.prefix ?? 'backups',
      pathStyle: true,
    },
    options.credentials ?? credentials,
    // A stopped server fails fast instead of after the SDK's three attempts with back-off.
    { maxAttempts: 1 },
  );

beforeAll(async () => {
  server = await startS3Server({ buckets: [BUCKET] });
  credentials = { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey };
});
afterAll(() => server?.stop());

/** `size` random bytes, produced in 1 MiB chunks, and their digest. */
function randomSource(size: number): { stream: () => Readable; sha256: string } {
  const seed = randomBytes(MiB);
  const chunks = Array.from({ length: Math.ceil(size / MiB) }, (_, i) => {
    const chunk = Buffer.from(seed);
    chunk.writeUInt32BE(i, 0); // each chunk differs: a part written twice or out of order shows
    return chunk.subarray(0, Math.min(MiB, size - i * MiB));
  });
  const sha256 = createHash('sha256');
  for (const chunk of chunks) sha256.update(chunk);
  return { stream: () => Readable.from(chunks), sha256: sha256.digest('hex') };
}

async function digestOf(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isCodedError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a coded error');
}

describe('S3 storage against s3rver', () => {
  it('sizes parts so that 10,000 suffice, at least 5 MiB', () => {
    expect(partSizeFor(30 * MiB)).toBe(5 * MiB);
    expect(partSizeFor(undefined)).toBe(16 * MiB);
    for (const size of [50e9, 1e12, 5e12]) expect(partSizeFor(size) * 10_000).toBeGreaterThan(size * 1.1);
  });

  it('uploads 30 MB in several parts, reads it back whole and by range with equal digests', async () => {
    const storage = storageAt();
    const size = 30 * MiB + 12345;
    const source = randomSource(size);
    const writer = await storage.createWriter('multipart.dump', { expectedBytes: size });
    await pipeline(source.stream(), writer.stream);
    // Invisible until committed: the multipart upload is complete only then.
    expect(await storage.stat('multipart.dump')).toBeNull();
    expect(await server.pendingUploads(BUCKET)).toEqual(['backups/multipart.dump']);
    expect(await writer.commit()).toEqual({ sizeBytes: size });
    expect(await server.pendingUploads(BUCKET)).toEqual([]);

    expect(await storage.stat('multipart.dump')).toEqual({ sizeBytes: size });
    expect(await digestOf(await storage.openRead('multipart.dump'))).toEqual({ sha256: source.sha256, bytes: size });
    const start = 7 * MiB + 3;
    const end = 19 * MiB;
    const whole = Buffer.concat(await Readable.from(source.stream()).toArray());
    expect(await digestOf(await storage.openRead('multipart.dump', { start, end }))).toEqual({
      sha256: createHash('sha256')
        .update(whole.subarray(start, end + 1))
        .digest('hex'),
      bytes: end - start + 1,
    });
    expect(await storage.list('.dump')).toContainEqual({ name: 'multipart.dump', sizeBytes: size });
    await storage.remove('multipart.dump');
    expect(await storage.stat('multipart.dump')).toBeNull();
    await storage.remove('multipart.dump'); // a missing object is no error
  });

  it('a small object is one PUT at commit; list pages through many objects and keeps to the prefix', async () => {
    const storage = storageAt({ prefix: 'listing/' });
    const other = storageAt({ prefix: 'elsewhere' });
    const names = Array.from({ length: 1003 }, (_, i) => `obj-${String(i).padStart(4, '0')}.bin`);
    await Promise.all(
      names.map(async (name) => {
        const writer = await other.createWriter(name);
        writer.stream.end(name);
        await writer.commit();
      }),
    );
    const writer = await storage.createWriter('small.dump');
    writer.stream.end('tiny');
    await finished(writer.stream);
    expect(await storage.stat('small.dump')).toBeNull();
    expect(await writer.commit()).toEqual({ sizeBytes: 4 });
    expect(await storage.list()).toEqual([{ name: 'small.dump', sizeBytes: 4 }]);
    const listed = await other.list('.bin');
    expect(listed.map((o) => o.name)).toEqual(names);
  });

  it('a writer aborted midway leaves no object and no open upload', async () => {
    const storage = storageAt();
    const writer = await storage.createWriter('aborted.dump', { expectedBytes: 20 * MiB });
    const source = randomSource(12 * MiB);
    for await (const chunk of source.stream()) {
      if (!writer.stream.write(chunk)) await new Promise((resolve) => writer.stream.once('drain', resolve));
    }
    await waitFor(async () => (await server.pendingUploads(BUCKET)).includes('backups/aborted.dump'));
    await writer.abort();
    await writer.abort(); // twice is fine
    expect(await storage.stat('aborted.dump')).toBeNull();
    expect(await server.pendingUploads(BUCKET)).toEqual([]);
  });

  it('discardPartial aborts an upload its writer never finished (a crashed process)', async () => {
    const storage = storageAt();
    const writer = await storage.createWriter('crashed.dump', { expectedBytes: 20 * MiB });
    for await (const chunk of randomSource(11 * MiB).stream()) {
      if (!writer.stream.write(chunk)) await new Promise((resolve) => writer.stream.once('drain', resolve));
    }
    await waitFor(async () => (await server.pendingUploads(BUCKET)).includes('backups/crashed.dump'));
    // Another instance, after the crash, with only what the job row kept.
    await storageAt().discardPartial(writer.partialRef);
    expect(await server.pendingUploads(BUCKET)).toEqual([]);
    expect(await storage.stat('crashed.dump')).toBeNull();
    await storageAt().discardPartial(writer.partialRef); // already gone: no error
    await expect(storageAt({ prefix: 'other' }).discardPartial(writer.partialRef)).rejects.toMatchObject({
      code: 'input/invalid',
    });
    // Only a key its own writer makes: not a deeper key (another prefix nested in this one's).
    const nested = JSON.stringify({ bucket: BUCKET, key: 'backups/other/crashed.dump' });
    await expect(storageAt().discardPartial(nested)).rejects.toMatchObject({ code: 'input/invalid' });
  });

  it('test() writes, reads back and removes a probe', async () => {
    const storage = storageAt({ prefix: 'probe' });
    await storage.test();
    expect(await storage.list()).toEqual([]);
    expect(await storage.freeBytes()).toBeNull();
  });

  it('an unknown access key is destination/auth-failed, with no secret in the message', async () => {
    const wrong = { accessKeyId: 'PGBSWRONGKEY', secretAccessKey: 'wrong-secret-value-123' };
    const storage = storageAt({ credentials: wrong });
    for (const attempt of [() => storage.test(), () => storage.list(), () => storage.stat('x.dump')]) {
      try {
        await attempt();
        throw new Error('expected a refusal');
      } catch (error) {
        expect(error).toMatchObject({ code: 'destination/auth-failed' });
        expect(String((error as Error).message)).not.toContain('wrong-secret-value-123');
        expect(String((error as Error).message)).not.toContain(server.secretAccessKey);
      }
    }
  });

  it('a missing bucket is destination/bucket-missing', async () => {
    const storage = storageAt({ bucket: 'pgbs-no-such-bucket' });
    expect(await codeOf(storage.test())).toBe('destination/bucket-missing');
    expect(await codeOf(storage.list())).toBe('destination/bucket-missing');
    const writer = await storage.createWriter('b.dump');
    writer.stream.end('x');
    expect(await codeOf(writer.commit())).toBe('destination/bucket-missing');
  });

  it('a missing object is backup/file-missing', async () => {
    expect(await codeOf(storageAt().openRead('absent.dump'))).toBe('backup/file-missing');
  });

  it('a server stopped midway fails the upload with a coded error and commits nothing', async () => {
    const storage = storageAt();
    const writer = await storage.createWriter('interrupted.dump', { expectedBytes: 40 * MiB });
    const source = randomSource(40 * MiB);
    let written = 0;
    const writing = pipeline(
      source.stream().map(async (chunk: Buffer) => {
        written += chunk.length;
        if (written === 12 * MiB) await server.kill();
        return chunk;
      }),
      writer.stream,
    ).then(() => writer.commit());
    const code = await codeOf(writing);
    expect(code).toBe('destination/unreachable');
    await server.restart();
    expect(await storage.stat('interrupted.dump')).toBeNull();
    // What the dead server kept of the upload goes with the writer's abort (or recovery's discardPartial).
    await writer.abort();
    await storage.discardPartial(writer.partialRef);
    expect(await server.pendingUploads(BUCKET)).toEqual([]);
  });

  it('a stopped server is destination/unreachable for every operation', async () => {
    await server.kill();
    try {
      const storage: ObjectStorage = storageAt();
      expect(await codeOf(storage.test())).toBe('destination/unreachable');
      expect(await codeOf(storage.stat('x.dump'))).toBe('destination/unreachable');
      expect(await codeOf(storage.openRead('x.dump'))).toBe('destination/unreachable');
    } finally {
      await server.restart();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
