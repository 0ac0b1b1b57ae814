import { describe, expect, it } from 'vitest';
import { parseS3CredentialsFile } from '../../../src/cli/s3-credentials-input.js';
import type { LookupAddress } from 'node:dns';
import { guardedLookup, isForbiddenAddress, s3Error } from '../../../src/storage/s3-storage.js';

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

describe('what an endpoint may not reach', () => {
  it('link-local and metadata addresses, also IPv4-mapped; never loopback or ordinary addresses', () => {
    for (const address of [
      '169.254.169.254',
      '169.254.0.1',
      'fe80::1',
      'FEBF::1',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      'fd00:ec2::254',
      '[fe80::1]',
      // AWS's IPv6 services range, also written out in full.
      'fd00:ec2::23',
      'FD00:0EC2:0:0:0:0:0:23',
      // The same metadata address through NAT64 (well-known and local-use), IPv4-compatible,
      // IPv4-translated and 6to4 forms.
      '64:ff9b::a9fe:a9fe',
      '64:ff9b::169.254.169.254',
      '[64:ff9b::a9fe:a9fe]',
      '64:ff9b:1::a9fe:a9fe',
      '::169.254.169.254',
      '::a9fe:a9fe',
      '::ffff:0:a9fe:a9fe',
      '2002:a9fe:a9fe::1',
      '::ffff:100.100.100.200',
      'fe80::1%eth0',
    ]) {
      expect(isForbiddenAddress(address), address).toBe(true);
    }
    for (const address of [
      '127.0.0.1',
      '::1',
      '::',
      '10.0.0.5',
      '192.168.1.2',
      '2001:db8::1',
      'fec0::1',
      '169.255.0.1',
      'fd00:ec3::23',
      '64:ff9b::a00:5',
      '::ffff:127.0.0.1',
      '2002:a00:5::1',
      's3.example.com',
    ]) {
      expect(isForbiddenAddress(address), address).toBe(false);
    }
  });

  it('a name that resolves to a link-local address gets no connection', async () => {
    const resolving = (answer: string) =>
      ((_host: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
        options.all
          ? callback(null, [
              { address: '127.0.0.1', family: 4 },
              { address: answer, family: 4 },
            ] as LookupAddress[])
          : callback(null, answer, 4)) as unknown as Parameters<typeof guardedLookup>[0];
    const lookUp = (answer: string, all: boolean) =>
      new Promise<unknown>((resolve) =>
        guardedLookup(resolving(answer))('rebind.example', { all }, (error, address) => resolve(error ?? address)),
      );
    for (const all of [false, true]) {
      for (const forbidden of ['169.254.169.254', 'fd00:ec2::23', '64:ff9b::a9fe:a9fe', '::ffff:169.254.169.254'])
        expect(await lookUp(forbidden, all), forbidden).toMatchObject({ code: 'destination/endpoint-forbidden' });
      expect(await lookUp('127.0.0.1', all)).not.toBeInstanceOf(Error);
    }
  });

  it("repeats only an S3 error code and an HTTP status from a server's error", () => {
    const error = sdkError('SlowDown', 503);
    error.message = 'go to http://evil.example now';
    expect(s3Error(error, 's3://b/p').message).toBe('s3://b/p failed: SlowDown (HTTP 503).');
    expect(s3Error(sdkError('<img src=x> or a sentence', 500), 's3://b/p').message).toBe(
      's3://b/p failed: unknown error (HTTP 500).',
    );
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
