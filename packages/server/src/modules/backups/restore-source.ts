import { type ArchiveFormat, type Prepared, inspectArchive, isArchive, readPostDataItems } from '@pgbs/engine';
import type { BackupsDeps } from './backups-deps.js';
import type { RestoreChoices, RestoreRequestInput, RestoreSource } from './backup-types.js';
import { inspectRequest, requireFile } from './backup-files.js';
import type { ResolvedTarget } from '../targets/target-connections.js';

/** What a restore would read: a stored backup, or a file from outside validated completely first. */
export async function restoreSource(
  deps: BackupsDeps,
  source: RestoreRequestInput['source'],
  prepared: Prepared,
): Promise<RestoreSource> {
  if ('backupId' in source) {
    const backup = await deps.backups.get(source.backupId);
    await requireFile(deps, backup);
    const path = deps.storage.pathOf(backup.fileName);
    const format = backup.format as ArchiveFormat;
    const postDataItems = isArchive(format)
      ? await readPostDataItems(inspectRequest(deps, path, prepared.tools), backup.tableSizes)
      : 0;
    return {
      backupId: backup.id,
      label: `backup ${backup.fileName}`,
      path,
      format,
      sha256: backup.sha256,
      databaseName: backup.databaseName,
      sizeBytes: backup.sizeBytes,
      tables: backup.tableSizes,
      postDataItems,
    };
  }
  const summary = await inspectArchive(inspectRequest(deps, source.filePath, prepared.tools));
  return {
    backupId: null,
    label: source.label ?? `file ${source.filePath}`,
    path: source.filePath,
    format: summary.format,
    sha256: summary.sha256,
    databaseName: summary.databaseName,
    sizeBytes: summary.sizeBytes,
    tables: [],
    postDataItems: summary.postDataItems,
  };
}

/** The pre-flight's request: what the restore would do as the connection's role. */
export function checkRequest(
  deps: Pick<BackupsDeps, 'runner'>,
  target: ResolvedTarget,
  prepared: Prepared,
  source: { path: string; format: ArchiveFormat },
  options: Pick<RestoreChoices, 'noOwner' | 'skipUnrestorable' | 'terminateBlockers'>,
) {
  return {
    runner: deps.runner,
    tools: prepared.tools,
    signal: AbortSignal.timeout(10 * 60_000),
    connection: target.connection,
    source: { path: source.path, format: source.format },
    noOwner: options.noOwner,
    skipUnrestorable: options.skipUnrestorable ?? false,
    terminateBlockers: options.terminateBlockers ?? false,
  };
}
