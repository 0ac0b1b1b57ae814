import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type TestDatabase,
  createTestDatabase,
  diffFingerprints,
  fingerprint,
  loadFeatureRichSchema,
  mutateFeatureRichDatabase,
  type Fingerprint,
} from '@pgbs/test-support';
import { parsePgUrl } from '../../src/index.js';
import { backupTo, restoreFrom, tempDir } from './harness.js';

const adminUrl = inject('pgAdminUrl');

describe('backup and atomic restore round trip', () => {
  let source: TestDatabase;
  let original: Fingerprint;
  let work: Awaited<ReturnType<typeof tempDir>>;
  const files: Record<string, string> = {};

  beforeAll(async () => {
    work = await tempDir();
    source = await createTestDatabase(adminUrl, 'rt_source');
    await loadFeatureRichSchema(source.url);
    original = await fingerprint(source.url);
    files.custom = path.join(work.dir, 'backup.dump');
    files['plain-gzip'] = path.join(work.dir, 'backup.sql.gz');
    files.plain = path.join(work.dir, 'backup.sql');
    files.tar = path.join(work.dir, 'backup.tar');
    files['custom-zstd'] = path.join(work.dir, 'backup.dump.zst');
    const custom = await backupTo(source.url, files.custom, 'custom');
    const zstd = await backupTo(source.url, files['custom-zstd'], 'custom', { codec: 'zstd' });
    expect(zstd.result).toMatchObject({ codec: 'zstd' });
    expect(zstd.result.contentSha256).not.toBe(zstd.result.sha256);
    expect(custom.result.sha256).toMatch(/^[0-9a-f]{64}$/);
    await backupTo(source.url, files['plain-gzip'], 'plain');
    await pipeline(createReadStream(files['plain-gzip']), createGunzip(), createWriteStream(files.plain));
    // The engine never writes tar, but restores tar files made by pg_dump -Ft.
    execFileSync(custom.prepared.tools.pgDump, ['-Ft', '-f', files.tar], {
      env: { ...process.env, ...parsePgUrl(source.url).env },
    });
  });

  afterAll(async () => {
    await source?.drop();
    await work?.remove();
  });

  it('reports monotone progress that ends at exactly 100', async () => {
    const { snapshots } = await backupTo(source.url, path.join(work.dir, 'progress.dump'), 'custom');
    const percents = snapshots.map((s) => s.percent);
    expect(percents.length).toBeGreaterThan(1);
    expect(percents.at(-1)).toBe(100);
    expect(percents.slice(0, -1).every((p) => p < 100)).toBe(true);
    expect(percents.every((p, i) => i === 0 || p >= percents[i - 1]!)).toBe(true);
  });

  for (const kind of ['custom', 'custom-zstd', 'tar', 'plain', 'plain-gzip'] as const) {
    it(`restores a ${kind} backup over a changed copy, exactly`, async () => {
      const target = await createTestDatabase(adminUrl, `rt_${kind.replace('-', '_')}`, { owner: source });
      try {
        await loadFeatureRichSchema(target.url);
        await mutateFeatureRichDatabase(target.url);
        expect(diffFingerprints(original, await fingerprint(target.url))).not.toEqual([]);
        const summary = await restoreFrom(target.url, files[kind]!);
        expect(`${summary.format}${summary.codec === 'zstd' ? '-zstd' : ''}`).toBe(kind);
        expect(diffFingerprints(original, await fingerprint(target.url))).toEqual([]);
      } finally {
        await target.drop();
      }
    });
  }

  it('rolls back before COMMIT when the content is not what was dumped', async () => {
    const target = await createTestDatabase(adminUrl, 'rt_digest', { owner: source });
    try {
      await loadFeatureRichSchema(target.url);
      await mutateFeatureRichDatabase(target.url);
      const before = await fingerprint(target.url);
      const failed = restoreFrom(target.url, files['custom-zstd']!, {}, { contentSha256: '0'.repeat(64) });
      await expect(failed).rejects.toMatchObject({ code: 'backup/checksum-mismatch', details: { digest: 'content' } });
      expect(diffFingerprints(before, await fingerprint(target.url))).toEqual([]);
    } finally {
      await target.drop();
    }
  });

  it('restores into an empty database too', async () => {
    const target = await createTestDatabase(adminUrl, 'rt_empty', { owner: source });
    try {
      await restoreFrom(target.url, files.custom!);
      expect(diffFingerprints(original, await fingerprint(target.url))).toEqual([]);
    } finally {
      await target.drop();
    }
  });
});
