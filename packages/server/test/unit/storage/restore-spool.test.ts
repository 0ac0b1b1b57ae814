import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localRestoreSpool } from '../../../src/storage/restore-spool.js';

const CHUNK = 64 * 1024;

/** A source that claims `claimed` bytes and gives `given`, counting what the spool pulled from it. */
function lying(claimed: number, given: number) {
  let pulled = 0;
  return {
    pulled: () => pulled,
    source: {
      sizeBytes: claimed,
      open: async () =>
        Readable.from(
          (function* () {
            for (let sent = 0; sent < given; sent += CHUNK) {
              const chunk = Buffer.alloc(Math.min(CHUNK, given - sent), 1);
              pulled += chunk.length;
              yield chunk;
            }
          })(),
        ),
    },
  };
}

describe('restore spool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spool-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('copies exactly the recorded size', async () => {
    const { source } = lying(3 * CHUNK + 5, 3 * CHUNK + 5);
    const copy = await localRestoreSpool(dir).copy(source, new AbortController().signal);
    const [file] = await readdir(dir);
    expect((await readFile(path.join(dir, file!))).length).toBe(3 * CHUNK + 5);
    await copy.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('cuts off storage that gives more than the catalog records, deleting the copy, and reads no further', async () => {
    // The catalog says 100 KiB; the object is 64 MiB (replaced in storage, or a hostile endpoint).
    const { source, pulled } = lying(100 * 1024, 64 * 1024 * 1024);
    await expect(localRestoreSpool(dir).copy(source, new AbortController().signal)).rejects.toMatchObject({
      code: 'storage/size-mismatch',
    });
    expect(await readdir(dir)).toEqual([]);
    // Stopped at the chunk that crossed the size (stream buffers add a few chunks, never the rest).
    expect(pulled()).toBeLessThan(2 * 1024 * 1024);
  });

  it('refuses storage that gives fewer bytes than recorded', async () => {
    const { source } = lying(10 * CHUNK, 2 * CHUNK);
    await expect(localRestoreSpool(dir).copy(source, new AbortController().signal)).rejects.toMatchObject({
      code: 'storage/size-mismatch',
    });
    expect(await readdir(dir)).toEqual([]);
  });
});
