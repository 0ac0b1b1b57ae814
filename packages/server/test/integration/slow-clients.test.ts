import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadFeatureRichSchema } from '@pgbs/test-support';
import { CSRF_HEADER } from '../../src/http/yoga.js';
import { dumpInEveryFormat } from '@pgbs/test-support';
import { type ApiEnv, startApi } from './api-harness.js';

const adminUrl = inject('pgAdminUrl');
const IDLE_MS = 1000;
const UPLOAD_IDLE_MS = 3000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How a slowloris client misbehaves: sends nothing, never finishes its headers, or pauses in its body. */
type Slowness = 'silent' | 'headers' | 'body';

/** A raw connection that misbehaves until the server closes it; resolves with the time that took. */
function slowClient(port: number, slowness: Slowness): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      if (slowness === 'headers') {
        socket.write('POST /graphql HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
        // Faster than the idle limit, but the headers never end.
        timer = setInterval(() => socket.write('x'), IDLE_MS / 3);
      } else if (slowness === 'body') {
        socket.write(
          'POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"query":',
        );
        // A byte now and then, each pause longer than the idle limit.
        timer = setInterval(() => socket.write(' '), IDLE_MS * 1.6);
      }
    });
    socket.on('data', () => {}); // a 408 may come before the close
    socket.on('error', () => {}); // a reset is a close too
    socket.on('close', () => {
      clearInterval(timer);
      resolve(performance.now() - started);
    });
    setTimeout(() => {
      clearInterval(timer);
      socket.destroy();
      reject(new Error(`the server kept a ${slowness} client for 15 s`));
    }, 15_000).unref();
  });
}

/** A GraphQL multipart upload of `file`, its body written in `parts` pieces with `pauseMs` between them. */
function trickleUpload(
  url: string,
  cookie: string,
  file: Buffer,
  pauses: number[],
): Promise<{ status: number; body: string } | { closedAfterMs: number }> {
  const boundary = 'pgbs-trickle';
  const operations = JSON.stringify({
    query: 'mutation($file: File!) { uploadBackup(file: $file) { __typename ... on CodedError { code message } } }',
    variables: { file: null },
  });
  const body = Buffer.concat([
    Buffer.from(
      [
        `--${boundary}`,
        'Content-Disposition: form-data; name="operations"',
        '',
        operations,
        `--${boundary}`,
        'Content-Disposition: form-data; name="map"',
        '',
        '{"0":["variables.file"]}',
        `--${boundary}`,
        'Content-Disposition: form-data; name="0"; filename="trickle.sql"',
        'Content-Type: application/octet-stream',
        '',
        '',
      ].join('\r\n'),
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const pieces = pauses.length + 1;
  const size = Math.ceil(body.length / pieces);
  return new Promise((resolve, reject) => {
    let lastWrite = performance.now();
    const req = request(`${url}/graphql`, {
      method: 'POST',
      headers: {
        cookie,
        [CSRF_HEADER]: '1',
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': body.length,
      },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', () => resolve({ closedAfterMs: performance.now() - lastWrite }));
    void (async () => {
      for (let piece = 0; piece < pieces; piece += 1) {
        if (req.destroyed) return;
        req.write(body.subarray(piece * size, (piece + 1) * size));
        lastWrite = performance.now();
        if (piece < pauses.length) await sleep(pauses[piece]!);
      }
      req.end();
    })().catch(reject);
  });
}

describe('slow clients', () => {
  let api: ApiEnv;
  let dir: string;
  let dump: Buffer;

  beforeAll(async () => {
    api = await startApi(adminUrl, 'slow', {
      HEADERS_TIMEOUT_SECONDS: String(IDLE_MS / 1000),
      BODY_IDLE_TIMEOUT_SECONDS: String(IDLE_MS / 1000),
      UPLOAD_IDLE_TIMEOUT_SECONDS: String(UPLOAD_IDLE_MS / 1000),
    });
    await loadFeatureRichSchema(api.env.target.url);
    dir = await mkdtemp(path.join(tmpdir(), 'pgbs-slow-'));
    dump = (await dumpInEveryFormat(api.env.target.url, dir, 'trickle')).get('trickle.sql')!;
  });
  afterAll(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('closes every slowloris connection: silent, slow headers, or a body that pauses too long', async () => {
    const port = Number(new URL(api.http.url).port);
    const kinds: Slowness[] = ['silent', 'headers', 'body'];
    const clients = Array.from({ length: 51 }, (_, i) => slowClient(port, kinds[i % kinds.length]!));
    const closedAfter = await Promise.all(clients);
    // The headers limit plus Node's check interval (1 s), with room for a busy machine.
    for (const ms of closedAfter) expect(ms).toBeLessThan(IDLE_MS * 2 + 2000);
    // Meanwhile and afterwards, ordinary clients are served.
    expect(await api.gql('{ __typename }')).toEqual({ data: { __typename: 'Query' } });
  });

  it('lets an admin upload pause longer than an ordinary body may, and cuts it after the upload idle limit', async () => {
    // Every pause is longer than BODY_IDLE_TIMEOUT_SECONDS but shorter than UPLOAD_IDLE_TIMEOUT_SECONDS.
    const slow = await trickleUpload(api.http.url, api.adminCookie, dump, [1600, 1600, 1600, 1600]);
    expect(slow).toMatchObject({ status: 200 });
    expect(JSON.parse((slow as { body: string }).body)).toEqual({
      data: { uploadBackup: { __typename: 'MutationUploadBackupSuccess' } },
    });

    const stalled = await trickleUpload(api.http.url, api.adminCookie, dump, [UPLOAD_IDLE_MS + 3000]);
    expect(stalled).toHaveProperty('closedAfterMs');
    const { closedAfterMs } = stalled as { closedAfterMs: number };
    expect(closedAfterMs).toBeGreaterThanOrEqual(UPLOAD_IDLE_MS - 100);
    expect(closedAfterMs).toBeLessThan(UPLOAD_IDLE_MS + 1500);
  });
});
