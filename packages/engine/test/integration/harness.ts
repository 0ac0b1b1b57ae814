import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWriteStream } from 'node:fs';
import {
  type BackupFormat,
  type Codec,
  type ExpansionLimit,
  type PgTarget,
  type Prepared,
  type ProgressSnapshot,
  type RestoreOptions,
  type TableSize,
  createToolResolver,
  fileSource,
  inspectArchive,
  isArchive,
  nodeProcessRunner,
  parsePgUrl,
  readPostDataItems,
  runBackup,
  restoreDatabase,
  systemClock,
} from '../../src/index.js';

export const resolver = createToolResolver({ runner: nodeProcessRunner, clock: systemClock });

export async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pgbs-engine-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Real pg_dump through the engine into a file; returns the file and every progress snapshot. */
export async function backupTo(
  url: string,
  file: string,
  format: BackupFormat,
  {
    signal = new AbortController().signal,
    codec = 'gzip',
    compressionLevel,
  }: { signal?: AbortSignal; codec?: Codec; compressionLevel?: number } = {},
) {
  const target = parsePgUrl(url);
  const prepared = await resolver.prepare(target);
  const snapshots: ProgressSnapshot[] = [];
  const tables = await resolver.tableSizes(target, prepared.tools);
  const result = await runBackup({
    runner: nodeProcessRunner,
    clock: systemClock,
    tools: prepared.tools,
    target,
    format,
    codec,
    compressionLevel,
    tables,
    sink: createWriteStream(file),
    signal,
    onProgress: (s) => snapshots.push(s),
    copyPollIntervalMs: 200,
  });
  return { result, snapshots, prepared, tables };
}

/**
 * Validates the file like the service does, then restores it over the database at url. With the
 * table sizes of the backup, progress is weighted as the service does it for its own backups.
 */
export async function restoreFrom(
  url: string,
  file: string,
  options: Partial<RestoreOptions> = {},
  {
    signal = new AbortController().signal,
    onProgress = () => {},
    tables = [],
    skipUnrestorable = false,
    contentSha256,
    expansionLimit,
  }: {
    signal?: AbortSignal;
    onProgress?: (s: ProgressSnapshot) => void;
    tables?: readonly TableSize[];
    skipUnrestorable?: boolean;
    /** Expect this content digest instead of the one the validation read (a tampered catalog). */
    contentSha256?: string;
    /** The restore's own decompression cap (the inspection before it keeps the default). */
    expansionLimit?: ExpansionLimit;
  } = {},
) {
  const target: PgTarget = parsePgUrl(url);
  const prepared: Prepared = await resolver.prepare(target);
  const summary = await inspectArchive({
    runner: nodeProcessRunner,
    tools: prepared.tools,
    source: await fileSource(file),
    signal,
  });
  const source = { ...(await fileSource(file)), format: summary.format, codec: summary.codec };
  const request = { runner: nodeProcessRunner, tools: prepared.tools, source, signal };
  const weighted = tables.length > 0 && isArchive(summary.format);
  await restoreDatabase({
    runner: nodeProcessRunner,
    clock: systemClock,
    tools: prepared.tools,
    serverVersion: prepared.serverVersion,
    connection: target,
    jobId: randomUUID(),
    roleValidForSeconds: 600,
    skipUnrestorable,
    source: {
      ...source,
      sha256: summary.sha256,
      contentSha256: contentSha256 ?? summary.contentSha256,
      expansionLimit,
    },
    options: { noOwner: false, noPrivileges: false, ...options },
    tables,
    postDataItems: weighted ? await readPostDataItems(request, tables) : summary.postDataItems,
    signal,
    onProgress,
    lockWait: { totalSeconds: 5, attemptMs: 1000, terminateBlockers: false },
    copyPollIntervalMs: 200,
  });
  return summary;
}
