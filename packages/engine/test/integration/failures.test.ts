import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { gunzipSync, gzipSync, zstdCompressSync } from 'node:zlib';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type TestDatabase,
  createTestDatabase,
  diffFingerprints,
  fingerprint,
  loadFeatureRichSchema,
  withSql,
} from '@pgbs/test-support';
import {
  CodedError,
  EngineError,
  createToolResolver,
  encryptTransform,
  generateAgeIdentity,
  fileSource,
  inspectArchive,
  nodeProcessRunner,
  parsePgUrl,
  systemClock,
} from '../../src/index.js';
import { backupTo, resolver, restoreFrom, tempDir } from './harness.js';

const adminUrl = inject('pgAdminUrl');
const DUMP_TRAILER = '--\n-- PostgreSQL database dump complete\n--\n';

async function expectCode(promise: Promise<unknown>, code: string): Promise<EngineError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(EngineError);
  expect((error as EngineError).code, (error as Error).message).toBe(code);
  return error as EngineError;
}

/** The highest RSS growth over the baseline, sampled until stop(). */
function rssPeak(): { stop(): number } {
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  return {
    stop() {
      clearInterval(sampler);
      return peak - baseline;
    },
  };
}

describe('restores that must change nothing', () => {
  let target: TestDatabase;
  let work: Awaited<ReturnType<typeof tempDir>>;

  beforeAll(async () => {
    work = await tempDir();
    target = await createTestDatabase(adminUrl, 'fail_target');
    await loadFeatureRichSchema(target.url);
  });
  afterAll(async () => {
    await target?.drop();
    await work?.remove();
  });

  it.each(['custom', 'plain'] as const)(
    '%s: rolls back a restore that fails on a missing role, and succeeds with no-owner and no-privileges',
    async (format) => {
      const role = `ghost_${randomBytes(4).toString('hex')}`;
      const source = await createTestDatabase(adminUrl, 'fail_roles', { owner: target });
      const file = path.join(work.dir, format === 'custom' ? 'roles.dump' : 'roles.sql.gz');
      try {
        await withSql(source.url, (sql) =>
          sql.unsafe(`
          CREATE TABLE public.first_table AS SELECT g AS id FROM generate_series(1, 1000) g;
          CREATE SCHEMA zzz_last;
          CREATE TABLE zzz_last.owned_by_ghost (id int);`),
        );
        // Another role of the application, which the target server lacks.
        await withSql(source.adminUrl, (sql) =>
          sql.unsafe(
            `CREATE ROLE ${role}; ALTER TABLE zzz_last.owned_by_ghost OWNER TO ${role}; GRANT SELECT ON public.first_table TO ${role};`,
          ),
        );
        // The owner may not read the other role's table: a superuser's backup holds it.
        await backupTo(source.adminUrl, file, format);
        await withSql(source.adminUrl, (sql) =>
          sql.unsafe(
            `DROP TABLE zzz_last.owned_by_ghost; REVOKE SELECT ON public.first_table FROM ${role}; DROP ROLE ${role};`,
          ),
        );

        const before = await fingerprint(target.url);
        const error = await expectCode(restoreFrom(target.url, file), 'restore/missing-role');
        expect(error.message).toContain(role);
        expect(error.message).toMatch(/no-owner/);
        expect(error.message).toContain('owned_by_ghost');
        expect(diffFingerprints(before, await fingerprint(target.url))).toEqual([]);

        // Plain SQL has no pg_restore in between: the guard leaves the same statements out.
        await restoreFrom(target.url, file, { noOwner: true, noPrivileges: true });
        const tables = await withSql(target.url, (sql) => sql`SELECT count(*)::int AS n FROM public.first_table`);
        expect(tables[0]!.n).toBe(1000);
        await loadFeatureRichSchemaAfterReset(target);
      } finally {
        await source.drop();
      }
    },
  );

  it('refuses plain SQL with psql meta-commands before running anything', async () => {
    const marker = path.join(work.dir, `pwned-${randomBytes(4).toString('hex')}`);
    const file = path.join(work.dir, 'evil.sql');
    await writeFile(file, `CREATE TABLE public.evil (id int);\n\\! touch ${marker}\n`);
    const before = await fingerprint(target.url);
    await expectCode(restoreFrom(target.url, file), 'restore/unsafe-sql');
    expect(existsSync(marker)).toBe(false);
    expect(diffFingerprints(before, await fingerprint(target.url))).toEqual([]);
  });

  it('stops a restore whose zstd content grows past the cap (a bomb) and changes nothing', async () => {
    // 8 MiB of COPY rows, a few KiB stored; the restore may decode at most 1 MiB of it.
    const file = path.join(work.dir, 'bomb.sql.zst');
    const rows = 'x\n'.repeat(4 * 1024 * 1024);
    const sql = `--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE public.bomb (x text);\nCOPY public.bomb (x) FROM stdin;\n${rows}\\.\n${DUMP_TRAILER}`;
    await writeFile(file, zstdCompressSync(Buffer.from(sql)));
    const before = await fingerprint(target.url);
    const restoring = restoreFrom(target.url, file, {}, { expansionLimit: { ratio: 1, floorBytes: 1024 * 1024 } });
    await expectCode(restoring, 'archive/expansion-too-large');
    expect(diffFingerprints(before, await fingerprint(target.url))).toEqual([]);
    // The same file within the default cap restores: the cap, not the file, stopped it.
    const restored = await createTestDatabase(adminUrl, 'fail_bomb_ok', { owner: target });
    try {
      await restoreFrom(restored.url, file);
      const counted = await withSql(restored.url, (db) => db<{ count: string }[]>`SELECT count(*) FROM public.bomb`);
      expect(Number(counted[0]!.count)).toBe(4 * 1024 * 1024);
    } finally {
      await restored.drop();
    }
  });

  it('stops a custom archive whose own gzip (pg_dump -Z9) grows past the cap, at inspection and at restore', async () => {
    // 32 MiB of one repeated byte, compressed by pg_dump itself: a few dozen KiB at rest, which no
    // outer codec sees. With a 1 MiB cap, pg_restore's script crosses it early.
    const file = path.join(work.dir, 'inner-bomb.dump');
    const source = await createTestDatabase(adminUrl, 'fail_inner_bomb', { owner: target });
    try {
      await withSql(source.url, (sql) =>
        sql.unsafe(`CREATE TABLE public.bomb AS SELECT repeat('a', 8192) AS x FROM generate_series(1, 4096);`),
      );
      await backupTo(source.url, file, 'custom', { codec: 'gzip', compressionLevel: 9 });
    } finally {
      await source.drop();
    }
    const stored = (await stat(file)).size;
    expect(stored).toBeLessThan(512 * 1024);
    const lowered = { ratio: 10, floorBytes: 1024 * 1024 };
    const { tools } = await resolver.prepare(parsePgUrl(target.url));
    const rss = rssPeak();
    await expectCode(
      inspectArchive({
        runner: nodeProcessRunner,
        tools,
        source: { ...(await fileSource(file)), expansionLimit: lowered },
        signal: new AbortController().signal,
      }),
      'archive/expansion-too-large',
    );
    // A backup the service trusts is not inspected again: the restore's own stream is capped too.
    const before = await fingerprint(target.url);
    await expectCode(restoreFrom(target.url, file, {}, { expansionLimit: lowered }), 'archive/expansion-too-large');
    expect(diffFingerprints(before, await fingerprint(target.url))).toEqual([]);
    // Neither read held the script: pg_restore's output went by in chunks.
    expect(rss.stop()).toBeLessThan(100 * 1024 * 1024);
    // Within the default cap the same archive restores: the cap, not the file, stopped it.
    const restored = await createTestDatabase(adminUrl, 'fail_inner_bomb_ok', { owner: target });
    try {
      await restoreFrom(restored.url, file);
      const counted = await withSql(restored.url, (db) => db<{ count: string }[]>`SELECT count(*) FROM public.bomb`);
      expect(Number(counted[0]!.count)).toBe(4096);
    } finally {
      await restored.drop();
    }
  });

  it('never commits half-way, even when the script says COMMIT', async () => {
    const file = path.join(work.dir, 'commit.sql');
    await writeFile(file, 'CREATE TABLE public.half (id int);\nCOMMIT;\nSELECT 1/0;\n');
    const before = await fingerprint(target.url);
    const error = await restoreFrom(target.url, file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(diffFingerprints(before, await fingerprint(target.url))).toEqual([]);
  });

  it('rolls back when a statement fails and names it', async () => {
    const file = path.join(work.dir, 'failing.sql');
    await writeFile(
      file,
      `CREATE TABLE public.partial_table (id int);\nINSERT INTO public.partial_table VALUES (1);\nSELECT no_such_function();\n${DUMP_TRAILER}`,
    );
    const before = await fingerprint(target.url);
    const error = await expectCode(restoreFrom(target.url, file), 'restore/failed');
    expect(error.message).toContain('no_such_function');
    expect(diffFingerprints(before, await fingerprint(target.url))).toEqual([]);
  });

  it('refuses plain SQL cut at a line boundary (valid SQL, but not a whole dump) and changes nothing', async () => {
    const source = await createTestDatabase(adminUrl, 'fail_cut', { owner: target });
    try {
      await loadFeatureRichSchema(source.url);
      const whole = path.join(work.dir, 'whole.sql.gz');
      await backupTo(source.url, whole, 'plain');
      const text = gunzipSync(await readFile(whole));
      const cut = path.join(work.dir, 'cut.sql');
      // At a statement boundary past the middle: what is left parses, it is just not the whole dump.
      await writeFile(cut, text.subarray(0, text.indexOf('\n--\n-- ', Math.floor(text.length / 2)) + 1));
      const before = await fingerprint(target.url);
      await expectCode(restoreFrom(target.url, cut), 'archive/truncated');
      expect(diffFingerprints(before, await fingerprint(target.url))).toEqual([]);
    } finally {
      await source.drop();
    }
  });

  async function loadFeatureRichSchemaAfterReset(db: TestDatabase) {
    // The no-owner restore replaced the fixture; put it back for the following tests.
    await withSql(db.url, (sql) =>
      sql.unsafe('DROP SCHEMA IF EXISTS zzz_last CASCADE; DROP TABLE public.first_table;'),
    );
    await loadFeatureRichSchema(db.url);
  }
});

describe('files that are not valid backups', () => {
  let work: Awaited<ReturnType<typeof tempDir>>;
  let source: TestDatabase;
  let good: string;
  let goodGz: string;

  beforeAll(async () => {
    work = await tempDir();
    source = await createTestDatabase(adminUrl, 'bad_files');
    await withSql(source.url, (sql) =>
      sql.unsafe(`CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 50000) g;`),
    );
    good = path.join(work.dir, 'good.dump');
    goodGz = path.join(work.dir, 'good.sql.gz');
    await backupTo(source.url, good, 'custom');
    await backupTo(source.url, goodGz, 'plain');
  });
  afterAll(async () => {
    await source?.drop();
    await work?.remove();
  });

  const inspect = async (file: string) => {
    const { tools } = await resolver.prepare(parsePgUrl(source.url));
    return inspectArchive({
      runner: nodeProcessRunner,
      tools,
      source: await fileSource(file),
      signal: new AbortController().signal,
    });
  };

  it('accepts and summarises a good archive', async () => {
    const summary = await inspect(good);
    expect(summary.format).toBe('custom');
    expect(summary.tables).toEqual(['public.t']);
    expect(summary.sourceServerVersion).toMatch(/^15\./);
    expect(summary.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a truncated custom archive', async () => {
    const file = path.join(work.dir, 'truncated.dump');
    await writeFile(file, await readFile(good));
    await truncate(file, Math.floor((await stat(file)).size / 2));
    await expectCode(inspect(file), 'archive/truncated');
  });

  it('refuses an archive made by a newer pg_dump than the local pg_restore reads', async () => {
    const bytes = await readFile(good);
    // Header: "PGDMP", then the archive version's major, minor and revision bytes (1.14.0 for 15).
    expect(bytes.subarray(0, 5).toString()).toBe('PGDMP');
    bytes[6] = 99;
    const file = path.join(work.dir, 'future.dump');
    await writeFile(file, bytes);
    const error = await expectCode(inspect(file), 'archive/too-new');
    expect(error.message).toContain('1.99');
  });

  it('refuses a truncated tar archive at once (pg_restore 15 would spin on it forever)', async () => {
    const tar = path.join(work.dir, 'good.tar');
    const { tools } = await resolver.prepare(parsePgUrl(source.url));
    execFileSync(tools.pgDump, ['-Ft', '-f', tar], { env: { ...process.env, ...parsePgUrl(source.url).env } });
    const file = path.join(work.dir, 'truncated.tar');
    await writeFile(file, (await readFile(tar)).subarray(0, 10_000));
    const started = Date.now();
    await expectCode(inspect(file), 'archive/truncated');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await inspect(tar)).format).toBe('tar');
  });

  it('refuses a corrupted custom archive', async () => {
    const bytes = await readFile(good);
    for (let i = Math.floor(bytes.length / 2); i < Math.floor(bytes.length / 2) + 64; i++) bytes[i] = bytes[i]! ^ 0xff;
    const file = path.join(work.dir, 'corrupt.dump');
    await writeFile(file, bytes);
    const error = await inspect(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect(['archive/corrupt', 'archive/truncated']).toContain((error as EngineError).code);
  });

  it("a read that fails midway (a bucket's connection reset) is the storage's error, encrypted or not, never archive/corrupt", async () => {
    const { tools } = await resolver.prepare(parsePgUrl(source.url));
    const { identity, recipient } = await generateAgeIdentity();
    const clear = await readFile(good);
    const sealed: Buffer[] = [];
    for await (const chunk of Readable.from([clear]).pipe(await encryptTransform({ recipients: [recipient] })))
      sealed.push(chunk as Buffer);
    // Read ahead 16 chunks (past the cut before the age header is opened: the tool's stdin must
    // still be closed, or it waits forever) or one (the read fails in the payload).
    for (const [bytes, identities, highWaterMark] of [
      [clear, [], 1],
      [clear, [], 16],
      [Buffer.concat(sealed), [identity], 1],
      [Buffer.concat(sealed), [identity], 16],
    ] as const) {
      const unreachable = new CodedError('destination/unreachable', 's3://bucket/p cannot be reached (ECONNRESET).');
      const cut = Math.floor(bytes.length / 2);
      async function* cutMidway() {
        for (let at = 0; at < cut; at += 65_536) yield bytes.subarray(at, Math.min(cut, at + 65_536));
        throw unreachable;
      }
      const inspecting = inspectArchive({
        runner: nodeProcessRunner,
        tools,
        source: {
          sizeBytes: bytes.length,
          identities,
          open: async () => Readable.from(cutMidway(), { highWaterMark }),
        },
        signal: new AbortController().signal,
      });
      const label = `${identities.length > 0 ? 'encrypted' : 'clear'}, read-ahead ${highWaterMark}`;
      await expect(inspecting, label).rejects.toBe(unreachable);
    }
  });

  it('refuses a truncated and a corrupt gzip file', async () => {
    const truncated = path.join(work.dir, 'truncated.sql.gz');
    const bytes = await readFile(goodGz);
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expectCode(inspect(truncated), 'archive/truncated');
    const corrupt = path.join(work.dir, 'corrupt.sql.gz');
    const flipped = Buffer.from(bytes);
    for (let i = 100; i < 200; i++) flipped[i] = flipped[i]! ^ 0x5a;
    await writeFile(corrupt, flipped);
    await expectCode(inspect(corrupt), 'archive/corrupt');
  });

  it('refuses a zstd file whose window exceeds the cap (a decompression bomb), and a truncated one', async () => {
    // A 2 GiB window: from a pipe, zstd cannot shrink the window to the input's size.
    const bomb = path.join(work.dir, 'bomb.dump.zst');
    await writeFile(
      bomb,
      execFileSync('zstd', ['--long=31', '-q', '-c'], { input: await readFile(good), maxBuffer: 1 << 30 }),
    );
    const error = await expectCode(inspect(bomb), 'archive/window-too-large');
    expect(error.message).toContain('128 MiB');
    const zst = path.join(work.dir, 'good.dump.zst');
    await writeFile(zst, zstdCompressSync(await readFile(good)));
    expect(await inspect(zst)).toMatchObject({ format: 'custom', codec: 'zstd', tables: ['public.t'] });
    const cut = path.join(work.dir, 'cut.dump.zst');
    const whole = await readFile(zst);
    await writeFile(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const truncated = await inspect(cut).catch((e: unknown) => e);
    expect(['archive/truncated', 'archive/corrupt']).toContain((truncated as EngineError).code);
  });

  it('refuses random bytes, an empty file and a gzipped binary', async () => {
    const random = path.join(work.dir, 'random.dump');
    await writeFile(random, randomBytes(10_000));
    await expectCode(inspect(random), 'archive/unknown-format');
    const empty = path.join(work.dir, 'empty.sql');
    await writeFile(empty, '');
    await expectCode(inspect(empty), 'archive/empty');
    const gzBinary = path.join(work.dir, 'binary.sql.gz');
    await writeFile(gzBinary, gzipSync(randomBytes(1000)));
    await expectCode(inspect(gzBinary), 'archive/unknown-format');
  });
});

describe('tool versions', () => {
  it('reports a client older than the server before any work starts', async () => {
    const work = await tempDir();
    try {
      const bin = path.join(work.dir, 'bin');
      await mkdir(bin);
      for (const tool of ['pg_dump', 'pg_restore', 'psql']) {
        const script = path.join(bin, tool);
        await writeFile(script, `#!/bin/sh\necho "${tool} (PostgreSQL) 12.3"\n`);
        await chmod(script, 0o755);
      }
      const old = createToolResolver({ runner: nodeProcessRunner, clock: systemClock, pgBinDir: bin });
      const server = createToolResolver({ runner: nodeProcessRunner, clock: systemClock });
      // The catalog query needs a real psql: use the machine's, then select from the old directory.
      const target = parsePgUrl(adminUrl);
      const { serverVersion } = await server.prepare(target);
      const error = await expectCode(old.selectTools(serverVersion), 'pg/version-mismatch');
      expect(error.message).toContain('12.3');
      expect(error.message).toContain(serverVersion.text);
    } finally {
      await work.remove();
    }
  });
});

describe('cancel', () => {
  it('cancels a restore mid-way and leaves the database as it was', async () => {
    const work = await tempDir();
    const source = await createTestDatabase(adminUrl, 'cancel_src');
    const target = await createTestDatabase(adminUrl, 'cancel_dst', { owner: source });
    try {
      await withSql(source.url, (sql) =>
        sql.unsafe(`CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 8) AS v FROM generate_series(1, 400000) g;
                    CREATE INDEX big_v ON big (v);`),
      );
      await loadFeatureRichSchema(target.url);
      const file = path.join(work.dir, 'big.dump');
      await backupTo(source.url, file, 'custom');
      const before = await fingerprint(target.url);
      const controller = new AbortController();
      const restoring = restoreFrom(
        target.url,
        file,
        {},
        {
          signal: controller.signal,
          onProgress: (s) => {
            if (s.percent > 0 && !controller.signal.aborted) controller.abort();
          },
        },
      );
      await expectCode(restoring, 'job/cancelled');
      expect(diffFingerprints(before, await fingerprint(target.url))).toEqual([]);
    } finally {
      await source.drop();
      await target.drop();
      await work.remove();
    }
  });
});
