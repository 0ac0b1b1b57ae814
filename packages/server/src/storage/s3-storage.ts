import { randomBytes } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { BlockList, type LookupFunction, isIPv4, isIPv6 } from 'node:net';
import { once } from 'node:events';
import { PassThrough, type Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ServiceError, isCodedError } from '../errors/service-error.js';
import { type ObjectStorage, type ObjectWriter, type StoredObject, isSafeObjectName } from './object-storage.js';

/** Where an S3-compatible destination's objects live. Never a secret (stored in destinations.settings). */
export interface S3Settings {
  /** An S3-compatible service's URL (MinIO, R2, B2); absent: AWS S3 in `region`. */
  endpoint?: string | null;
  region?: string | null;
  bucket: string;
  /** Objects are named `<prefix>/<name>`; empty: at the bucket's root. */
  prefix?: string;
  /** Path-style addressing (`host/bucket/key`), which MinIO and most self-hosted services need. */
  pathStyle?: boolean;
  /**
   * Where the credentials come from: `stored` (sealed in destinations.credentials_sealed; the
   * default, also when absent) or `environment` (the SDK's default chain: AWS_* variables, an
   * instance or task role), an explicit opt-in so that a destination without stored credentials
   * never silently signs with whatever role the machine has.
   */
  credentialSource?: S3CredentialSource;
}

export const S3_CREDENTIAL_SOURCES = ['stored', 'environment'] as const;
export type S3CredentialSource = (typeof S3_CREDENTIAL_SOURCES)[number];

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const MiB = 1024 * 1024;
const MIN_PART_BYTES = 5 * MiB;
// Without an expected size: 10,000 parts of 16 MiB hold 156 GiB.
const DEFAULT_PART_BYTES = 16 * MiB;

/**
 * A part size with which the expected size (plus 20 % for what the estimate misses) fits in 9,000
 * parts, below S3's 10,000: 5 MiB up to about 37 GB, 128 MiB for 1 TB. Memory is about three parts (createWriter).
 */
export function partSizeFor(expectedBytes?: number): number {
  if (!expectedBytes || expectedBytes <= 0) return DEFAULT_PART_BYTES;
  return Math.max(MIN_PART_BYTES, Math.ceil((expectedBytes * 1.2) / 9000 / MiB) * MiB);
}

const AUTH_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'CredentialsProviderError',
]);
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** An S3 error code or SDK error name as S3 writes them (NoSuchKey, SlowDown): anything else is not repeated. */
const SAFE_NAME = /^[A-Za-z][A-Za-z0-9.]{0,63}$/;
const safeName = (name: string | undefined) => (name && SAFE_NAME.test(name) ? name : 'unknown error');

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * An SDK error as a coded one. The messages are ours, with only an S3 error code and an HTTP
 * status from the answer: neither the credentials, nor the signing details a server may echo
 * (s3rver returns the string it signed), nor any text an endpoint chose reach a message, a log
 * or destinations.last_test.
 */
export function s3Error(error: unknown, location: string): ServiceError {
  if (isCodedError(error)) return error as ServiceError;
  const e = (error ?? {}) as SdkError;
  const name = safeName(e.name);
  const status = e.$metadata?.httpStatusCode;
  const cause = (e as { cause?: SdkError }).cause;
  if (AUTH_ERRORS.has(name) || status === 401 || status === 403) {
    return new ServiceError(
      'destination/auth-failed',
      `${location} refused the credentials (${name}): check the access key id and secret, and that they may use this bucket.`,
    );
  }
  if (name === 'NoSuchBucket') {
    return new ServiceError('destination/bucket-missing', `The bucket of ${location} does not exist: create it first.`);
  }
  if (
    NETWORK_ERRORS.has(e.code ?? '') ||
    NETWORK_ERRORS.has(cause?.code ?? '') ||
    name === 'TimeoutError' ||
    name === 'RequestTimeout'
  ) {
    return new ServiceError(
      'destination/unreachable',
      `${location} cannot be reached (${safeName(NETWORK_ERRORS.has(e.code ?? '') ? e.code : (cause?.code ?? name))}).`,
    );
  }
  return new ServiceError(
    'destination/failed',
    `${location} failed: ${name}${Number.isInteger(status) ? ` (HTTP ${status})` : ''}.`,
  );
}

/** Refuses settings that cannot work before anything is stored or sent. */
export function validS3Settings(
  input: S3Settings,
): Required<Pick<S3Settings, 'bucket' | 'prefix' | 'pathStyle'>> & S3Settings {
  const endpoint = input.endpoint?.trim() || null;
  const region = input.region?.trim() || null;
  if (!endpoint && !region) {
    throw new ServiceError(
      'input/invalid',
      'An S3 destination needs an endpoint (S3-compatible services) or a region (AWS).',
    );
  }
  if (endpoint) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new ServiceError('input/invalid', 'The S3 endpoint is not a URL (https://host[:port]).');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new ServiceError('input/invalid', 'The S3 endpoint is an http:// or https:// URL.');
    }
    // Credentials are given separately and sealed: never inside a URL that is stored and shown.
    if (url.username || url.password) {
      throw new ServiceError('input/invalid', 'The S3 endpoint must not hold credentials: give them separately.');
    }
    refuseMetadataHost(url.hostname);
  }
  const credentialSource = input.credentialSource ?? 'stored';
  if (!S3_CREDENTIAL_SOURCES.includes(credentialSource)) {
    throw new ServiceError('input/invalid', 'The credential source is "stored" or "environment".');
  }
  // The bucket naming rules of S3 (3–63 lower-case letters, digits, dots, hyphens).
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(input.bucket ?? '')) {
    throw new ServiceError('input/invalid', 'A bucket name is 3 to 63 lower-case letters, digits, dots or hyphens.');
  }
  const prefix = (input.prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((part) => part === '..' || part === '.') || prefix.length > 512) {
    throw new ServiceError('input/invalid', 'The prefix is a path inside the bucket, without "." or ".." segments.');
  }
  return { endpoint, region, bucket: input.bucket, prefix, pathStyle: input.pathStyle ?? false, credentialSource };
}

/** Cloud instance metadata services by name: they hand out the machine's own credentials. */
const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
]);
/**
 * What an endpoint must never reach: link-local ranges (169.254.0.0/16, fe80::/10) and the cloud
 * metadata services outside them (AWS's fd00:ec2::/32 of IMDS, DNS and time on IPv6; Alibaba's,
 * Oracle's). A BlockList also matches IPv4-mapped forms (::ffff:169.254.169.254) of its IPv4 rules.
 * Loopback stays allowed (MinIO beside the service, the tests' s3rver).
 */
const FORBIDDEN = new BlockList();
FORBIDDEN.addSubnet('169.254.0.0', 16, 'ipv4');
FORBIDDEN.addAddress('100.100.100.200', 'ipv4');
FORBIDDEN.addAddress('192.0.0.192', 'ipv4');
FORBIDDEN.addSubnet('fe80::', 10, 'ipv6');
FORBIDDEN.addSubnet('fd00:ec2::', 32, 'ipv6');

/** Whether an address (IPv4 or IPv6, brackets allowed) is one an endpoint must never reach (FORBIDDEN). */
export function isForbiddenAddress(address: string): boolean {
  const ip = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (isIPv4(ip)) return FORBIDDEN.check(ip, 'ipv4');
  if (!isIPv6(ip)) return false;
  if (FORBIDDEN.check(ip.replace(/%.*$/, ''), 'ipv6')) return true;
  const embedded = embeddedIPv4(ip);
  return embedded !== null && FORBIDDEN.check(embedded, 'ipv4');
}

/**
 * The IPv4 address an IPv6 one carries to reach it: NAT64 (64:ff9b::/96, and the local-use
 * 64:ff9b:1::/48 with the same layout), IPv4-compatible (::a.b.c.d), IPv4-translated
 * (::ffff:0:a.b.c.d) and 6to4 (2002:AABB:CCDD::). A gateway would take 64:ff9b::a9fe:a9fe to
 * 169.254.169.254 itself.
 */
function embeddedIPv4(ip: string): string | null {
  const h = hextets(ip);
  if (!h) return null;
  const v4 = (high: number, low: number) => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  const zeros = (from: number, to: number) => h.slice(from, to).every((x) => x === 0);
  if (h[0] === 0x64 && h[1] === 0xff9b && (zeros(2, 6) || h[2] === 1)) return v4(h[6]!, h[7]!);
  if (zeros(0, 6) || (zeros(0, 4) && h[4] === 0xffff && h[5] === 0)) return v4(h[6]!, h[7]!);
  if (h[0] === 0x2002) return v4(h[1]!, h[2]!);
  return null;
}

/** The eight 16-bit groups of a valid IPv6 address (isIPv6), a trailing dotted IPv4 included. */
function hextets(ip: string): number[] | null {
  let text = ip.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const [before, after] = [parse(head), parse(tail)];
  const groups =
    tail === undefined ? before : [...before, ...Array<number>(8 - before.length - after.length).fill(0), ...after];
  return groups.length === 8 && groups.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? groups : null;
}

/**
 * A DNS lookup that refuses link-local and metadata addresses: an endpoint name that resolves to
 * one (a hostile DNS record, a rebinding) never gets a connection, let alone signed requests.
 */
export function guardedLookup(resolve: typeof dnsLookup = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, options, (error, address, family) => {
      const addresses = Array.isArray(address) ? address.map((entry) => entry.address) : [address];
      if (!error && addresses.some(isForbiddenAddress)) {
        callback(forbiddenEndpoint(hostname), '', 0);
        return;
      }
      (callback as (...args: unknown[]) => void)(error, address, family);
    });
  };
}

// One pair for every client: keep-alive as the SDK's own default agents, plus the guarded lookup.
const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 50, lookup: guardedLookup() });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 50, lookup: guardedLookup() });

const forbiddenEndpoint = (hostname: string) =>
  new ServiceError(
    'destination/endpoint-forbidden',
    `The S3 endpoint ${hostname} is a link-local or cloud metadata address, which hands out the machine's own credentials: refused. Nothing was changed.`,
  );

/** Fails every call of a destination that has no stored credentials and did not opt into the environment's. */
const missingCredentials = (location: string) => async (): Promise<never> => {
  throw new ServiceError(
    'destination/credentials-required',
    `${location} has no stored credentials: give them (destination set --new-credentials or --credentials-file), or opt into the service's environment with --s3-credentials environment. No request was sent.`,
  );
};

/**
 * The SDK's default chain (undefined), or, for an endpoint not allowed to receive it (a row stored
 * before the operator's list changed), a provider that fails every call before a request is sent.
 */
function environmentCredentials(settings: S3Settings, allowed: readonly string[]) {
  try {
    requireEnvironmentEndpoint(settings, allowed);
    return undefined;
  } catch (error) {
    return async (): Promise<never> => {
      throw error;
    };
  }
}

/** An endpoint as S3_ENV_CREDENTIALS_ENDPOINTS names it: its origin (scheme, host and port). */
export function endpointOrigin(endpoint: string): string | null {
  try {
    return new URL(endpoint).origin;
  } catch {
    return null;
  }
}

/**
 * The service's own credentials (its AWS_* environment, an instance or task role) are signed into
 * every request and their session token travels with it. They go to AWS, or to an endpoint the
 * operator listed (S3_ENV_CREDENTIALS_ENDPOINTS): whoever may set a destination's endpoint
 * through the API must not be able to point the machine's role at a server of their choosing.
 */
export function requireEnvironmentEndpoint(
  settings: Pick<S3Settings, 'endpoint' | 'credentialSource'>,
  allowed: readonly string[],
): void {
  if (settings.credentialSource !== 'environment' || !settings.endpoint) return;
  if (!allowed.includes(endpointOrigin(settings.endpoint) ?? '')) throw environmentRefused(settings.endpoint);
}

const environmentRefused = (endpoint: string) =>
  new ServiceError(
    'destination/environment-credentials-refused',
    `The service's own credentials (environment, instance role) are sent only to AWS, or to an endpoint listed in S3_ENV_CREDENTIALS_ENDPOINTS; ${endpointOrigin(endpoint) ?? 'this endpoint'} is not: give this destination credentials of its own. No request was sent.`,
  );

/** An endpoint's host by name or literal address (the WHATWG parser has normalised 0xa9fe.0xa9fe and the like). */
function refuseMetadataHost(hostname: string): void {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (METADATA_HOSTS.has(host) || isForbiddenAddress(host)) throw forbiddenEndpoint(hostname);
}

/**
 * S3-compatible object storage (AWS S3, R2, MinIO, B2). With `credentialSource: 'environment'`
 * the SDK's default chain signs (AWS, or an endpoint in `environmentEndpoints`); otherwise only the stored credentials, and without them every
 * call fails `destination/credentials-required` before a request is sent.
 */
export function s3Storage(
  input: S3Settings,
  credentials: S3Credentials | null,
  options: {
    maxAttempts?: number;
    /** S3_ENV_CREDENTIALS_ENDPOINTS: the origins environment credentials may be sent to (requireEnvironmentEndpoint). */
    environmentEndpoints?: readonly string[];
  } = {},
): ObjectStorage {
  const settings = validS3Settings(input);
  const bucket = settings.bucket;
  const location = `s3://${bucket}/${settings.prefix}${settings.endpoint ? ` at ${settings.endpoint}` : ` in ${settings.region}`}`;
  const client = new S3Client({
    region: settings.region ?? 'us-east-1',
    endpoint: settings.endpoint ?? undefined,
    forcePathStyle: settings.pathStyle,
    credentials:
      settings.credentialSource === 'environment'
        ? environmentCredentials(settings, options.environmentEndpoints ?? [])
        : (credentials ?? missingCredentials(location)),
    // R2 and MinIO versions reject the SDK's default CRC checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000, httpAgent, httpsAgent },
  });
  const keyOf = (name: string) => {
    if (!isSafeObjectName(name)) throw new ServiceError('input/invalid', `Unsafe object name: ${JSON.stringify(name)}`);
    return settings.prefix ? `${settings.prefix}/${name}` : name;
  };
  const listPrefix = settings.prefix ? `${settings.prefix}/` : '';
  const send = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw s3Error(error, location);
    }
  };
  const abortUpload = async (key: string, uploadId: string) => {
    try {
      await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      if ((error as SdkError).name !== 'NoSuchUpload') throw s3Error(error, location);
    }
  };
  const remove = (name: string) =>
    send(async () => void (await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(name) }))));

  const storage: ObjectStorage = {
    kind: 's3',
    location,

    async createWriter(name, writerOptions = {}): Promise<ObjectWriter> {
      const key = keyOf(name);
      const body = new PassThrough();
      // queueSize 2: one part uploading while the next fills. With 1, lib-storage reads no more of
      // the body until its part is uploaded, and the whole pipeline (pg_dump too) waited for every
      // part: 2.5 s of a 12 s backup to s3rver (job trace, runBackup.storageWait). About three parts
      // in memory.
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body },
        partSize: partSizeFor(writerOptions.expectedBytes),
        queueSize: 2,
        leavePartsOnError: false,
      });
      const done = upload.done();
      let failure: ServiceError | null = null;
      const failed = new Promise<ServiceError>((resolve) => {
        done.catch((error: unknown) => resolve((failure ??= s3Error(error, location))));
      });
      let bytes = 0;
      let state: 'open' | 'committed' | 'aborted' = 'open';
      const stream = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          if (failure) return callback(failure);
          bytes += chunk.length;
          if (body.write(chunk)) return callback();
          void Promise.race([once(body, 'drain').then(() => null), failed]).then(
            (error) => callback(error ?? undefined),
            callback,
          );
        },
        // The end of the stream does not end the upload: S3 shows the object once the upload
        // completes, which is what commit does (an abort after the end leaves nothing behind).
        final: (callback) => callback(failure ?? undefined),
      });
      return {
        // The key, not the upload id, which exists only once the first part is full: recovery
        // aborts whatever upload is open on the key (discardPartial).
        partialRef: JSON.stringify({ bucket, key }),
        stream,
        async commit() {
          if (state !== 'open')
            throw new ServiceError('destination/failed', `The writer of ${name} was ${state} already.`);
          try {
            await finished(stream);
          } catch (error) {
            throw failure ?? s3Error(error, location);
          }
          body.end();
          try {
            await done;
          } catch (error) {
            throw failure ?? s3Error(error, location);
          }
          state = 'committed';
          return { sizeBytes: bytes };
        },
        async abort() {
          if (state === 'aborted') return;
          const wasCommitted = state === 'committed';
          state = 'aborted';
          stream.destroy();
          // Ending the body with an error makes lib-storage abort its multipart upload and settle.
          body.destroy(new Error('aborted'));
          await done.catch(() => {});
          if (wasCommitted) await remove(name);
          // lib-storage's own abort may have failed (a server gone midway): ask again.
          else if (upload.uploadId) await abortUpload(key, upload.uploadId);
        },
      };
    },

    async openRead(name, range) {
      const key = keyOf(name);
      const response = await send(async () => {
        try {
          return await client.send(
            new GetObjectCommand({
              Bucket: bucket,
              Key: key,
              Range: range ? `bytes=${range.start}-${range.end}` : undefined,
            }),
          );
        } catch (error) {
          if ((error as SdkError).name === 'NoSuchKey') {
            throw new ServiceError('backup/file-missing', `${name} is missing on ${location}.`);
          }
          throw error;
        }
      });
      // A connection cut midway fails the read with a coded error, like a failed request.
      const source = response.Body as Readable;
      const out = new PassThrough();
      source.on('error', (error) => out.destroy(s3Error(error, location)));
      out.on('close', () => source.destroy());
      return source.pipe(out);
    },

    async stat(name) {
      const key = keyOf(name);
      return send(async () => {
        try {
          const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          return { sizeBytes: head.ContentLength ?? 0 };
        } catch (error) {
          const e = error as SdkError;
          if (e.name === 'NotFound' || e.name === 'NoSuchKey') return null;
          throw error;
        }
      });
    },

    async list(suffix) {
      const objects: StoredObject[] = [];
      let token: string | undefined;
      do {
        const page = await send(() =>
          client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: listPrefix, ContinuationToken: token })),
        );
        for (const item of page.Contents ?? []) {
          const name = item.Key?.slice(listPrefix.length) ?? '';
          // Only our own flat names: nothing in sub-"directories", nothing another tool put there.
          if (isSafeObjectName(name) && (suffix === undefined || name.endsWith(suffix))) {
            objects.push({ name, sizeBytes: item.Size ?? 0 });
          }
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return objects.sort((a, b) => a.name.localeCompare(b.name));
    },

    remove,

    async discardPartial(partialRef) {
      let ref: { bucket?: string; key?: string };
      try {
        ref = JSON.parse(partialRef) as typeof ref;
      } catch {
        throw new ServiceError('input/invalid', 'Not a partial reference of S3 storage.');
      }
      // Exactly a key this storage's writer makes (prefix + one safe name): a row of the jobs table
      // must not reach another prefix's uploads in a shared bucket.
      const name =
        typeof ref.key === 'string' && ref.key.startsWith(listPrefix) ? ref.key.slice(listPrefix.length) : '';
      if (ref.bucket !== bucket || !isSafeObjectName(name)) {
        throw new ServiceError('input/invalid', `The partial reference is not of ${location}.`);
      }
      const key = listPrefix + name;
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      do {
        const page = await send(() =>
          client.send(
            new ListMultipartUploadsCommand({
              Bucket: bucket,
              Prefix: key,
              KeyMarker: keyMarker,
              UploadIdMarker: uploadIdMarker,
            }),
          ),
        );
        for (const open of page.Uploads ?? []) {
          if (open.Key === key && open.UploadId) await abortUpload(key, open.UploadId);
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
    },

    freeBytes: async () => null,

    async test() {
      const name = `pgbs-probe-${randomBytes(8).toString('hex')}.tmp`;
      const content = `pgbs probe ${new Date().toISOString()}`;
      await send(() => client.send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(name), Body: content })));
      try {
        const read = await storage.openRead(name);
        const chunks: Buffer[] = [];
        for await (const chunk of read) chunks.push(chunk as Buffer);
        if (Buffer.concat(chunks).toString() !== content) {
          throw new ServiceError('destination/failed', `${location} returned other bytes than were written.`);
        }
      } finally {
        await remove(name);
      }
    },
  };
  return storage;
}
