import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { expect, inject, it } from 'vitest';
import { createTestDatabase, withSql } from '@pgbs/test-support';
import type { ProgressSnapshot } from '../../src/index.js';
import { backupTo, restoreFrom, tempDir } from './harness.js';

const adminUrl = inject('pgAdminUrl');

it('moves the bar inside one big table, for backups and restores, and ends at 100', async () => {
  const work = await tempDir();
  const source = await createTestDatabase(adminUrl, 'progress');
  try {
    await withSql(source.url, (sql) =>
      sql.unsafe(`CREATE TABLE small AS SELECT 1 AS x;
                  CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 8) AS v FROM generate_series(1, 600000) g;`),
    );
    const file = path.join(work.dir, 'big.dump');
    const { snapshots, tables } = await backupTo(source.url, file, 'custom');
    const inBig = snapshots.filter((s) => s.currentTable === 'public.big').map((s) => s.percent);
    // pg_dump prints one line for the table; only the server's COPY progress moves the bar inside it.
    expect(new Set(inBig).size, `percents while dumping big: ${inBig.join(', ')}`).toBeGreaterThan(1);
    expect(snapshots.at(-1)).toMatchObject({ phase: 'done', percent: 100 });

    const snapshotsRestoring: ProgressSnapshot[] = [];
    await restoreFrom(source.url, file, {}, { tables, onProgress: (s) => snapshotsRestoring.push(s) });
    const restored = snapshotsRestoring.map((s) => s.percent);
    const restoringBig = snapshotsRestoring.filter((s) => s.currentTable === 'public.big').map((s) => s.percent);
    // The restore creates the table in its own transaction, so the server can't name the COPY's
    // table to another session: the poller attributes it to the table psql's echo names.
    expect(new Set(restoringBig).size, `percents while restoring big: ${restoringBig.join(', ')}`).toBeGreaterThan(1);
    expect(restored.at(-1)).toBe(100);
    expect(restored.every((p, i) => i === 0 || p >= restored[i - 1]!)).toBe(true);
    expect(restored.some((p) => p > 0 && p < 100)).toBe(true);
  } finally {
    await source.drop();
    await work.remove();
  }
});

it.each(['plain', 'plain-gzip'] as const)(
  'moves a %s file from outside (no table sizes) evenly: no jump over 20 points',
  async (format) => {
    const work = await tempDir();
    const source = await createTestDatabase(adminUrl, 'progress_plain');
    try {
      await withSql(source.url, (sql) =>
        sql.unsafe(`CREATE TABLE tiny AS SELECT 1 AS x;
                    CREATE TABLE medium AS SELECT g AS id FROM generate_series(1, 50000) g;
                    CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 8) AS v FROM generate_series(1, 400000) g;
                    CREATE INDEX big_v ON big (v);`),
      );
      const gz = path.join(work.dir, 'outside.sql.gz');
      await backupTo(source.url, gz, 'plain');
      const file = format === 'plain' ? path.join(work.dir, 'outside.sql') : gz;
      if (format === 'plain') await pipeline(createReadStream(gz), createGunzip(), createWriteStream(file));
      const seen: ProgressSnapshot[] = [];
      // No `tables`: a foreign file, as an upload or `restore <file>` gives it.
      await restoreFrom(source.url, file, {}, { onProgress: (s) => seen.push(s) });
      const percents = seen.map((s) => s.percent);
      const jumps = percents.slice(1).map((p, i) => p - percents[i]!);
      expect(percents.at(-1)).toBe(100);
      expect(percents.filter((p) => p > 0 && p < 100).length).toBeGreaterThan(5);
      // Snapshots go out at most ten a second, so a loaded machine (the whole suite on 2 cores) sees
      // a little more between two (up to 14 points seen with six jobs running); counting 4 MB ahead
      // of psql, as before, made jumps of 30 points.
      expect(Math.max(...jumps), `percents: ${percents.join(', ')}`).toBeLessThanOrEqual(20);
    } finally {
      await source.drop();
      await work.remove();
    }
  },
);
