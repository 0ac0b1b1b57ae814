import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { dumpInEveryFormat, withSql } from '@pgbs/test-support';
import { CSRF_HEADER } from '../../src/http/yoga.js';
import { uploadWithCurl } from '../../scripts/service-process.js';
import { type ApiEnv, multipart, startApi } from './api-harness.js';

const adminUrl = inject('pgAdminUrl');
// Async on purpose: the server runs in this process, so a blocking child would deadlock it.
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const UPLOAD_BACKUP = `mutation($file: File!, $description: String) {
  uploadBackup(file: $file, description: $description) {
    __typename
    ... on MutationUploadBackupSuccess { data { id fileName format origin sizeBytes sha256 description } }
    ... on CodedError { code message }
  } }`;
const RESTORE_FROM_UPLOAD = `mutation($file: File!, $confirmation: String!, $options: RestoreOptions) {
  restoreFromUpload(file: $file, confirmation: $confirmation, options: $options) {
    __typename
    ... on MutationRestoreFromUploadSuccess { data { id state } }
    ... on CodedError { code message }
  } }`;

/** A mutation's result: its success type (data) or a CodedError. */
interface Payload {
  __typename: string;
  code?: string;
  message?: string;
  data?: { id: string; fileName?: string };
}

interface GqlResponse {
  data?: Record<string, Payload>;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const BOUNDARY = 'pgbs-test-boundary';

/**
 * A hand-made multipart body whose file part streams `fileBytes` bytes of SQL comment (forever by
 * default), counting what the client has handed to fetch so far.
 */
function streamedUpload(options: { fileBytes?: number; chunkDelayMs?: number } = {}) {
  const { fileBytes = Infinity, chunkDelayMs = 0 } = options;
  const encode = (text: string) => new TextEncoder().encode(text);
  const part = (name: string, extra = '') => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"${extra}`;
  const head = encode(
    `${part('operations')}\r\n\r\n${JSON.stringify({ query: UPLOAD_BACKUP, variables: { file: null } })}\r\n` +
      `${part('map')}\r\n\r\n{"0":["variables.file"]}\r\n` +
      `${part('0', '; filename="streamed.sql"')}\r\nContent-Type: application/sql\r\n\r\n`,
  );
  const chunk = encode(`${'-'.repeat(1023)}\n`.repeat(64));
  // A finite file ends with pg_dump's trailer, so it is a complete (if silly) dump.
  const trailer = encode('--\n-- PostgreSQL database dump complete\n--\n');
  const fillerBytes = fileBytes - trailer.length;
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => controller.enqueue(head),
    async pull(controller) {
      if (sent >= fillerBytes) {
        controller.enqueue(trailer);
        controller.enqueue(encode(`\r\n--${BOUNDARY}--\r\n`));
        controller.close();
        return;
      }
      if (chunkDelayMs) await sleep(chunkDelayMs);
      const piece = chunk.subarray(0, Math.min(chunk.length, fillerBytes - sent));
      sent += piece.length;
      controller.enqueue(piece);
    },
  });
  return { body, contentType: `multipart/form-data; boundary=${BOUNDARY}`, sent: () => sent };
}

/** Polls until the directory is empty (a retained file goes when its job ends); returns what is left. */
async function drained(directory: string, timeoutMs = 5000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = existsSync(directory) ? await readdir(directory) : [];
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(25);
  }
}

describe('uploads (GraphQL multipart requests spooled to disk)', () => {
  let api: ApiEnv;
  let uploadDir: string;
  let workDir: string;
  /** pg_dump output of the target with 100 rows in `items`, by file name. */
  const dumps = new Map<string, Buffer>();

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'pgbs-upload-files-'));
    api = await startApi(adminUrl, 'upl', {
      UPLOAD_TEMP_DIR: path.join(workDir, 'spool'),
      RATE_LIMIT_UPLOADS_PER_HOUR: '1000',
    });
    uploadDir = api.app.uploadSpoolDir;
    await withSql(api.env.target.url, async (sql) => {
      await sql`CREATE TABLE items (id integer PRIMARY KEY, note text NOT NULL)`;
      await sql`INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g`;
    });
    for (const [name, bytes] of await dumpInEveryFormat(api.env.target.url, workDir, 'items')) dumps.set(name, bytes);
  });
  afterEach(async () => {
    expect(await drained(uploadDir), 'files left in the upload temp dir').toEqual([]);
  });
  afterAll(async () => {
    await api?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const post = (body: BodyInit, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${api.http.url}/graphql`, {
      method: 'POST',
      body,
      headers: { [CSRF_HEADER]: '1', cookie: api.adminCookie, ...headers },
      signal,
      duplex: 'half',
    } as RequestInit);
  const uploadBackup = async (file: Uint8Array, filename: string) =>
    (await (await post(multipart(UPLOAD_BACKUP, {}, file, filename))).json()) as GqlResponse;
  const restoreFromUpload = async (file: Uint8Array, filename: string, options = { safetySnapshot: false }) =>
    (await (
      await post(multipart(RESTORE_FROM_UPLOAD, { confirmation: api.env.target.name, options }, file, filename))
    ).json()) as GqlResponse;
  const itemCount = () =>
    withSql(api.env.target.url, async (sql) => (await sql`SELECT count(*)::int AS n FROM items`)[0]!.n as number);
  const deleteSomeItems = () => withSql(api.env.target.url, (sql) => sql`DELETE FROM items WHERE id > 10`);

  async function finishedJob(jobId: string) {
    for (;;) {
      const job = await api.app.jobs.get(jobId);
      if (job.state !== 'queued' && job.state !== 'running') return job;
      await sleep(50);
    }
  }

  async function restoreBackup(backupId: string) {
    const started = await api.gql<{ restoreBackup: { data: { id: string } } }>(
      `mutation($id: ID!, $c: String!) { restoreBackup(id: $id, confirmation: $c, options: { safetySnapshot: false }) {
         ... on MutationRestoreBackupSuccess { data { id } } } }`,
      { id: backupId, c: api.env.target.name },
      { cookie: api.adminCookie },
    );
    return finishedJob(started.data!.restoreBackup.data.id);
  }

  describe.each([
    ['items.dump', 'custom'],
    ['items.tar', 'tar'],
    ['items.sql', 'plain'],
    ['items.sql.gz', 'plain-gzip'],
  ])('%s', (name, format) => {
    it('is stored as a backup of origin "upload", then restored from the catalog', async () => {
      const bytes = dumps.get(name)!;
      const result = await uploadBackup(bytes, name);
      expect(result.data?.uploadBackup).toMatchObject({
        __typename: 'MutationUploadBackupSuccess',
        data: {
          format,
          origin: 'upload',
          sizeBytes: bytes.length,
          sha256: sha256(bytes),
          description: `Upload of ${name}`,
        },
      });
      const backup = result.data!.uploadBackup!.data!;
      expect(await readFile(path.join(api.app.config.backupDir, backup.fileName!))).toEqual(bytes);

      await deleteSomeItems();
      const job = await restoreBackup(backup.id);
      expect(job.state, job.errorMessage ?? '').toBe('succeeded');
      expect(await itemCount()).toBe(100);
    });

    it('is restored directly with restoreFromUpload; the file stays until the job has ended', async () => {
      await deleteSomeItems();
      // With a safety snapshot first, the restore opens the file well after the response is sent.
      const result = await restoreFromUpload(dumps.get(name)!, name, { safetySnapshot: true });
      expect(result.data?.restoreFromUpload?.__typename, JSON.stringify(result)).toBe(
        'MutationRestoreFromUploadSuccess',
      );
      expect(await readdir(uploadDir)).toHaveLength(1);
      const job = await finishedJob(result.data!.restoreFromUpload!.data!.id);
      expect(job.state, job.errorMessage ?? '').toBe('succeeded');
      expect(await itemCount()).toBe(100);
    });
  });

  it('accepts an upload made with curl -F', async () => {
    const file = path.join(workDir, 'items.dump');
    const stdout = await uploadWithCurl(
      api.http.url,
      api.adminCookie,
      UPLOAD_BACKUP,
      { description: 'from curl' },
      file,
    );
    expect((JSON.parse(stdout) as GqlResponse).data?.uploadBackup).toMatchObject({
      __typename: 'MutationUploadBackupSuccess',
      data: { format: 'custom', description: 'from curl', sha256: sha256(dumps.get('items.dump')!) },
    });
  });

  it('is not cut by Yoga’s 25 MB request body limit, which still applies to JSON requests', async () => {
    // Valid plain SQL of 30 MB: comment lines, and pg_dump's trailer.
    const big = Buffer.from(
      `${'-'.repeat(1023)}\n`.repeat(30 * 1024) + '--\n-- PostgreSQL database dump complete\n--\n',
    );
    const result = await uploadBackup(big, 'big.sql');
    expect(result.data?.uploadBackup).toMatchObject({ data: { format: 'plain', sizeBytes: big.length } });

    const json = await post(JSON.stringify({ query: '{ me { email } }', variables: { pad: 'x'.repeat(26e6) } }), {
      'content-type': 'application/json',
    });
    expect(json.status).toBe(413);
  });

  describe('refuses invalid files with a typed error, leaving the database alone', () => {
    it.each([
      [
        'random bytes',
        () => Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256)),
        'noise.bin',
        'archive/unknown-format',
      ],
      ['a corrupt .sql.gz', () => corrupt(dumps.get('items.sql.gz')!), 'corrupt.sql.gz', 'archive/corrupt'],
      [
        'a truncated .dump',
        () => dumps.get('items.dump')!.subarray(0, Math.floor(dumps.get('items.dump')!.length * 0.6)),
        'cut.dump',
        'archive/truncated',
      ],
      [
        'a truncated .sql.gz',
        () => dumps.get('items.sql.gz')!.subarray(0, dumps.get('items.sql.gz')!.length - 20),
        'cut.sql.gz',
        'archive/truncated',
      ],
    ])('%s', async (_label, make, filename, code) => {
      const file = make();
      expect((await uploadBackup(file, filename)).data?.uploadBackup).toMatchObject({ __typename: 'CodedError', code });
      expect((await restoreFromUpload(file, filename)).data?.restoreFromUpload).toMatchObject({
        __typename: 'CodedError',
        code,
      });
      expect(await itemCount()).toBe(100);
    });

    it('plain SQL with psql meta-commands: nothing runs, and the attempt is audited', async () => {
      const marker = path.join(workDir, 'pwned');
      const hostile = Buffer.from(`CREATE TABLE hacked (id integer);\n\\! touch ${marker}\nDELETE FROM items;\n`);
      expect((await uploadBackup(hostile, 'evil.sql')).data?.uploadBackup).toMatchObject({
        code: 'restore/unsafe-sql',
      });
      expect((await restoreFromUpload(hostile, 'evil.sql')).data?.restoreFromUpload).toMatchObject({
        code: 'restore/unsafe-sql',
      });
      expect(existsSync(marker)).toBe(false);
      expect(await itemCount()).toBe(100);
      const hacked = await withSql(api.env.target.url, (sql) => sql`SELECT to_regclass('public.hacked') AS t`);
      expect(hacked[0]!.t).toBeNull();
      const audit = await withSql(
        api.env.metadata.url,
        (sql) => sql`SELECT action, outcome, details FROM audit_events
                     WHERE details->>'errorCode' = 'restore/unsafe-sql' ORDER BY id`,
      );
      expect(audit.map((row) => [row.action, row.outcome, row.details.originalName ?? row.details.source])).toEqual([
        ['backup.upload', 'failed', 'evil.sql'],
        ['backup.restore', 'failed', 'upload evil.sql'],
      ]);
    });
  });

  describe('refuses before reading the body (the body here never ends)', () => {
    it.each([
      ['without credentials', { cookie: '' }, 401, 'auth/unauthenticated'],
      ['for a non-admin', 'viewer', 403, 'auth/forbidden'],
    ] as const)('%s', async (_label, who, status, code) => {
      const upload = streamedUpload();
      const cookie = who === 'viewer' ? api.viewerCookie : who.cookie;
      const response = await post(
        upload.body,
        { 'content-type': upload.contentType, cookie },
        AbortSignal.timeout(10_000),
      );
      expect(response.status).toBe(status);
      expect(response.headers.get('connection')).toBe('close');
      expect(((await response.json()) as GqlResponse).errors?.[0]?.extensions?.code).toBe(code);
      // What the client got rid of fits in the socket buffers: the server read none of it.
      expect(upload.sent()).toBeLessThan(16 * 1024 ** 2);
    });

    it('without the CSRF header (Yoga’s CSRF check runs before the upload plugin)', async () => {
      const upload = streamedUpload();
      const response = await fetch(`${api.http.url}/graphql`, {
        method: 'POST',
        body: upload.body,
        headers: { 'content-type': upload.contentType, cookie: api.adminCookie },
        signal: AbortSignal.timeout(10_000),
        duplex: 'half',
      } as RequestInit);
      expect(response.status).toBe(403);
      expect(upload.sent()).toBeLessThan(16 * 1024 ** 2);
    });

    it('past the upload rate limit', async () => {
      const user = await api.app.auth.createUser('busy@example.com', 'busy-password-123', 'admin');
      const { sessionToken } = await api.app.auth.login('busy@example.com', 'busy-password-123');
      for (let i = 0; i < 1000; i++) api.app.rateLimiter.hit('upload', user.id);
      const upload = streamedUpload();
      const response = await post(
        upload.body,
        { 'content-type': upload.contentType, cookie: `pgbs_session=${sessionToken}` },
        AbortSignal.timeout(10_000),
      );
      expect(response.status).toBe(429);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(((await response.json()) as GqlResponse).errors?.[0]?.extensions?.code).toBe('auth/rate-limited');
    });
  });

  it('deletes the partial temp file of an upload the client aborts', async () => {
    const upload = streamedUpload({ chunkDelayMs: 5 });
    const controller = new AbortController();
    const request = post(upload.body, { 'content-type': upload.contentType }, controller.signal);
    request.catch(() => {});
    const deadline = Date.now() + 10_000;
    while ((!existsSync(uploadDir) || (await readdir(uploadDir)).length === 0) && Date.now() < deadline)
      await sleep(10);
    expect(await readdir(uploadDir)).toHaveLength(1);
    await sleep(100);
    controller.abort();
    await expect(request).rejects.toThrow();
    // afterEach checks that the spool is emptied.
  });

  it('refuses files sent before "operations" and "map", as the spec requires', async () => {
    const form = new FormData();
    form.set('0', new Blob([new Uint8Array(dumps.get('items.sql')!)]), 'items.sql');
    form.set('operations', JSON.stringify({ query: UPLOAD_BACKUP, variables: { file: null } }));
    form.set('map', JSON.stringify({ 0: ['variables.file'] }));
    const response = await post(form);
    expect(response.status).toBe(400);
    expect(((await response.json()) as GqlResponse).errors?.[0]?.extensions?.code).toBe('upload/invalid');
  });

  it('refuses a File variable sent as JSON', async () => {
    const result = await api.gql(UPLOAD_BACKUP, { file: '/etc/passwd' }, { cookie: api.adminCookie });
    expect(result.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/multipart/),
      extensions: { code: 'upload/invalid' },
    });
  });
});

describe('upload size limit', () => {
  const LIMIT = 1024 * 1024;
  let api: ApiEnv;
  let uploadTempDir: string;
  let uploadDir: string;

  beforeAll(async () => {
    uploadTempDir = await mkdtemp(path.join(tmpdir(), 'pgbs-upload-limit-'));
    api = await startApi(adminUrl, 'uplim', { UPLOAD_TEMP_DIR: uploadTempDir, MAX_UPLOAD_BYTES: String(LIMIT) });
    uploadDir = api.app.uploadSpoolDir;
  });
  afterEach(async () => {
    expect(await drained(uploadDir), 'files left in the upload temp dir').toEqual([]);
  });
  afterAll(async () => {
    await api?.close();
    if (uploadTempDir) await rm(uploadTempDir, { recursive: true, force: true });
  });

  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${api.http.url}/graphql`, {
      method: 'POST',
      body,
      headers: { [CSRF_HEADER]: '1', cookie: api.adminCookie, ...headers },
      signal: AbortSignal.timeout(20_000),
      duplex: 'half',
    } as RequestInit);

  async function expectTooLarge(response: Response) {
    expect(response.status).toBe(413);
    expect(response.headers.get('connection')).toBe('close');
    const body = (await response.json()) as GqlResponse;
    expect(body.errors?.[0]?.extensions?.code).toBe('upload/too-large');
  }

  it('refuses 5 MB with a declared length at once', async () => {
    const file = new Uint8Array(5 * LIMIT).fill(0x2d);
    await expectTooLarge(await post(multipart(UPLOAD_BACKUP, {}, file, 'big.sql')));
  });

  it('stops a streamed (chunked) upload at the limit: 413, the client stops sending, the partial file is deleted', async () => {
    const total = 64 * LIMIT;
    const upload = streamedUpload({ fileBytes: total });
    await expectTooLarge(await post(upload.body, { 'content-type': upload.contentType }));
    await sleep(200);
    expect(upload.sent()).toBeLessThan(total / 2);
  });

  it('accepts a file of exactly the limit', async () => {
    const upload = streamedUpload({ fileBytes: LIMIT });
    const response = await post(upload.body, { 'content-type': upload.contentType });
    expect(((await response.json()) as GqlResponse).data?.uploadBackup).toMatchObject({
      data: { format: 'plain', sizeBytes: LIMIT },
    });
  });
});

/** Flips bytes in the middle of the deflate stream. */
function corrupt(gzipped: Buffer): Buffer {
  const copy = Buffer.from(gzipped);
  for (let i = Math.floor(copy.length / 2); i < Math.floor(copy.length / 2) + 16; i++) copy[i] = copy[i]! ^ 0x5a;
  return copy;
}
