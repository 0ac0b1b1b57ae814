import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { type Codec, decodeStages, isZstd, zstdError } from '../compression/codec.js';
import { type ExpansionLimit, expansionGuard, maxDecodedBytes } from '../compression/expansion-limit.js';
import { decryptStream, isAgeHeader } from '../crypto/age-stream.js';
import { EngineError } from '../errors.js';
import { type ArchiveFormat, SNIFF_BYTES, sniffFormat } from './sniff.js';

/** Bytes the engine reads as a stream, from the start each time: a stored object, an upload, a spool. */
export interface ByteSource {
  open(): Promise<Readable>;
  sizeBytes: number;
  /**
   * age identities (AGE-SECRET-KEY-1…) that open an encrypted source: given per request, held in
   * memory only, never stored with the source.
   */
  identities?: readonly string[];
  /** How far decoding may grow these bytes (default DEFAULT_EXPANSION_LIMIT); the server's config sets it. */
  expansionLimit?: ExpansionLimit;
}

/** The most bytes the source's content may decode to (its gzip or zstd removed): past it, `archive/expansion-too-large`. */
export const decodedCap = (source: Pick<ByteSource, 'sizeBytes' | 'expansionLimit'>) =>
  maxDecodedBytes(source.sizeBytes, source.expansionLimit);

/** A pass-through that fails past the source's `decodedCap`: for what decoding happens elsewhere (pg_restore's script). */
export const decodedGuard = (source: Pick<ByteSource, 'sizeBytes' | 'expansionLimit'>) =>
  expansionGuard(decodedCap(source), source.expansionLimit);

/** A backup as the engine reads it: never a path, so storage may be a directory or a bucket. */
export interface ArchiveSource extends ByteSource {
  /** What the content is once the codec is removed. */
  format: ArchiveFormat;
  codec: Codec;
  /** age-encrypted around the codec: opened with `identities` before anything is decompressed. */
  encrypted?: boolean;
}

/** A local file (an upload, a spool, a file given to the CLI) as a byte source. */
export async function fileSource(path: string): Promise<ByteSource> {
  const { size } = await stat(path);
  return { sizeBytes: size, open: async () => createReadStream(path) };
}

/** pg_dump's output: the source's bytes with its codec removed. */
export async function openContent(
  source: Pick<ArchiveSource, 'open' | 'codec' | 'encrypted' | 'identities' | 'sizeBytes' | 'expansionLimit'>,
): Promise<Readable> {
  const raw = source.encrypted ? await openDecrypted(source) : await source.open();
  const stages = decodeStages(source.codec, decodedCap(source), source.expansionLimit);
  if (stages.length === 0) return raw;
  const content = new PassThrough();
  // Closing `content` early (a head read) ends the read; a decoding error arrives coded.
  raw.once('error', (error) => content.destroy(error));
  for (const stage of stages) stage.once('error', (error) => content.destroy(zstdError(error) as Error));
  content.once('close', () => {
    raw.destroy();
    for (const stage of stages) stage.destroy();
  });
  stages.reduce<Readable>((from, stage) => from.pipe(stage), raw).pipe(content);
  return content;
}

/**
 * The clear stream of an encrypted source. Without an identity: `key/identity-required`; with
 * one that does not open it: `key/wrong-identity` (decryptStream), both before a byte is read on.
 */
export async function openDecrypted(source: Pick<ByteSource, 'open' | 'identities'>): Promise<Readable> {
  const identities = source.identities ?? [];
  if (identities.length === 0) {
    throw new EngineError(
      'key/identity-required',
      'The backup is encrypted: give the age identity that opens it (--identity FILE, or the identity field). Nothing was changed.',
    );
  }
  return decryptStream(await source.open(), { identities });
}

/**
 * What a file is, judged by its bytes, never by its name: its codec (zstd by its magic number)
 * and the format of what the codec holds.
 */
export async function detectSource(source: ByteSource): Promise<ArchiveSource> {
  if (source.sizeBytes === 0) throw new EngineError('archive/empty', 'The file is empty.');
  const head = await readHead(await source.open(), SNIFF_BYTES);
  if (isAgeHeader(head)) {
    // What is inside the encryption decides format and codec; reads stay raw (opened on the way).
    const clear: ByteSource = {
      sizeBytes: source.sizeBytes,
      expansionLimit: source.expansionLimit,
      open: () => openDecrypted(source),
    };
    const inner = await detectSource(clear);
    return { ...source, format: inner.format, codec: inner.codec, encrypted: true };
  }
  if (!isZstd(head)) return { ...source, format: requireFormat(sniffFormat(head)), codec: 'none' };
  const inner = await readHead(await openContent({ ...source, codec: 'zstd' }), SNIFF_BYTES);
  if (inner.length === 0) throw new EngineError('archive/empty', 'The zstd file contains nothing.');
  const format = sniffFormat(inner);
  // A gzip inside zstd is no pg_dump output: nobody writes that.
  if (format === 'plain-gzip') throw unknownFormat();
  return { ...source, format: requireFormat(format), codec: 'zstd' };
}

function requireFormat(format: ArchiveFormat | null): ArchiveFormat {
  if (!format) throw unknownFormat();
  return format;
}

function unknownFormat(): EngineError {
  return new EngineError(
    'archive/unknown-format',
    'The file is not a PostgreSQL backup: expected a pg_dump custom (.dump, .dump.zst), tar (.tar), plain SQL (.sql) or gzipped SQL (.sql.gz) file.',
  );
}

/** Up to `bytes` leading bytes of a stream, which is then closed (an object read stops early). */
export async function readHead(stream: Readable, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if (length >= bytes) break;
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}
