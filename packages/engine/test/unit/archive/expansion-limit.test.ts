import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipSqlStages } from '../../../src/archive/gunzip.js';
import { detectSource, openContent } from '../../../src/archive/source.js';
import { DEFAULT_EXPANSION_LIMIT, maxDecodedBytes } from '../../../src/compression/expansion-limit.js';

const MiB = 1024 * 1024;
/** 1 MiB floor and 4× its stored size: small enough for a test's bomb to cross quickly. */
const limit = { ratio: 4, floorBytes: MiB };

/** A sink that counts what reached it: what a restore's target or a spool would have received. */
function counting(): { sink: Writable; bytes: () => number } {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  return { sink, bytes: () => bytes };
}

// A plain SQL dump's start, then 64 MiB of one repeated line: a few KiB once compressed.
const head = Buffer.from('--\n-- PostgreSQL database dump\n--\n');
const bombContent = () => Buffer.concat([head, Buffer.alloc(64 * MiB, 'INSERT INTO t VALUES (1);\n')]);

describe('decompression bombs', () => {
  it('stops a zstd stream at the cap: not one byte beyond it reaches the sink', async () => {
    const stored = zstdCompressSync(bombContent());
    expect(stored.length).toBeLessThan(64 * 1024);
    const source = { sizeBytes: stored.length, open: async () => Readable.from([stored]), expansionLimit: limit };
    // Detection reads only the head: it still works.
    expect(await detectSource(source)).toMatchObject({ format: 'plain', codec: 'zstd' });
    const { sink, bytes } = counting();
    const error = await pipeline(await openContent({ ...source, codec: 'zstd' }), sink).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'archive/expansion-too-large' });
    expect(bytes()).toBeLessThanOrEqual(MiB);
  });

  it('stops a gzipped plain SQL file at the cap', async () => {
    const stored = gzipSync(bombContent());
    const { sink, bytes } = counting();
    const stages = gunzipSqlStages(maxDecodedBytes(stored.length, limit), limit);
    const error = await pipeline([Readable.from([stored]), ...stages, sink]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'archive/expansion-too-large' });
    expect(bytes()).toBeLessThanOrEqual(MiB);
  });

  it('lets through a file within the cap, and by default allows 200× with a 1 GiB floor', async () => {
    const content = Buffer.concat([head, Buffer.alloc(MiB / 2, 'x\n')]);
    const stored = zstdCompressSync(content);
    const source = { sizeBytes: stored.length, open: async () => Readable.from([stored]), expansionLimit: limit };
    const { sink, bytes } = counting();
    await pipeline(await openContent({ ...source, codec: 'zstd' }), sink);
    expect(bytes()).toBe(content.length);
    expect(maxDecodedBytes(10)).toBe(DEFAULT_EXPANSION_LIMIT.floorBytes);
    expect(maxDecodedBytes(100 * 1024 ** 3)).toBe(200 * 100 * 1024 ** 3);
  });
});
