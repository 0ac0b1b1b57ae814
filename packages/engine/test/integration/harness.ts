import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createWriteStream } from 'node:fs';
import {
  type BackupFormat,
  type PgTarget,
  type Prepared,
  type ProgressSnapshot,
  type RestoreOptions,
  createToolResolver,
  inspectArchive,
  nodeProcessRunner,
  parsePgUrl,
  runBackup,
  runRestore,
  systemClock,
} from '../../src/index.js';

export const resolver = createToolResolver({ runner: nodeProcessRunner, clock: systemClock });

export async function tempDir(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pgbs-engine-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Real pg_dump through the engine into a file; returns the file and every progress snapshot. */
export async function backupTo(url: string, file: string, format: BackupFormat, signal = new AbortController().signal) {
  const target = parsePgUrl(url);
  const prepared = await resolver.prepare(target);
  const snapshots: ProgressSnapshot[] = [];
  const result = await runBackup({
    runner: nodeProcessRunner,
    clock: systemClock,
    tools: prepared.tools,
    target,
    format,
    tables: await resolver.tableSizes(target, prepared.tools),
    sink: createWriteStream(file),
    signal,
    onProgress: (s) => snapshots.push(s),
    copyPollIntervalMs: 200,
  });
  return { result, snapshots, prepared };
}

/** Validates the file like the service does, then restores it over the database at url. */
export async function restoreFrom(
  url: string,
  file: string,
  options: Partial<RestoreOptions> = {},
  signal = new AbortController().signal,
  onProgress: (s: ProgressSnapshot) => void = () => {},
) {
  const target: PgTarget = parsePgUrl(url);
  const prepared: Prepared = await resolver.prepare(target);
  const summary = await inspectArchive({ runner: nodeProcessRunner, tools: prepared.tools, path: file, signal });
  await runRestore({
    runner: nodeProcessRunner,
    clock: systemClock,
    tools: prepared.tools,
    serverVersion: prepared.serverVersion,
    target,
    source: { path: file, format: summary.format, sizeBytes: summary.sizeBytes },
    options: { noOwner: false, noPrivileges: false, ...options },
    tables: [],
    postDataItems: summary.postDataItems,
    signal,
    onProgress,
    lockTimeoutSeconds: 5,
    copyPollIntervalMs: 200,
  });
  return summary;
}
