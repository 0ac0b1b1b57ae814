import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localObjectStorage } from '../../../src/storage/local-storage.js';
import { listManifests, manifestNameOf, parseManifest, writeManifest } from '../../../src/storage/manifest.js';

const text = async (stream: AsyncIterable<unknown>) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
};

const B1 = '11111111-1111-4111-8111-111111111111';
const B2 = '22222222-2222-4222-8222-222222222222';

describe('local object storage', () => {
  let root: string;
  let dir: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'pgbs-storage-'));
    dir = path.join(root, 'backups');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('shows an object only once committed, private, and reads it whole or by range', async () => {
    const storage = localObjectStorage(dir);
    const writer = await storage.createWriter('a.dump');
    writer.stream.end('0123456789');
    expect(await storage.stat('a.dump')).toBeNull();
    expect(await readdir(dir)).toEqual([writer.partialRef]);
    expect(await writer.commit()).toEqual({ sizeBytes: 10 });
    expect(await storage.stat('a.dump')).toEqual({ sizeBytes: 10 });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(dir, 'a.dump'))).mode & 0o777).toBe(0o600);
    expect(await text(await storage.openRead('a.dump'))).toBe('0123456789');
    expect(await text(await storage.openRead('a.dump', { start: 2, end: 4 }))).toBe('234');
    await expect(storage.openRead('missing.dump')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('leaves nothing after an abort, and recovery discards a partial by its ref only', async () => {
    const storage = localObjectStorage(dir);
    const aborted = await storage.createWriter('b.dump');
    aborted.stream.write('half');
    await aborted.abort();
    await aborted.abort();
    expect(await readdir(dir)).toEqual([]);
    const crashed = await storage.createWriter('c.dump');
    crashed.stream.write('half');
    await writeFile(path.join(root, 'outside.partial'), 'keep');
    await storage.discardPartial(path.join(root, '..', 'outside.partial'));
    await storage.discardPartial('c.dump');
    expect(await readdir(dir)).toEqual([crashed.partialRef]);
    await storage.discardPartial(crashed.partialRef);
    expect(await readdir(dir)).toEqual([]);
    expect(await readFile(path.join(root, 'outside.partial'), 'utf8')).toBe('keep');
  });

  it('lists committed objects by suffix, removes them, and refuses names that could escape', async () => {
    const storage = localObjectStorage(dir);
    for (const name of ['x.dump', 'x.dump.manifest.json']) {
      const writer = await storage.createWriter(name);
      writer.stream.end('{}');
      await writer.commit();
    }
    await storage.createWriter('y.dump');
    expect((await storage.list()).map((o) => o.name).sort()).toEqual(['x.dump', 'x.dump.manifest.json']);
    expect(await storage.list('.manifest.json')).toEqual([{ name: 'x.dump.manifest.json', sizeBytes: 2 }]);
    await storage.remove('x.dump');
    await storage.remove('x.dump');
    expect(await storage.stat('x.dump')).toBeNull();
    await expect(storage.createWriter('../evil')).rejects.toMatchObject({ code: 'input/invalid' });
    await expect(storage.openRead('.hidden')).rejects.toMatchObject({ code: 'input/invalid' });
    await storage.test();
    expect(await storage.freeBytes()).toBeGreaterThan(0);
  });

  it('writes version-2 manifests as objects and still reads version-1 ones', async () => {
    const storage = localObjectStorage(dir);
    const v1 = {
      manifestVersion: 1,
      id: B1,
      fileName: 'old.sql.gz',
      description: '',
      format: 'plain-gzip',
      sizeBytes: 3,
      sha256: 'a'.repeat(64),
      origin: 'manual',
      createdAt: '2026-01-02T03:04:05.000Z',
    };
    const writer = await storage.createWriter(manifestNameOf('old.sql.gz'));
    writer.stream.end(JSON.stringify(v1));
    await writer.commit();
    const v2 = {
      ...v1,
      manifestVersion: 2 as const,
      id: B2,
      fileName: 'new.dump.zst',
      format: 'custom',
      codec: 'zstd' as const,
      contentSha256: 'b'.repeat(64),
    };
    await writeManifest(storage, { ...parseManifest(JSON.stringify(v2))! });
    const bad = await storage.createWriter('wrong.dump.manifest.json');
    bad.stream.end(JSON.stringify({ ...v2, fileName: 'other.dump' }));
    await bad.commit();
    const { manifests, unreadable } = await listManifests(storage);
    expect(manifests.find((m) => m.id === B1)).toMatchObject({ codec: 'gzip', contentSha256: null, tableSizes: [] });
    expect(manifests.find((m) => m.id === B2)).toMatchObject({ codec: 'zstd', contentSha256: 'b'.repeat(64) });
    expect(unreadable).toEqual(['wrong.dump.manifest.json']);
    expect(parseManifest(JSON.stringify({ ...v2, codec: 'lz4' }))).toBeNull();
  });

  it('refuses a planted manifest that names files beside a backup, or carries junk into the catalog', () => {
    const good = {
      manifestVersion: 2,
      id: B2,
      fileName: 'x.dump.zst',
      format: 'custom',
      codec: 'zstd',
      sizeBytes: 3,
      sha256: 'a'.repeat(64),
      contentSha256: null,
      origin: 'scheduled',
      createdAt: '2026-01-02T03:04:05.000Z',
      globalsFileName: 'x.dump.zst.globals.sql',
    };
    expect(parseManifest(JSON.stringify(good))).not.toBeNull();
    const forged: Record<string, unknown>[] = [
      // Deleting the planted backup would delete another backup's file.
      { globalsFileName: 'y.dump.zst' },
      { fileName: 'y.dump.zst.partial' },
      { fileName: 'y.dump.zst.globals.sql', globalsFileName: undefined },
      { fileName: 'y.dump.manifest.json', globalsFileName: undefined },
      { fileName: '../y.dump', globalsFileName: undefined },
      { id: "1'; drop table backups; --" },
      { sha256: 'not hex' },
      { sizeBytes: -1 },
      { sizeBytes: 2 ** 60 },
      { origin: 'root' },
      { createdAt: 'yesterday' },
      { tableSizes: [{ schema: 1 }] },
      { description: { html: '<script>' } },
      { contentSha256: 'zz' },
    ];
    for (const change of forged)
      expect(parseManifest(JSON.stringify({ ...good, ...change })), JSON.stringify(change)).toBeNull();
    expect(parseManifest('{"manifestVersion": 2')).toBeNull();
  });
});
