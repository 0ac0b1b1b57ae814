import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, readlink, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { withSql } from '@pgbs/test-support';
import type { BackupRow } from '../../src/db/schema.js';
import { type ApiEnv, ADMIN, startApi } from './api-harness.js';

const adminUrl = inject('pgAdminUrl');
// Async on purpose: the server runs in this process, so a blocking child would deadlock it.
const run = promisify(execFile);

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('backup downloads', () => {
  let api: ApiEnv;
  let backup: BackupRow;
  /** The backup file as stored on disk: every byte served is checked against it. */
  let stored: Buffer;
  let bearer: Record<string, string>;
  let workDir: string;

  beforeAll(async () => {
    // Uncompressed and ~25 MB: bigger than the socket buffers, so a download can be caught in flight.
    api = await startApi(adminUrl, 'dl', { BACKUP_COMPRESSION: '0' });
    await withSql(
      api.env.target.url,
      (sql) => sql`CREATE TABLE payload AS SELECT g AS id, md5(g::text) || md5((-g)::text) AS body
                   FROM generate_series(1, 300000) g`,
    );
    backup = await createBackup();
    stored = await readFile(path.join(api.app.config.backupDir, backup.fileName));
    const { user } = await api.app.auth.login(ADMIN.email, ADMIN.password);
    const { token } = await api.app.auth.createApiToken(user.id, 'downloads');
    bearer = { authorization: `Bearer ${token}` };
    workDir = await mkdtemp(path.join(tmpdir(), 'pgbs-downloads-'));
  });
  afterAll(async () => {
    await api?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  async function createBackup(): Promise<BackupRow> {
    const { done } = await api.app.backups.createBackup({ description: 'download me' }, { name: ADMIN.email });
    const job = await done;
    expect(job.state, job.errorMessage ?? '').toBe('succeeded');
    return api.app.backups.get(job.backupId!);
  }

  const urlOf = (pathAndQuery: string) => `${api.http.url}${pathAndQuery}`;
  const download = (pathAndQuery: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(urlOf(pathAndQuery), { method, headers });
  const signedPath = (id: string, signature: string) => `/downloads/${id}?signature=${encodeURIComponent(signature)}`;

  async function createDownloadUrl(id: string, cookie = api.adminCookie) {
    return api.gql<{ createDownloadUrl: { data?: { url: string; expiresAt: string }; code?: string } }>(
      `mutation($id: ID!) { createDownloadUrl(id: $id) {
         ... on MutationCreateDownloadUrlSuccess { data { url expiresAt } }
         ... on CodedError { code }
       } }`,
      { id },
      { cookie },
    );
  }

  async function signedUrl(id: string): Promise<string> {
    return (await createDownloadUrl(id)).data!.createDownloadUrl.data!.url;
  }

  async function expectRefusal(response: Response, status: number, code: string) {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe(code);
    expect(body.error.message).toEqual(expect.any(String));
    return body.error;
  }

  async function downloadAudits() {
    return withSql(
      api.env.metadata.url,
      (sql) => sql<{ actor: string | null; outcome: string; subject_id: string | null; details: { range?: string } }[]>`
        SELECT actor, outcome, subject_id, details FROM audit_events WHERE action = 'backup.download' ORDER BY id`,
    );
  }

  /** Audit rows are written when the response closes, just after the client has its answer. */
  async function expectAudited(row: Record<string, unknown>) {
    await vi.waitFor(async () => expect(await downloadAudits()).toContainEqual(expect.objectContaining(row)));
  }

  it('serves the whole file to an admin session, an API token and a signed link', async () => {
    const url = await signedUrl(backup.id);
    expect(url).toMatch(new RegExp(`^/downloads/${backup.id}\\?signature=\\d+\\.[A-Za-z0-9_-]+$`));
    const ways = [
      { name: 'cookie', response: await download(`/downloads/${backup.id}`, { cookie: api.adminCookie }) },
      { name: 'token', response: await download(`/downloads/${backup.id}`, bearer) },
      { name: 'signed link', response: await download(url) },
    ];
    for (const { name, response } of ways) {
      expect(response.status, name).toBe(200);
      const body = new Uint8Array(await response.arrayBuffer());
      expect(sha256(body), name).toBe(backup.sha256);
      expect(body.length, name).toBe(backup.sizeBytes);
      expect(Object.fromEntries(response.headers), name).toMatchObject({
        'content-length': String(backup.sizeBytes),
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${backup.fileName}"; filename*=UTF-8''${backup.fileName}`,
        etag: `"${backup.sha256}"`,
        'accept-ranges': 'bytes',
        'last-modified': backup.createdAt.toUTCString(),
        'cache-control': 'no-store',
      });
    }
    for (const actor of [ADMIN.email, 'signed-url']) {
      await expectAudited({ actor, outcome: 'succeeded', subject_id: backup.id });
    }
  });

  it('signs links for admins only, for the configured time, and audits them', async () => {
    const before = Date.now();
    const created = (await createDownloadUrl(backup.id)).data!.createDownloadUrl.data!;
    const expiresAt = Date.parse(created.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 300_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 300_000);

    expect((await createDownloadUrl(randomUUID())).data).toEqual({ createDownloadUrl: { code: 'backup/not-found' } });
    const refused = await createDownloadUrl(backup.id, api.viewerCookie);
    expect(refused.errors?.[0]?.extensions?.code).toBe('auth/forbidden');

    const audits = await withSql(
      api.env.metadata.url,
      (sql) => sql`SELECT actor, subject_id FROM audit_events WHERE action = 'backup.download-url'`,
    );
    expect(audits).toContainEqual({ actor: ADMIN.email, subject_id: backup.id });
  });

  it('answers HEAD with the headers only', async () => {
    const response = await download(`/downloads/${backup.id}`, bearer, 'HEAD');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(backup.sizeBytes));
    expect(response.headers.get('etag')).toBe(`"${backup.sha256}"`);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('serves single byte ranges exactly as stored', async () => {
    const size = stored.length;
    const middle = Math.floor(size / 2);
    const cases = [
      { header: 'bytes=0-99', start: 0, end: 99 },
      { header: `bytes=${middle}-${middle + 12_344}`, start: middle, end: middle + 12_344 },
      { header: 'bytes=-500', start: size - 500, end: size - 1 },
      { header: `bytes=${size - 1000}-`, start: size - 1000, end: size - 1 },
      { header: `bytes=${size - 10}-${size + 1000}`, start: size - 10, end: size - 1 },
    ];
    for (const { header, start, end } of cases) {
      const response = await download(`/downloads/${backup.id}`, { ...bearer, range: header });
      expect(response.status, header).toBe(206);
      expect(response.headers.get('content-range'), header).toBe(`bytes ${start}-${end}/${size}`);
      expect(response.headers.get('content-length'), header).toBe(String(end - start + 1));
      expect(Buffer.from(await response.arrayBuffer()).equals(stored.subarray(start, end + 1)), header).toBe(true);
    }
    await expectAudited({
      actor: ADMIN.email,
      outcome: 'succeeded',
      details: expect.objectContaining({ range: '0-99' }),
    });
  });

  it('refuses unsatisfiable ranges with 416 and serves several ranges or a stale If-Range in full', async () => {
    const size = stored.length;
    const unsatisfiable = await download(`/downloads/${backup.id}`, { ...bearer, range: `bytes=${size}-` });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get('content-range')).toBe(`bytes */${size}`);

    const several = await download(`/downloads/${backup.id}`, { ...bearer, range: 'bytes=0-9,20-29' });
    expect(several.status).toBe(200);
    expect(sha256(new Uint8Array(await several.arrayBuffer()))).toBe(backup.sha256);

    const current = await download(`/downloads/${backup.id}`, {
      ...bearer,
      range: 'bytes=10-19',
      'if-range': `"${backup.sha256}"`,
    });
    expect(current.status).toBe(206);
    expect(Buffer.from(await current.arrayBuffer()).equals(stored.subarray(10, 20))).toBe(true);

    const stale = await download(`/downloads/${backup.id}`, { ...bearer, range: 'bytes=10-19', 'if-range': '"other"' });
    expect(stale.status).toBe(200);
    expect(stale.headers.get('content-length')).toBe(String(size));
    await stale.body?.cancel();
  });

  it('works with curl: a range, a resumed download, and the file name from Content-Disposition', async () => {
    const url = urlOf(`/downloads/${backup.id}`);
    const first = path.join(workDir, 'first-100');
    await run('curl', ['-sSf', '-r', '0-99', '-o', first, '-H', `cookie: ${api.adminCookie}`, url]);
    expect((await readFile(first)).equals(stored.subarray(0, 100))).toBe(true);

    const resumed = path.join(workDir, 'resumed');
    await writeFile(resumed, stored.subarray(0, 1_000_000));
    await run('curl', ['-sSf', '-C', '-', '-o', resumed, '-H', `authorization: ${bearer.authorization}`, url]);
    expect(sha256(await readFile(resumed))).toBe(backup.sha256);
    await expectAudited({
      outcome: 'succeeded',
      details: expect.objectContaining({ range: `1000000-${stored.length - 1}` }),
    });

    const named = await mkdtemp(path.join(workDir, 'named-'));
    await run('curl', ['-sSf', '-O', '-J', '--output-dir', named, urlOf(await signedUrl(backup.id))]);
    expect(await readdir(named)).toEqual([backup.fileName]);
    expect(sha256(await readFile(path.join(named, backup.fileName)))).toBe(backup.sha256);
  });

  it('refuses requests without admin credentials or a valid link, with coded JSON errors', async () => {
    const plain = `/downloads/${backup.id}`;
    const future = Date.now() + 60_000;
    const valid = api.app.urlSigner.sign(backup.id, future);
    const tampered = `${valid.slice(0, -1)}${valid.endsWith('A') ? 'B' : 'A'}`;

    const anonymous = await download(plain);
    await expectRefusal(anonymous, 401, 'auth/unauthenticated');
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    await expectRefusal(
      await download(plain, { authorization: 'Bearer pgbs_not-a-token' }),
      401,
      'auth/unauthenticated',
    );
    await expectRefusal(await download(plain, { cookie: api.viewerCookie }), 403, 'auth/forbidden');

    const expired = await download(signedPath(backup.id, api.app.urlSigner.sign(backup.id, Date.now() - 1)));
    expect((await expectRefusal(expired, 401, 'download/link-invalid')).message).toMatch(/expired/);
    const otherId = signedPath(backup.id, api.app.urlSigner.sign(randomUUID(), future));
    await expectRefusal(await download(otherId), 401, 'download/link-invalid');
    await expectRefusal(await download(signedPath(backup.id, tampered)), 401, 'download/link-invalid');
    await expectRefusal(await download(`${plain}?signature=`), 401, 'download/link-invalid');

    // Existence is only revealed to those allowed to download.
    await expectRefusal(await download(`/downloads/${randomUUID()}`), 401, 'auth/unauthenticated');
    await expectRefusal(await download(`/downloads/${randomUUID()}`, bearer), 404, 'backup/not-found');
    await expectRefusal(await download('/downloads/not-an-id', bearer), 404, 'backup/not-found');
    await expectRefusal(await download(`${plain}/extra`, bearer), 404, 'backup/not-found');

    const post = await download(plain, bearer, 'POST');
    await expectRefusal(post, 405, 'input/invalid');
    expect(post.headers.get('allow')).toBe('GET, HEAD');

    await expectAudited({
      actor: 'viewer@example.com',
      outcome: 'failed',
      details: expect.objectContaining({ status: 403, code: 'auth/forbidden' }),
    });
  });

  it('audits attempts by known users, and writes nothing for anonymous probes', async () => {
    const before = (await downloadAudits()).length;
    const probes = [
      `/downloads/${randomUUID()}`,
      '/downloads/not-an-id',
      `/downloads/${backup.id}?signature=${encodeURIComponent(api.app.urlSigner.sign(randomUUID(), Date.now() + 60_000))}`,
      `/downloads/${backup.id}?signature=${encodeURIComponent(api.app.urlSigner.sign(backup.id, Date.now() - 1))}`,
    ];
    for (const probe of probes) {
      expect((await download(probe)).status, probe).toBe(401);
      expect((await download(probe, { authorization: 'Bearer pgbs_not-a-token' })).status, probe).toBe(401);
    }
    // Audited, and written after every probe's response had closed: once it is there, theirs would be too.
    const known = randomUUID();
    expect((await download(`/downloads/${known}`, { cookie: api.viewerCookie })).status).toBe(403);
    await expectAudited({ actor: 'viewer@example.com', subject_id: known });
    const rows = await downloadAudits();
    expect(rows.filter((row) => row.actor === null)).toEqual([]);
    expect(rows).toHaveLength(before + 1);
  });

  it('closes the file when the client disconnects mid-download, and audits the download as failed', async () => {
    const filePath = path.join(api.app.config.backupDir, backup.fileName);
    const openDescriptors = async () => {
      const links = await Promise.all(
        (await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
      );
      return links.filter((link) => link === filePath).length;
    };
    expect(await openDescriptors()).toBe(0);
    expect(stored.length).toBeGreaterThan(16 * 1024 ** 2);

    const controller = new AbortController();
    const response = await fetch(urlOf(`/downloads/${backup.id}`), {
      headers: { ...bearer, range: 'bytes=1-' },
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    expect(await openDescriptors()).toBe(1);

    controller.abort();
    await vi.waitFor(async () => expect(await openDescriptors()).toBe(0));
    const range = `1-${stored.length - 1}`;
    await expectAudited({ outcome: 'failed', details: expect.objectContaining({ status: 206, range }) });
    // One row per request, however the response ended.
    expect((await downloadAudits()).filter((row) => row.details.range === range)).toHaveLength(1);
  });

  it('reports a changed or missing file with a coded error instead of sending it', async () => {
    const victim = await createBackup();
    const filePath = path.join(api.app.config.backupDir, victim.fileName);

    await truncate(filePath, 1000);
    await expectRefusal(await download(`/downloads/${victim.id}`, bearer), 409, 'backup/checksum-mismatch');

    await rm(filePath);
    const link = signedPath(victim.id, api.app.urlSigner.sign(victim.id, Date.now() + 60_000));
    await expectRefusal(await download(link), 410, 'backup/file-missing');
    await expectAudited({ actor: 'signed-url', outcome: 'failed', subject_id: victim.id });
  });

  it('sends the re-encrypted file when a re-encryption switched the backup between its lookup and its lease', async () => {
    const clear = await createBackup();
    const [target] = await api.app.targets.list();
    await api.app.keys.generate({ name: 'download-race' }, { name: ADMIN.email });
    await api.app.keys.setTargetRecipients(target!.name, ['download-race'], { name: ADMIN.email });
    try {
      const lookup = api.app.backups.get;
      // The route has read the row; a real re-encryption switches it (and removes the old file)
      // before the route takes its lease.
      vi.spyOn(api.app.backups, 'get').mockImplementationOnce(async (id) => {
        const row = await lookup(id);
        const done = await (await api.app.backups.reencrypt(id, { name: ADMIN.email })).done;
        expect(done.state, done.errorMessage ?? '').toBe('succeeded');
        return row;
      });
      const response = await download(`/downloads/${clear.id}`, bearer);
      const switched = await api.app.backups.get(clear.id);
      expect(switched.fileName).not.toBe(clear.fileName);
      expect(response.status).toBe(200);
      expect(response.headers.get('etag')).toBe(`"${switched.sha256}"`);
      expect(response.headers.get('content-disposition')).toContain(switched.fileName);
      const body = Buffer.from(await response.arrayBuffer());
      expect(sha256(body)).toBe(switched.sha256);
      expect(body.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    } finally {
      vi.restoreAllMocks();
      await api.app.keys.setTargetRecipients(target!.name, [], { name: ADMIN.email });
    }
  });
});
