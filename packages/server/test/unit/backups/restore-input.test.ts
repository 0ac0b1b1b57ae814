import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { RestoreSource } from '../../../src/modules/backups/backup-types.js';
import type { BackupsDeps } from '../../../src/modules/backups/backups-deps.js';
import { inspectRequest } from '../../../src/modules/backups/backup-files.js';
import { directInput, mustSpool, openRestoreInput } from '../../../src/modules/backups/restore-input.js';
import type { ObjectStorage } from '../../../src/storage/object-storage.js';
import type { RestoreSpool } from '../../../src/storage/restore-spool.js';

const source = (over: Partial<RestoreSource>): RestoreSource => ({
  backupId: 'b1',
  fileName: 'b1.dump.zst',
  filePath: null,
  label: 'backup b1.dump.zst',
  format: 'custom',
  codec: 'zstd',
  foreign: false,
  sha256: 'a'.repeat(64),
  contentSha256: 'b'.repeat(64),
  databaseName: 'shop',
  sizeBytes: 1000 * 1024 * 1024,
  tables: [],
  postDataItems: 0,
  ...over,
});

function deps(freeBytes: number) {
  const copies: string[] = [];
  const storage = { openRead: async () => Readable.from([Buffer.from('stored')]) } as unknown as ObjectStorage;
  const restoreSpool: RestoreSpool = {
    freeBytes: async () => freeBytes,
    copy: async (bytes) => {
      copies.push(String(bytes.sizeBytes));
      return { source: { sizeBytes: bytes.sizeBytes, open: async () => Readable.from([]) }, release: async () => {} };
    },
  };
  // No copy rows: a backup from before copies, read from the local destination.
  const placement = { localId: 'local', storage: async () => storage } as unknown as BackupsDeps['placement'];
  const copyRows = { ofBackup: async () => [] } as unknown as BackupsDeps['copies'];
  return {
    deps: { placement, copies: copyRows, restoreSpool } satisfies Pick<
      BackupsDeps,
      'placement' | 'copies' | 'restoreSpool'
    >,
    copies,
  };
}

describe('restore input', () => {
  it('streams its own custom archives, copies tar and foreign archives first', () => {
    expect(mustSpool(source({}))).toBe(false);
    expect(mustSpool(source({ format: 'tar' }))).toBe(true);
    expect(mustSpool(source({ foreign: true }))).toBe(true);
    expect(mustSpool(source({ format: 'plain-gzip', foreign: true }))).toBe(false);
    // A file from outside is local already.
    expect(mustSpool(source({ backupId: null, fileName: null, filePath: '/tmp/x.tar', format: 'tar' }))).toBe(false);
  });

  it('refuses a copy that would not fit, with a coded error, having copied nothing', async () => {
    const { deps: d, copies } = deps(500 * 1024 * 1024);
    const tar = source({ format: 'tar', codec: 'none' });
    await expect(openRestoreInput(d, tar, new AbortController().signal)).rejects.toMatchObject({
      code: 'storage/insufficient-space',
    });
    expect(copies).toEqual([]);
    // Its own custom archive needs no copy, whatever the free space.
    const streamed = await openRestoreInput(d, source({}), new AbortController().signal);
    expect(streamed.source).toMatchObject({ codec: 'zstd', contentSha256: 'b'.repeat(64) });
    expect(copies).toEqual([]);
  });

  it('decodes with the configured expansion limit (MAX_EXPANSION_RATIO), in restores and inspections', async () => {
    const expansionLimit = { ratio: 1000, floorBytes: 1 };
    const { deps: d } = deps(2000 * 1024 * 1024);
    expect(directInput({ ...d, expansionLimit }, source({})).expansionLimit).toBe(expansionLimit);
    const spooled = await openRestoreInput(
      { ...d, expansionLimit },
      source({ format: 'tar' }),
      new AbortController().signal,
    );
    expect(spooled.source.expansionLimit).toBe(expansionLimit);
    const request = inspectRequest({ runner: {} as BackupsDeps['runner'], expansionLimit }, source({}), {} as never);
    expect(request.source.expansionLimit).toBe(expansionLimit);
  });

  it('copies when there is room, keeping the digests the restore checks', async () => {
    const { deps: d, copies } = deps(2000 * 1024 * 1024);
    const input = await openRestoreInput(d, source({ foreign: true }), new AbortController().signal);
    expect(copies).toEqual([String(1000 * 1024 * 1024)]);
    expect(input.source).toMatchObject({ format: 'custom', codec: 'zstd', sha256: 'a'.repeat(64) });
  });
});
