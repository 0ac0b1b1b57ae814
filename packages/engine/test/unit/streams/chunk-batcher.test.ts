import { randomBytes } from 'node:crypto';
import { Readable, Transform, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { zstdDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { zstdCompressor } from '../../../src/compression/codec.js';
import { ChunkBatcher, RecyclingChunkBatcher } from '../../../src/streams/chunk-batcher.js';

/** Each chunk as the batcher pushes it ('data' in flowing mode; an iterator would merge them). */
async function batches(chunks: Buffer[], bytes: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const batcher = Readable.from(chunks).pipe(new ChunkBatcher(bytes));
  batcher.on('data', (chunk: Buffer) => out.push(chunk));
  await finished(batcher);
  return out;
}

describe('ChunkBatcher', () => {
  it('passes the bytes on in order, in chunks of at least the batch size, the rest at the end', async () => {
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.alloc(3, i));
    const out = await batches(chunks, 7);
    expect(Buffer.concat(out)).toEqual(Buffer.concat(chunks));
    expect(out.map((b) => b.length)).toEqual([9, 9, 9, 3]);
  });

  it('passes a big chunk on as it is, and nothing for no input', async () => {
    expect((await batches([Buffer.alloc(100, 1)], 10)).map((b) => b.length)).toEqual([100]);
    expect(await batches([], 10)).toEqual([]);
  });
});

describe('RecyclingChunkBatcher into zstd', () => {
  it('reuses the batches zstd has taken, and the output still decompresses to the input, byte for byte', async () => {
    const input = randomBytes(16 * 1024 * 1024 + 123);
    const pieces = Array.from({ length: Math.ceil(input.length / 65_536) }, (_, i) =>
      input.subarray(i * 65_536, (i + 1) * 65_536),
    );
    const batcher = new RecyclingChunkBatcher(256 * 1024);
    const seen = new Set<ArrayBufferLike>();
    let batchCount = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        batchCount += 1;
        seen.add(chunk.buffer);
        callback(null, chunk);
      },
    });
    const out: Buffer[] = [];
    await pipeline(
      Readable.from(pieces),
      batcher,
      counter,
      zstdCompressor(3, (chunk) => batcher.recycle(chunk)),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          out.push(chunk);
          callback();
        },
      }),
    );
    expect(zstdDecompressSync(Buffer.concat(out)).equals(input)).toBe(true);
    expect(batchCount).toBe(65);
    // Without recycling each batch would be a memory of its own; with it, about as many as are in flight.
    expect(seen.size).toBeLessThan(batchCount / 2);
  });

  it('takes back only whole batches of its own size', () => {
    const batcher = new RecyclingChunkBatcher(8);
    const next = () => {
      batcher.write(Buffer.alloc(8, 1));
      return batcher.read() as Buffer;
    };
    const own = next();
    batcher.recycle(own);
    expect(next()).toBe(own);
    const short = Buffer.alloc(4);
    const offset = Buffer.alloc(16).subarray(8);
    batcher.recycle(short);
    batcher.recycle(offset);
    const fresh = next();
    expect(fresh).not.toBe(short);
    expect(fresh).not.toBe(offset);
    expect(fresh.buffer).not.toBe(offset.buffer);
  });
});
