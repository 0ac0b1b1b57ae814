// An s3rver in a process of its own, so that a test can kill it midway like a real server that
// goes down. Plain JavaScript: started with `node`, no TypeScript loader.
// Settings come as JSON in argv[2]; the access key pair in the environment (never argv).
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import S3rver from 's3rver';
import AWSAccount from 's3rver/lib/models/account.js';

const { port, directory, buckets } = JSON.parse(process.argv[2]);
// Only the configured pair is known: any other access key id is refused (InvalidAccessKeyId).
// s3rver does not verify SigV4 signatures, so a wrong secret with a known key id is accepted.
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
AWSAccount.DUMMY_ACCOUNT.createKeyPair(process.env.S3RVER_ACCESS_KEY_ID, process.env.S3RVER_SECRET_ACCESS_KEY);

const server = new S3rver({
  address: '127.0.0.1',
  port,
  directory,
  silent: process.env.S3RVER_VERBOSE !== '1',
  vhostBuckets: false,
  configureBuckets: buckets.map((name) => ({ name })),
});

// s3rver 3.7 lacks ListMultipartUploads and AbortMultipartUpload, which S3, R2 and MinIO have: both
// are added here over its own store layout (<bucket>/._S3rver_uploads/<upload id>/key).
const uploadsDir = (bucket) => path.join(directory, bucket, '._S3rver_uploads');
const xml = (body) => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
const escape = (text) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

server.middleware.unshift(async (ctx, next) => {
  const [, bucket, ...keyParts] = decodeURIComponent(ctx.path).split('/');
  const key = keyParts.join('/');
  if (ctx.method === 'GET' && bucket && !key && 'uploads' in ctx.query) {
    const prefix = ctx.query.prefix ?? '';
    const ids = await readdir(uploadsDir(bucket)).catch(() => []);
    const uploads = [];
    for (const id of ids) {
      const uploadKey = await readFile(path.join(uploadsDir(bucket), id, 'key'), 'utf8').catch(() => null);
      if (uploadKey !== null && uploadKey.startsWith(prefix)) uploads.push({ key: uploadKey, id });
    }
    ctx.type = 'application/xml';
    ctx.body = xml(
      `<ListMultipartUploadsResult><Bucket>${escape(bucket)}</Bucket><IsTruncated>false</IsTruncated>` +
        uploads.map((u) => `<Upload><Key>${escape(u.key)}</Key><UploadId>${u.id}</UploadId></Upload>`).join('') +
        '</ListMultipartUploadsResult>',
    );
    return;
  }
  if (ctx.method === 'DELETE' && bucket && key && typeof ctx.query.uploadId === 'string') {
    const dir = path.join(uploadsDir(bucket), path.basename(ctx.query.uploadId));
    const uploadKey = await readFile(path.join(dir, 'key'), 'utf8').catch(() => null);
    if (uploadKey !== key) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body = xml('<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>');
      return;
    }
    await rm(dir, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  await next();
});

const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
