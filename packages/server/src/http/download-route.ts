import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { systemClock } from '@pgbs/engine';
import { isCodedError } from '../errors/service-error.js';
import type { ErrorCode } from '../errors/error-codes.js';
import type { App } from '../app.js';
import type { BackupRow } from '../db/schema.js';
import { isUuid } from '../ids.js';
import { parseRange } from './byte-range.js';
import { authenticate, countFailedAuth } from './request-auth.js';

const DOWNLOAD_PATH = /^\/downloads\/([^/]+)$/;

/** An answer other than the file: a status and a small JSON body with a stable code. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** What the audit row says about one request, filled in as the request is handled. */
interface DownloadRecord {
  actor: string | null;
  range: string | null;
  code: ErrorCode | null;
}

/**
 * GET|HEAD /downloads/<backupId>: the backup file, for an admin (session cookie or API token) or
 * the holder of a signed link. Single byte ranges are honoured so interrupted downloads resume.
 */
export async function handleDownload(app: App, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendRefusal(res, new Refusal(405, 'input/invalid', 'Downloads take GET or HEAD.', { allow: 'GET, HEAD' }));
    return;
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
  const backupId = DOWNLOAD_PATH.exec(url.pathname)?.[1] ?? '';
  const record: DownloadRecord = { actor: null, range: null, code: null };
  // 'close' fires exactly once, whether the response was completed, refused, failed or abandoned.
  res.once('close', () => {
    // Only attempts by someone known (credentials, even a viewer's, or a valid link) are audited: an
    // anonymous probe or a forged link would otherwise let anybody fill the audit log. Nor are
    // refusals of the failed-attempts limiter: recording them would be the write it limits.
    if (record.actor === null || record.code === 'auth/rate-limited') return;
    void app.audit.record({
      actor: record.actor,
      address: req.socket.remoteAddress ?? null,
      action: 'backup.download',
      outcome: res.writableFinished && res.statusCode < 300 ? 'succeeded' : 'failed',
      subjectId: isUuid(backupId) ? backupId : null,
      details: { method: req.method, status: res.statusCode, range: record.range, code: record.code },
    });
  });
  try {
    // Access is decided before the lookup, so nobody can probe which backup ids exist.
    const access = await authorize(app, req, backupId, url.searchParams.get('signature'));
    record.actor = access.actor;
    if (access.refusal) {
      limitFailedAuth(app, req);
      throw access.refusal;
    }
    await sendFile(app, req, res, await findBackup(app, backupId), record);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    record.code = error.code;
    sendRefusal(res, error);
  }
}

type Access = { actor: string; refusal?: undefined } | { actor: string | null; refusal: Refusal };

/** Admin credentials first; a signed link stands in for them, for its one backup until it expires. */
async function authorize(app: App, req: IncomingMessage, backupId: string, signature: string | null): Promise<Access> {
  const { viewer } = await authenticate(app, { authorization: req.headers.authorization, cookie: req.headers.cookie });
  if (viewer?.role === 'admin') return { actor: viewer.email };
  if (signature !== null) {
    const check = app.urlSigner.verify(backupId, signature, systemClock.now());
    if (check === 'valid') return { actor: 'signed-url' };
    const message =
      check === 'expired' ? 'This download link has expired: create a new one.' : 'This download link is not valid.';
    return { actor: viewer?.email ?? null, refusal: unauthenticated('download/link-invalid', message) };
  }
  if (viewer) {
    return { actor: viewer.email, refusal: new Refusal(403, 'auth/forbidden', 'Only administrators may download.') };
  }
  return {
    actor: null,
    refusal: unauthenticated('auth/unauthenticated', 'Log in, or use an API token or a signed link.'),
  };
}

function limitFailedAuth(app: App, req: IncomingMessage): void {
  try {
    countFailedAuth(app, req.socket.remoteAddress);
  } catch (error) {
    if (!isCodedError(error, 'auth/rate-limited')) throw error;
    const retry = String(error.details.retryAfterSeconds);
    throw new Refusal(429, error.code, error.message, { 'retry-after': retry });
  }
}

function unauthenticated(code: ErrorCode, message: string): Refusal {
  return new Refusal(401, code, message, { 'www-authenticate': 'Bearer' });
}

async function findBackup(app: App, backupId: string): Promise<BackupRow> {
  try {
    return await app.backups.get(backupId);
  } catch (error) {
    if (isCodedError(error, 'backup/not-found')) throw new Refusal(404, error.code, error.message);
    throw error;
  }
}

async function sendFile(
  app: App,
  req: IncomingMessage,
  res: ServerResponse,
  found: BackupRow,
  record: DownloadRecord,
): Promise<void> {
  // Any copy will do: the first whose destination answers. Its lease keeps retention, deletes and
  // re-encryptions, on every instance, off that copy until the response ends, however it ends
  // ('close' fires once).
  const copy = await app.backups.leasedCopy(found.id, 'download');
  if (copy === null) {
    throw new Refusal(410, 'backup/file-missing', `The file of backup ${found.id} (${found.fileName}) is missing.`);
  }
  // The row as leased: a re-encryption may have switched the names since `found` was read.
  const { backup } = copy;
  // A release that fails (the metadata database away) lapses by itself within the lease's TTL. A
  // client gone while the lease was taken has closed already: 'close' will not fire again.
  const release = () => void copy.lease.release().catch(() => {});
  if (res.closed || res.destroyed) release();
  else res.once('close', release);
  const size = copy.sizeBytes;
  // The headers promise the catalog's size and checksum; a changed file must not be sent under them.
  if (size !== backup.sizeBytes) {
    throw new Refusal(
      409,
      'backup/checksum-mismatch',
      `The file is ${size} bytes but the catalog says ${backup.sizeBytes}: it was changed or damaged on disk.`,
    );
  }
  const etag = `"${backup.sha256}"`;
  const headers = {
    'content-type': 'application/octet-stream',
    'content-disposition': attachment(backup.fileName),
    'accept-ranges': 'bytes',
    etag,
    'last-modified': backup.createdAt.toUTCString(),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
  // Ranges are defined for GET only; If-Range asks for them only while the file is the one the client has.
  const ifRange = req.headers['if-range'];
  const rangeHeader =
    req.method === 'GET' && (ifRange === undefined || ifRange === etag) ? req.headers.range : undefined;
  const range = parseRange(rangeHeader, size);
  if (range.kind === 'unsatisfiable') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
    return;
  }
  const { start, end } = range.kind === 'partial' ? range : { start: 0, end: size - 1 };
  if (range.kind === 'partial') record.range = `${start}-${end}`;
  res.writeHead(range.kind === 'partial' ? 206 : 200, {
    ...headers,
    'content-length': end - start + 1,
    ...(range.kind === 'partial' ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
  });
  // An empty file has no byte to read (and createReadStream refuses end < start).
  if (req.method === 'HEAD' || end < start) {
    res.end();
    return;
  }
  try {
    // pipeline destroys the file stream when the client goes away: no descriptor outlives the request.
    await pipeline(await copy.storage.openRead(backup.fileName, { start, end }), res);
  } catch (error) {
    // A client that disconnects is not a server error; the audit row records the failed download.
    if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
  }
}

/** Built from the generated file name only, reduced to characters every client and file system accepts. */
function attachment(fileName: string): string {
  const safe = fileName.replace(/[^A-Za-z0-9._-]/g, '').replace(/^\.+/, '') || 'backup';
  return `attachment; filename="${safe}"; filename*=UTF-8''${encodeURIComponent(safe)}`;
}

function sendRefusal(res: ServerResponse, refusal: Refusal): void {
  res
    .writeHead(refusal.status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...refusal.headers,
    })
    .end(JSON.stringify({ error: { code: refusal.code, message: refusal.message } }));
}
