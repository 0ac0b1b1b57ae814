import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError } from '../errors.js';
import { abortReason, killOnAbort } from '../pg/abort.js';
import type { ProcessRunner } from '../pg/process.js';
import { ToolFailure, runTool } from '../pg/run-tool.js';
import { classifyToolFailure } from '../pg/tool-errors.js';
import type { PgTools } from '../pg/tools.js';
import { parseTocList, type TocEntry } from '../progress/verbose-lines.js';
import type { TableSize } from '../pg/catalog.js';
import { type PostDataItem, postDataItemsFromToc } from '../progress/weights.js';
import { plainSqlGuardStream } from '../sql/plain-sql-guard.js';
import { DigestStream } from '../streams/digest.js';
import { LineTail, forEachLine } from '../streams/lines.js';
import { checkTarStructure } from './check-tar-structure.js';
import { gunzipSqlStages, gzipError } from './gunzip.js';
import { requireDumpTrailer } from './require-dump-trailer.js';
import { type ArchiveFormat, SNIFF_BYTES, isArchive, sniffFormat } from './sniff.js';

export interface ArchiveSummary {
  format: ArchiveFormat;
  sizeBytes: number;
  sha256: string;
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
  path: string;
  signal: AbortSignal;
}

export async function detectFormat(path: string): Promise<{ format: ArchiveFormat; sizeBytes: number }> {
  const { size } = await stat(path);
  if (size === 0) throw new EngineError('archive/empty', 'The file is empty.');
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(SNIFF_BYTES, size));
    await handle.read(head, 0, head.length, 0);
    const format = sniffFormat(head);
    if (!format) {
      throw new EngineError(
        'archive/unknown-format',
        'The file is not a PostgreSQL backup: expected a pg_dump custom (.dump), tar (.tar), plain SQL (.sql) or gzipped SQL (.sql.gz) file.',
      );
    }
    return { format, sizeBytes: size };
  } finally {
    await handle.close();
  }
}

/**
 * Validates a whole file in one read: it is hashed while pg_restore (archives)
 * or the gunzip + SQL guard (plain) consume every byte, so truncation,
 * corruption and unsafe SQL are all found before anything is stored or restored.
 */
export async function inspectArchive(request: InspectRequest): Promise<ArchiveSummary> {
  const { format, sizeBytes } = await detectFormat(request.path);
  if (request.signal.aborted) throw abortReason(request.signal);
  const digest = new DigestStream();
  if (isArchive(format)) {
    if (format === 'tar') await checkTarStructure(request.path);
    const toc = await readToc(request);
    await readWholeArchive(request, digest);
    return { format, sizeBytes, sha256: digest.sha256(), ...summarizeToc(toc) };
  }
  await readWholePlainSql(request.path, format, digest, request.signal);
  return {
    format,
    sizeBytes,
    sha256: digest.sha256(),
    archiveVersion: null,
    sourceServerVersion: null,
    pgDumpVersion: null,
    databaseName: null,
    entryCount: 0,
    schemas: [],
    tables: [],
    postDataItems: 0,
    largeObjects: 0,
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
  try {
    const { stdout } = await runTool(request.runner, request.tools.pgRestore, ['--list', ...extraArgs, request.path], {
      signal: request.signal,
    });
    return parseTocList(stdout);
  } catch (error) {
    if (request.signal.aborted) throw abortReason(request.signal);
    if (error instanceof ToolFailure) throw classifyToolFailure('pg_restore', error.stderr, 'archive/corrupt');
    throw error;
  }
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

/** pg_restore into /dev/null decompresses every data block: the only full integrity check. */
async function readWholeArchive(request: InspectRequest, digest: DigestStream): Promise<void> {
  const child = request.runner.spawn(request.tools.pgRestore, ['--file', '/dev/null']);
  const detach = killOnAbort(request.signal, [child]);
  const stderr = new LineTail(40);
  child.stdout.resume();
  try {
    const [exit] = await Promise.all([
      child.exit,
      forEachLine(child.stderr, (line) => stderr.push(line)),
      // pg_restore may stop reading early on a bad file; its exit status says why.
      pipeline(createReadStream(request.path), digest, child.stdin).catch(() => {}),
    ]);
    if (request.signal.aborted) throw abortReason(request.signal);
    if (exit.code !== 0) throw classifyToolFailure('pg_restore', stderr.all(), 'archive/corrupt');
  } finally {
    detach();
  }
}

async function readWholePlainSql(
  path: string,
  format: ArchiveFormat,
  digest: DigestStream,
  signal: AbortSignal,
): Promise<void> {
  const stages = format === 'plain-gzip' ? gunzipSqlStages() : [];
  const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  try {
    await pipeline([createReadStream(path), digest, ...stages, plainSqlGuardStream(), requireDumpTrailer(), discard], {
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw abortReason(signal);
    throw gzipError(error);
  }
}
