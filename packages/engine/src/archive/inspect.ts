import type { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Codec } from '../compression/codec.js';
import { CodedError } from '../errors.js';
import { abortReason, killOnAbort } from '../pg/abort.js';
import type { ProcessRunner } from '../pg/process.js';
import { classifyToolFailure } from '../pg/tool-errors.js';
import type { PgTools } from '../pg/tools.js';
import { parseTocList, type TocEntry } from '../progress/verbose-lines.js';
import type { TableSize } from '../pg/catalog.js';
import { type PostDataItem, postDataItemsFromToc } from '../progress/weights.js';
import { plainSqlGuardStream } from '../sql/plain-sql-guard.js';
import { DigestStream } from '../streams/digest.js';
import { discardSink } from '../streams/discard.js';
import { LineTail, forEachLine } from '../streams/lines.js';
import { checkTarStructure } from './check-tar-structure.js';
import { gunzipSqlStages, gzipError } from './gunzip.js';
import { requireDumpTrailer } from './require-dump-trailer.js';
import { type ArchiveSource, type ByteSource, decodedCap, decodedGuard, detectSource, openContent } from './source.js';
import { type ArchiveFormat, isArchive } from './sniff.js';

export interface ArchiveSummary {
  format: ArchiveFormat;
  codec: Codec;
  /** age-encrypted around the codec (it was opened with the source's identities to be read). */
  encrypted: boolean;
  sizeBytes: number;
  /** The stored bytes'. */
  sha256: string;
  /** pg_dump's output's: the content once the codec (and a plain file's gzip) is removed. */
  contentSha256: string;
  /** From the archive header (custom and tar only). */
  archiveVersion: string | null;
  sourceServerVersion: string | null;
  pgDumpVersion: string | null;
  databaseName: string | null;
  entryCount: number;
  schemas: string[];
  /** "schema.table", sorted. */
  tables: string[];
  postDataItems: number;
  largeObjects: number;
}

export interface InspectRequest {
  runner: ProcessRunner;
  tools: PgTools;
  source: ArchiveSource;
  signal: AbortSignal;
}

/**
 * Validates a whole file in one read: it is hashed (stored bytes and content) while pg_restore
 * (archives) or the gunzip + SQL guard (plain) consume every byte, so truncation, corruption and
 * unsafe SQL are all found before anything is stored or restored. The format and codec come
 * from the bytes.
 */
export async function inspectArchive(
  request: Omit<InspectRequest, 'source'> & { source: ByteSource },
): Promise<ArchiveSummary> {
  const source = await detectSource(request.source);
  if (request.signal.aborted) throw abortReason(request.signal);
  const detected = { ...request, source };
  const stored = new DigestStream();
  const content = new DigestStream();
  if (isArchive(source.format)) {
    if (source.format === 'tar') await checkTarStructure(await openContent(source));
    const toc = await readToc(detected);
    await readWholeArchive(detected, stored, content);
    return summary(source, stored, content, summarizeToc(toc));
  }
  await readWholePlainSql(source, stored, content, request.signal);
  return summary(source, stored, content, {
    archiveVersion: null,
    sourceServerVersion: null,
    pgDumpVersion: null,
    databaseName: null,
    entryCount: 0,
    schemas: [],
    tables: [],
    postDataItems: 0,
    largeObjects: 0,
  });
}

function summary(
  source: ArchiveSource,
  stored: DigestStream,
  content: DigestStream,
  toc: ReturnType<typeof summarizeToc>,
): ArchiveSummary {
  const { format, codec } = source;
  return {
    format,
    codec,
    encrypted: source.encrypted === true,
    sizeBytes: stored.bytes,
    sha256: stored.sha256(),
    contentSha256: content.sha256(),
    ...toc,
  };
}

/** The TOC alone (cheap: pg_restore reads only the header), for summaries. */
export async function readArchiveSummary(request: InspectRequest): Promise<ReturnType<typeof summarizeToc>> {
  return summarizeToc(await readToc(request));
}

/**
 * The archive's post-data steps (index builds, constraints, ...) weighted by the sizes of the
 * tables each one reads, from the TOC's dependencies: without them every step weighs the same and
 * the bar crawls through a thousand small primary keys, then waits on the one big index.
 */
export async function readPostDataItems(
  request: InspectRequest,
  tables: readonly TableSize[],
): Promise<PostDataItem[]> {
  return postDataItemsFromToc(await readTocEntries(request), tables);
}

/** Every TOC entry with its dependencies (`pg_restore --list --verbose`). */
export async function readTocEntries(request: InspectRequest): Promise<TocEntry[]> {
  return (await readToc(request, ['--verbose'])).entries;
}

async function readToc(request: InspectRequest, extraArgs: string[] = []): Promise<ReturnType<typeof parseTocList>> {
  return parseTocList(await pgRestoreOutput(request, ['--list', ...extraArgs]));
}

/**
 * A short pg_restore run (a listing, a script from the TOC) reading the content from its stdin:
 * it stops reading where it has what it needs, and the read is closed then.
 */
export async function pgRestoreOutput(request: InspectRequest, args: readonly string[]): Promise<string> {
  const child = request.runner.spawn(request.tools.pgRestore, args);
  const detach = killOnAbort(request.signal, [child]);
  const stderr = new LineTail(200);
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  try {
    const [exit, , fed] = await Promise.all([
      child.exit,
      forEachLine(child.stderr, (line) => stderr.push(line)),
      feed(request.source, [], child.stdin),
    ]);
    if (request.signal.aborted) throw abortReason(request.signal);
    if (exit.code !== 0)
      throw decodingFailure(fed) ?? classifyToolFailure('pg_restore', stderr.all(), 'archive/corrupt');
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    detach();
    child.kill('SIGKILL');
  }
}

/**
 * Pipes the source's content through `stages` into a tool's stdin. Never rejects: the tool may
 * stop reading early (a listing, a fatal error), and its exit status says why; the error is
 * returned so that a decoding failure (a zstd bomb) keeps its own code. A source that fails
 * before its pipeline starts (a read cut while an age header is opened) closes the tool's stdin
 * too: the tool would otherwise wait for input forever.
 */
export async function feed(
  source: Parameters<typeof openContent>[0],
  stages: readonly Transform[],
  sink: Writable,
): Promise<unknown> {
  try {
    await pipeline([await openContent(source), ...stages, sink]);
    return null;
  } catch (error) {
    for (const stream of [...stages, sink]) stream.destroy();
    return error;
  }
}

/**
 * A coded error reading the source raised: its decoding's (the window cap, a corrupt frame) or its
 * storage's (a bucket cut midway: destination/unreachable), which pg_restore's complaint about the
 * input it lost must not hide behind archive/corrupt. Null otherwise.
 */
export function decodingFailure(error: unknown): CodedError | null {
  return error instanceof CodedError ? error : null;
}

function summarizeToc(toc: ReturnType<typeof parseTocList>) {
  const tables = toc.entries.filter((entry: TocEntry) => entry.description === 'TABLE');
  return {
    archiveVersion: toc.header.archiveVersion ?? null,
    sourceServerVersion: toc.header.serverVersion ?? null,
    pgDumpVersion: toc.header.pgDumpVersion ?? null,
    databaseName: toc.header.databaseName ?? null,
    entryCount: toc.entries.length,
    schemas: [
      ...new Set(toc.entries.filter((e: TocEntry) => e.description === 'SCHEMA').map((e: TocEntry) => e.name)),
    ].sort(),
    tables: tables.map((e: TocEntry) => `${e.schema}.${e.name}`).sort(),
    postDataItems: toc.entries.filter((e: TocEntry) => e.section === 'post-data').length,
    largeObjects: toc.entries.filter((e: TocEntry) => e.description === 'BLOB').length,
  };
}

/**
 * pg_restore's whole script decompresses every data block: the only full integrity check. The
 * script is counted on its way to nowhere, against the archive's own compression (pg_dump -Z9
 * inside a custom file): a few KiB at rest may hold terabytes of rows, which the restore would
 * pour into the target. Past the expansion cap the archive is refused like any other bomb.
 */
async function readWholeArchive(request: InspectRequest, stored: DigestStream, content: DigestStream): Promise<void> {
  const child = request.runner.spawn(request.tools.pgRestore, ['--file', '-']);
  const detach = killOnAbort(request.signal, [child]);
  const stderr = new LineTail(40);
  const script = pipeline(child.stdout, decodedGuard(request.source), discardSink());
  try {
    const [exit, , fed, counted] = await Promise.all([
      child.exit,
      forEachLine(child.stderr, (line) => stderr.push(line)),
      feed(storedDigest(request.source, stored), [content], child.stdin),
      script.then(
        () => null,
        (error: unknown) => {
          // pg_restore would go on decompressing into a closed pipe: stop it now.
          child.kill('SIGKILL');
          return error;
        },
      ),
    ]);
    if (request.signal.aborted) throw abortReason(request.signal);
    const failure = decodingFailure(counted) ?? decodingFailure(fed);
    if (failure) throw failure;
    if (exit.code !== 0) throw classifyToolFailure('pg_restore', stderr.all(), 'archive/corrupt');
  } finally {
    detach();
  }
}

/** The source with its stored bytes counted and hashed as they are read (by one read: a digest is used once). */
export function storedDigest(source: ArchiveSource, digest: DigestStream): ArchiveSource {
  return {
    ...source,
    async open() {
      const raw = await source.open();
      pipeline(raw, digest).catch((error: unknown) => digest.destroy(error as Error));
      return digest;
    },
  };
}

async function readWholePlainSql(
  source: ArchiveSource,
  stored: DigestStream,
  content: DigestStream,
  signal: AbortSignal,
): Promise<void> {
  const stages = source.format === 'plain-gzip' ? gunzipSqlStages(decodedCap(source), source.expansionLimit) : [];
  const discard = discardSink();
  try {
    await pipeline(
      [
        await openContent(storedDigest(source, stored)),
        ...stages,
        content,
        plainSqlGuardStream(),
        requireDumpTrailer(),
        discard,
      ],
      { signal },
    );
  } catch (error) {
    if (signal.aborted) throw abortReason(signal);
    throw gzipError(error);
  }
}
