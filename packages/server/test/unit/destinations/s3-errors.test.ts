import { describe, expect, it } from 'vitest';
import { parseS3CredentialsFile } from '../../../src/cli/s3-credentials-input.js';
import { s3Error } from '../../../src/storage/s3-storage.js';

const sdkError = (name: string, status?: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status }, ...extra });

describe('S3 errors as coded errors', () => {
  // s3rver checks the access key id but not SigV4 signatures, so a wrong secret is only seen here.
  it.each([
    ['SignatureDoesNotMatch', 403, 'destination/auth-failed'],
    ['InvalidAccessKeyId', 403, 'destination/auth-failed'],
    ['AccessDenied', 403, 'destination/auth-failed'],
    ['Forbidden', 403, 'destination/auth-failed'],
    ['NoSuchBucket', 404, 'destination/bucket-missing'],
    ['InternalError', 500, 'destination/failed'],
    ['TimeoutError', undefined, 'destination/unreachable'],
  ])('%s (HTTP %s) is %s', (name, status, code) => {
    expect(s3Error(sdkError(name, status), 's3://b/p').code).toBe(code);
  });

  it('network failures are destination/unreachable, also when wrapped', () => {
    expect(s3Error(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }), 'x').code).toBe(
      'destination/unreachable',
    );
    expect(s3Error(Object.assign(new Error('x'), { cause: { code: 'ENOTFOUND' } }), 'x').code).toBe(
      'destination/unreachable',
    );
  });

  it('an authentication message repeats nothing the server sent (s3rver echoes the string it signed)', () => {
    const error = sdkError('SignatureDoesNotMatch', 403, { StringToSign: 'AWS4-HMAC-SHA256 secret-ish' });
    error.message = 'signature for AKIAEXAMPLE computed with secret-ish';
    expect(s3Error(error, 's3://b/p').message).not.toMatch(/AKIAEXAMPLE|secret-ish/);
  });
});

describe('S3 credentials files', () => {
  it('reads an AWS credentials file, KEY=value lines and JSON', () => {
    const expected = { accessKeyId: 'AKIA1', secretAccessKey: 's/e+c=r"et' };
    expect(
      parseS3CredentialsFile('[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s/e+c=r"et\n', 'f'),
    ).toEqual(expected);
    expect(
      parseS3CredentialsFile('export AWS_ACCESS_KEY_ID="AKIA1"\nAWS_SECRET_ACCESS_KEY=\'s/e+c=r"et\'\n', 'f'),
    ).toEqual(expected);
    expect(parseS3CredentialsFile(JSON.stringify(expected), 'f')).toEqual(expected);
  });

  it('refuses a file without both, never quoting it', () => {
    for (const text of ['aws_access_key_id = AKIA1\n', '{"accessKeyId": "AKIA1"}', '{not json secret-value']) {
      expect(() => parseS3CredentialsFile(text, 'creds')).toThrow(/creds holds no S3 credentials/);
      try {
        parseS3CredentialsFile(text, 'creds');
      } catch (error) {
        expect((error as Error).message).not.toMatch(/AKIA1|secret-value/);
      }
    }
  });
});
