import { type Readable, Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { ArchiveSource } from '../archive/source.js';
import { decodedCap, openDecrypted } from '../archive/source.js';
import { decodeStages, zstdError } from '../compression/codec.js';
import { expansionGuard } from '../compression/expansion-limit.js';
import { discardSink } from '../streams/discard.js';
import { gzipError } from '../archive/gunzip.js';
import { abortReason } from '../pg/abort.js';
import { DigestStream } from '../streams/digest.js';
import { encryptTransform } from './age-stream.js';

export interface ReencryptRequest {
  /** The stored bytes; an encrypted source carries the identities that open it. */
  source: Pick<
    ArchiveSource,
    'open' | 'codec' | 'format' | 'encrypted' | 'identities' | 'sizeBytes' | 'expansionLimit'
  >;
  /** The age recipients the new bytes are encrypted to; none: they are written decrypted. */
  encryptTo: readonly string[];
  sink: Writable;
  signal: AbortSignal;
  /** Stored bytes read so far (progress). */
  onBytes?: (bytes: number) => void;
}

export interface ReencryptResult {
  /** The source's stored bytes, as read. */
  source: { sha256: string; sizeBytes: number };
  /** The bytes written to the sink. */
  written: { sha256: string; sizeBytes: number };
  /** pg_dump's output, decoded on the side while the clear stream was encrypted. */
  contentSha256: string;
}

/**
 * One pass over a stored backup: read (hashed), decrypted when encrypted, encrypted to
 * `encryptTo` (or left decrypted) into the sink (hashed), while a side branch decodes the clear stream to hash
 * pg_dump's output. The new bytes cannot be opened here (the service holds no identity of the
 * new recipients): the content digest computed on the way is what proves they hold the same dump.
 */
export async function reencryptStream(request: ReencryptRequest): Promise<ReencryptResult> {
  if (request.signal.aborted) throw abortReason(request.signal);
  // Before anything is read: a bad recipient fails with nothing written.
  const encrypt = request.encryptTo.length > 0 ? [await encryptTransform({ recipients: request.encryptTo })] : [];
  const read = new DigestStream(request.onBytes);
  const written = new DigestStream();
  const content = new DigestStream();
  const { source } = request;
  // What pg_dump wrote: the outer zstd removed, and plain SQL's own gzip (contentSha256 is of the SQL).
  // Capped like any decode: the side branch must not inflate a bomb either.
  const cap = decodedCap(source);
  const decode = [
    ...decodeStages(source.codec, cap, source.expansionLimit),
    ...(source.format === 'plain-gzip' ? [createGunzip(), expansionGuard(cap, source.expansionLimit)] : []),
  ];
  const side = new Tee([...decode, content]);
  const hashed = async () => forward(await source.open(), read);
  const clear: Readable = source.encrypted
    ? await openDecrypted({ identities: source.identities, open: hashed })
    : await hashed();
  try {
    await pipeline([clear, side, ...encrypt, written, request.sink], { signal: request.signal });
  } catch (error) {
    if (request.signal.aborted) throw abortReason(request.signal);
    throw source.codec === 'zstd' ? zstdError(error) : gzipError(error);
  }
  return {
    source: { sha256: read.sha256(), sizeBytes: read.bytes },
    written: { sha256: written.sha256(), sizeBytes: written.bytes },
    contentSha256: content.sha256(),
  };
}

/**
 * `from` piped into `into`, whose readers then see `from`'s error too (pipe alone drops it); and
 * `into` destroyed (the pass failed downstream) destroys `from`, which pipe alone leaves open: no
 * file descriptor or S3 request outlives the pass. Only then: `into` closes after `from` has
 * ended on a pass that succeeded.
 */
function forward(from: Readable, into: Transform): Transform {
  from.once('error', (error) => into.destroy(error));
  into.once('close', () => {
    if (!from.readableEnded) from.destroy();
  });
  return from.pipe(into);
}

/** A pass-through that also feeds `stages` (ending in a discard), with their backpressure; their error fails it. */
class Tee extends Transform {
  private readonly input = new Transform({ transform: (chunk, _encoding, done) => done(null, chunk) });
  private readonly done: Promise<void>;

  constructor(stages: readonly Transform[]) {
    super();
    this.done = pipeline([this.input, ...stages, discardSink()]);
    this.done.catch((error: unknown) => this.destroy(error as Error));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.push(chunk);
    if (this.input.write(chunk)) callback();
    else this.input.once('drain', () => callback());
  }

  override _flush(callback: TransformCallback): void {
    this.input.end();
    this.done.then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.input.destroy();
    callback(error);
  }
}
