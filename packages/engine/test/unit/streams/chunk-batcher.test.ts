import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { ChunkBatcher } from '../../../src/streams/chunk-batcher.js';

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
