import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { diffFingerprints, dumpInEveryFormat, fingerprint, loadFeatureRichSchema } from '@pgbs/test-support';
import { CSRF_HEADER } from '../../src/http/yoga.js';
import { type ApiEnv, multipart, startApi } from '../integration/api-harness.js';

const adminUrl = inject('pgAdminUrl');
const MAX_UPLOAD_BYTES = 4 * 1024 * 1024;

const UPLOAD_BACKUP = `mutation($file: File!) { uploadBackup(file: $file) {
  __typename ... on MutationUploadBackupSuccess { data { id format } } ... on CodedError { code message } } }`;
const RESTORE_FROM_UPLOAD = `mutation($file: File!, $confirmation: String!) {
  restoreFromUpload(file: $file, confirmation: $confirmation, options: { safetySnapshot: false }) {
  __typename ... on MutationRestoreFromUploadSuccess { data { id } } ... on CodedError { code message } } }`;

interface Payload {
  __typename: string;
  code?: string;
  message?: string;
  data?: { id: string; format?: string };
}

/** Deterministic pseudo-random bytes (mulberry32), so a failing case can be reproduced. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (max: number) => Math.floor(next() * max),
    bytes: (length: number) => Buffer.from(Array.from({ length }, () => Math.floor(next() * 256))),
  };
}

describe('hostile uploads through the real HTTP endpoint', () => {
  let api: ApiEnv;
  let workDir: string;
  let uploadDir: string;
  const dumps = new Map<string, Buffer>();

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'pgbs-fuzz-'));
    api = await startApi(adminUrl, 'ffuzz', {
      UPLOAD_TEMP_DIR: path.join(workDir, 'spool'),
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      RATE_LIMIT_UPLOADS_PER_HOUR: '1000',
    });
    // This instance's own spool directory, inside UPLOAD_TEMP_DIR.
    uploadDir = api.app.uploadSpoolDir;
    await loadFeatureRichSchema(api.env.target.url);
    for (const [name, bytes] of await dumpInEveryFormat(api.env.target.url, workDir, 'db')) dumps.set(name, bytes);
  });
  afterAll(async () => {
    await api?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const post = async (query: string, variables: Record<string, unknown>, file: Uint8Array | Blob, name: string) => {
    const response = await fetch(`${api.http.url}/graphql`, {
      method: 'POST',
      body: multipart(query, variables, file, name),
      headers: { [CSRF_HEADER]: '1', cookie: api.adminCookie },
      signal: AbortSignal.timeout(20_000),
    });
    const body = (await response.json()) as {
      data?: Record<string, Payload>;
      errors?: { extensions?: { code?: string } }[];
    };
    return { status: response.status, body };
  };

  /** The server answers, and nothing is left in the spool once jobs have ended. */
  async function expectHealthy() {
    const alive = await api.gql<{ me: { email: string } }>('{ me { email } }', {}, { cookie: api.adminCookie });
    expect(alive.data?.me.email).toBeDefined();
    const deadline = Date.now() + 5000;
    while ((await readdir(uploadDir).catch(() => [])).length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 25));
    expect(await readdir(uploadDir).catch(() => [])).toEqual([]);
  }

  it('a gzip bomb (KB of gzip, GB of SQL) is streamed through validation and refused past the expansion cap: flat memory, nothing stored', async () => {
    // 1 GiB of SQL comment lines gzips to about 1 MB at level 9: under MAX_UPLOAD_BYTES (which
    // counts the bytes sent), so the size limit does not apply and validation must stream it.
    const bomb = path.join(workDir, 'bomb.sql.gz');
    const line = Buffer.from(`--${'A'.repeat(1021)}\n`);
    const block = Buffer.concat(Array.from({ length: 1024 }, () => line)); // 1 MiB
    async function* inflated() {
      for (let i = 0; i < 1024; i++) yield block;
      // A complete dump ends with pg_dump's trailer; without it the file is refused as truncated.
      yield Buffer.from('--\n-- PostgreSQL database dump complete\n--\n\n');
    }
    await pipeline(Readable.from(inflated()), createGzip({ level: 9 }), createWriteStream(bomb));
    const compressed = (await stat(bomb)).size;
    expect(compressed).toBeLessThan(MAX_UPLOAD_BYTES);

    const filesBefore = (await readdir(api.app.config.backupDir)).sort();
    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const started = Date.now();
    const { body } = await post(UPLOAD_BACKUP, {}, await openAsBlob(bomb), 'bomb.sql.gz');
    clearInterval(sampler);
    const result = body.data?.uploadBackup;
    // Valid (if silly) SQL, but over 1,000 times its stored size: past MAX_EXPANSION_RATIO's 1 GiB
    // floor, refused as a bomb, and nothing of it is stored.
    expect(result, JSON.stringify(body)).toMatchObject({ code: 'archive/expansion-too-large' });
    expect((await readdir(api.app.config.backupDir)).sort()).toEqual(filesBefore);
    // The server (in this process) inflated up to 1 GiB without holding it.
    expect(peak - baseline).toBeLessThan(200 * 1024 * 1024);
    console.info(
      `gzip bomb: ${compressed} B -> 1 GiB, refused in ${Date.now() - started} ms, ` +
        `RSS growth ${Math.round((peak - baseline) / 1024 / 1024)} MB`,
    );
    await expectHealthy();
  });

  // Found by this fuzzer (seed 0x5eed): pg_restore 15 spins forever on a tar cut inside a member
  // (restoreFromUpload got no answer). The engine now checks the tar structure first.
  it('a truncated tar archive is refused quickly with a coded error', async () => {
    const cut = dumps.get('db.tar')!.subarray(0, 116424);
    const started = Date.now();
    const { body } = await post(RESTORE_FROM_UPLOAD, { confirmation: api.env.target.name }, cut, 'db.tar');
    expect(body.data?.restoreFromUpload).toMatchObject({ code: 'archive/truncated' });
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectHealthy();
  });
  // Also found here: plain SQL truncated at a line boundary is still valid SQL, and used to replace
  // the database with what was left. pg_dump's "dump complete" trailer is now required.
  it('a plain .sql from pg_dump cut at a line boundary is refused, and the database is unchanged', async () => {
    const before = await fingerprint(api.env.target.url);
    const whole = dumps.get('db.sql')!;
    for (const fraction of [0.05, 0.5, 0.95]) {
      const cut = whole.lastIndexOf(0x0a, Math.floor(whole.length * fraction)) + 1;
      const truncated = whole.subarray(0, cut);
      const { body } = await post(RESTORE_FROM_UPLOAD, { confirmation: api.env.target.name }, truncated, 'db.sql');
      // Cut inside COPY data or a string, the SQL guard refuses the unfinished statement first.
      const code = body.data?.restoreFromUpload?.code;
      expect(['archive/truncated', 'restore/unsafe-sql'], `cut at ${cut}: ${JSON.stringify(body)}`).toContain(code);
    }
    expect(diffFingerprints(before, await fingerprint(api.env.target.url))).toEqual([]);
    await expectHealthy();
  });

  it('~30 fuzzed files: never a crash, always a coded error, the database never changes', async () => {
    const before = await fingerprint(api.env.target.url);
    const random = prng(0x5eed);
    const real = [...dumps.entries()];
    const names = ['x.dump', 'x.sql', 'x.sql.gz', 'x.tar', 'x.bin', 'x'];
    const cases: { label: string; bytes: Buffer; name: string }[] = [];
    for (let i = 0; i < 6; i++)
      cases.push({ label: 'random bytes', bytes: random.bytes(1 + random.int(20_000)), name: names[i]! });
    for (let i = 0; i < 12; i++) {
      const [source, bytes] = real[i % real.length]!;
      const cut = 1 + random.int(bytes.length - 2);
      cases.push({ label: `${source} truncated at ${cut}`, bytes: bytes.subarray(0, cut), name: source });
    }
    for (let i = 0; i < 6; i++) {
      const [source, bytes] = real[i % real.length]!;
      const copy = Buffer.from(bytes);
      for (let j = 0; j < 8; j++) copy[64 + random.int(copy.length - 64)] = random.int(256);
      cases.push({ label: `${source} with flipped bytes`, bytes: copy, name: source });
    }
    cases.push({ label: 'empty', bytes: Buffer.alloc(0), name: 'empty.dump' });
    cases.push({
      label: 'PGDMP magic then noise',
      bytes: Buffer.concat([Buffer.from('PGDMP'), random.bytes(4096)]),
      name: 'a.dump',
    });
    cases.push({
      label: 'gzip header then noise',
      bytes: Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), random.bytes(4096)]),
      name: 'a.sql.gz',
    });
    cases.push({ label: 'gzipped random bytes', bytes: gzipSync(random.bytes(4096)), name: 'a.sql.gz' });
    cases.push({
      label: 'tar header of noise',
      bytes: Buffer.concat([random.bytes(257), Buffer.from('ustar\0'), random.bytes(2000)]),
      name: 'a.tar',
    });
    cases.push({ label: 'a .dump named .sql.gz', bytes: dumps.get('db.dump')!, name: 'mislabelled.sql.gz' });
    cases.push({ label: 'NUL bytes as SQL', bytes: Buffer.alloc(4096), name: 'nul.sql' });

    const codes = new Map<string, number>();
    for (const [index, { label, bytes, name }] of cases.entries()) {
      // Alternate the two upload mutations: uploadBackup validates and stores; restoreFromUpload
      // validates and would restore (a case that passed validation restores an intact dump of
      // this same database, which leaves the fingerprint unchanged as well).
      const restore = index % 2 === 1;
      const { status, body } = await (
        restore
          ? post(RESTORE_FROM_UPLOAD, { confirmation: api.env.target.name }, bytes, name)
          : post(UPLOAD_BACKUP, {}, bytes, name)
      ).catch((error: unknown) => {
        throw new Error(`no answer for ${label} (${name}, ${restore ? 'restore' : 'upload'})`, { cause: error });
      });
      const payload = body.data?.[restore ? 'restoreFromUpload' : 'uploadBackup'];
      const code = payload?.code ?? body.errors?.[0]?.extensions?.code;
      if (payload?.__typename === 'CodedError' || body.errors) {
        expect(code, `${label} (${name}): ${JSON.stringify(body)}`).toMatch(/^[a-z]+\/[a-z-]+$/);
        expect(status, label).toBeLessThan(500);
        codes.set(code!, (codes.get(code!) ?? 0) + 1);
      } else if (restore) {
        // Valid after all (for instance a dump under the wrong extension): let the job end.
        const job = await api.app.jobs.get(payload!.data!.id);
        let finished = job;
        while (finished.state === 'queued' || finished.state === 'running') {
          await new Promise((r) => setTimeout(r, 50));
          finished = await api.app.jobs.get(job.id);
        }
        codes.set(`restored:${finished.state}`, (codes.get(`restored:${finished.state}`) ?? 0) + 1);
      } else {
        codes.set('accepted', (codes.get('accepted') ?? 0) + 1);
      }
      expect(diffFingerprints(before, await fingerprint(api.env.target.url)), label).toEqual([]);
    }
    console.info(`fuzzed uploads (${cases.length}): ${JSON.stringify(Object.fromEntries(codes))}`);
    expect(cases.length).toBeGreaterThanOrEqual(30);
    await expectHealthy();
  });
});
