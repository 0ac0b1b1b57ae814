import { Readable, type Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Clock } from '../clock.js';
import { type Codec, zstdCompressor } from '../compression/codec.js';
import { encryptTransform } from '../crypto/age-stream.js';
import { EngineError } from '../errors.js';
import { abortReason, killOnAbort } from '../pg/abort.js';
import type { TableSize } from '../pg/catalog.js';
import type { PgTarget } from '../pg/connection.js';
import type { ProcessRunner } from '../pg/process.js';
import { classifyToolFailure } from '../pg/tool-errors.js';
import type { PgTools } from '../pg/tools.js';
import { pollCopyProgressInto } from '../progress/copy-progress-poller.js';
import { ProgressTracker, type ProgressSnapshot } from '../progress/progress-tracker.js';
import { parseDumpVerboseLine } from '../progress/verbose-lines.js';
import { ROW_COST_BYTES } from '../progress/weights.js';
import { ChunkBatcher, RecyclingChunkBatcher } from '../streams/chunk-batcher.js';
import { DigestStream } from '../streams/digest.js';
import { LineTail, forEachLine } from '../streams/lines.js';

export type BackupFormat = 'custom' | 'plain';

export interface BackupRequest {
  runner: ProcessRunner;
  clock: Clock;
  tools: PgTools;
  target: PgTarget;
  format: BackupFormat;
  /**
   * Custom format: zstd wraps `pg_dump -Z0` in zstd; gzip is pg_dump's own compression; none
   * stores `pg_dump -Z0` as it is. Plain SQL is always gzipped (`.sql.gz`, readable anywhere).
   */
  codec: Codec;
  /** zstd 1-19 or gzip 0-9; undefined keeps the codec's default (zstd 1, pg_dump's own, gzip 6). */
  compressionLevel?: number;
  /** Sizes read before the dump: they weight the progress. */
  tables: readonly TableSize[];
  /** age recipients (age1…) the stored bytes are encrypted to, after the codec; absent or empty: in clear. */
  encryptTo?: readonly string[];
  /** Where the bytes go (the storage's partial file). */
  sink: Writable;
  signal: AbortSignal;
  onProgress: (snapshot: ProgressSnapshot) => void;
  /** Seconds pg_dump waits for a table lock before failing instead of hanging. */
  lockWaitTimeoutSeconds?: number;
  /** How often the server's COPY progress is read (default 250 ms). */
  copyPollIntervalMs?: number;
  /** Shows up in pg_stat_activity, so an operator can tell what a session is. */
  applicationName?: string;
}

export interface BackupResult {
  /** What is stored: its codec, size and digest. */
  codec: Codec;
  bytes: number;
  sha256: string;
  /** pg_dump's own output's digest, which every restore checks before COMMIT. */
  contentSha256: string;
  tableCount: number;
  durationMs: number;
  /** What pg_dump said it left out, e.g. subscriptions when the role is no superuser. */
  omitted: string[];
}

/**
 * zstd's level when none is set. `pnpm bench compression` (docs/benchmarks.md): on the three shapes
 * of data it generates, level 3 took 1.5-2.6× the CPU of level 1 and wrote larger files on two of
 * them (hex digests, jsonb), 1.5 % smaller on the third; its extra match-finding costs most, and
 * finds least, on high-entropy text such as digests.
 */
export const DEFAULT_ZSTD_LEVEL = 1;
const DEFAULT_GZIP_LEVEL = 6;

/** The codec the stored bytes have: plain SQL's gzip, the outer zstd, or none around pg_dump's output. */
export function storedCodec(format: BackupFormat, codec: Codec): Codec {
  if (format === 'plain') return 'gzip';
  return codec === 'zstd' ? 'zstd' : 'none';
}

export function pgDumpArgs(
  request: Pick<BackupRequest, 'format' | 'codec' | 'compressionLevel' | 'lockWaitTimeoutSeconds'>,
): string[] {
  // No --file: pg_dump writes to stdout then ("-f -" would create a file named "-").
  const args = ['--verbose', '--format', request.format === 'custom' ? 'custom' : 'plain'];
  if (request.format === 'custom') {
    if (request.codec !== 'gzip') args.push('--compress=0');
    else if (request.compressionLevel !== undefined) args.push(`--compress=${request.compressionLevel}`);
  }
  if (request.lockWaitTimeoutSeconds !== undefined) {
    args.push(`--lock-wait-timeout=${request.lockWaitTimeoutSeconds * 1000}`);
  }
  return args;
}

/**
 * pg_dump streamed into the sink in one pass: its output is hashed (the content digest),
 * compressed (zstd, or gzip for plain SQL), and the stored bytes hashed and counted.
 */
export async function runBackup(request: BackupRequest): Promise<BackupResult> {
  const started = request.clock.now();
  if (request.signal.aborted) throw abortReason(request.signal);
  // Before pg_dump starts: a bad recipient fails with nothing done.
  const encrypt =
    request.encryptTo && request.encryptTo.length > 0
      ? [await encryptTransform({ recipients: request.encryptTo })]
      : [];
  const tracker = new ProgressTracker({
    tables: request.tables,
    rowCostBytes: ROW_COST_BYTES.dump,
    postDataItems: 0,
    clock: request.clock,
    onSnapshot: request.onProgress,
  });
  const applicationName = request.applicationName ?? `pgbs-backup-${process.pid}`;
  const child = request.runner.spawn(request.tools.pgDump, pgDumpArgs(request), {
    env: { ...request.target.env, PGAPPNAME: applicationName },
  });
  child.stdin.end();
  const poller = pollCopyProgressInto(request, applicationName, tracker);
  const detach = killOnAbort(request.signal, [child]);
  const stderr = new LineTail(100);
  const content = new DigestStream((bytes) => tracker.setBytes(bytes));
  const codec = storedCodec(request.format, request.codec);
  const { batcher, compress } = compressionStages(request, codec);
  // Without a codec or encryption the stored bytes are pg_dump's output: one digest serves for both.
  const transforms = [...compress, ...encrypt];
  const stored = transforms.length > 0 ? new DigestStream() : content;
  const stages = transforms.length > 0 ? [content, ...transforms, stored] : [content];
  try {
    const [exit] = await Promise.all([
      child.exit,
      forEachLine(child.stderr, (line) => {
        stderr.push(line);
        const event = parseDumpVerboseLine(line);
        if (event) tracker.handle(event);
      }),
      pipeline([child.stdout as Readable, batcher, ...stages, request.sink]).catch((error: unknown) => {
        child.kill('SIGKILL');
        throw error;
      }),
    ]);
    if (request.signal.aborted) throw abortReason(request.signal);
    if (exit.code !== 0) {
      throw (
        permissionDenied(stderr.all(), request.target.display) ??
        classifyToolFailure('pg_dump', stderr.all(), 'pg/tool-failed', { target: request.target.display })
      );
    }
    tracker.finish();
    return {
      codec,
      bytes: stored.bytes,
      sha256: stored.sha256(),
      contentSha256: content.sha256(),
      tableCount: request.tables.length,
      durationMs: request.clock.now() - started,
      omitted: stderr.all().flatMap((line) => /^pg_dump: warning: (.*not dumped.*)$/.exec(line)?.[1] ?? []),
    };
  } catch (error) {
    if (request.signal.aborted) throw abortReason(request.signal);
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new EngineError('backup/disk-full', 'The backup storage is full: the backup was not kept.');
    }
    throw error;
  } finally {
    poller.stop();
    detach();
    tracker.dispose();
  }
}

/** pg_dump's output in batches, and the codec's compressor if any. */
function compressionStages(
  request: Pick<BackupRequest, 'codec' | 'compressionLevel'>,
  codec: Codec,
): { batcher: Transform; compress: Transform[] } {
  const level = request.compressionLevel;
  if (codec === 'zstd') {
    // zstd copies what it is given: its batches can be reused once it has taken them.
    const batcher = new RecyclingChunkBatcher();
    return { batcher, compress: [zstdCompressor(level ?? DEFAULT_ZSTD_LEVEL, (chunk) => batcher.recycle(chunk))] };
  }
  if (codec === 'gzip') {
    const gzipLevel = request.codec === 'gzip' ? (level ?? DEFAULT_GZIP_LEVEL) : DEFAULT_GZIP_LEVEL;
    return { batcher: new ChunkBatcher(), compress: [createGzip({ level: gzipLevel })] };
  }
  return { batcher: new ChunkBatcher(), compress: [] };
}

/** A role that is no superuser may lack the right to read an object: name it. */
function permissionDenied(stderr: readonly string[], target: string): EngineError | null {
  const text = stderr.join('\n');
  const denied =
    /permission denied for (table|sequence|schema|large object|view|materialized view|function) ([^\n]+)/.exec(text);
  if (!denied) return null;
  const [, kind, name] = denied;
  return new EngineError(
    'backup/permission-denied',
    `The role the service connects as may not read ${kind} ${name!.trim()} of ${target}: grant it SELECT (or make the database's owner own it), or back up with a role that can read everything (docs/security.md). Nothing was kept.`,
    { kind, name: name!.trim() },
  );
}
