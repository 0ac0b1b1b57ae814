import { type Prepared, fileSource, inspectArchive, isArchive, readPostDataItems } from '@pgbs/engine';
import type { BackupsDeps } from './backups-deps.js';
import type { RestoreChoices, RestoreRequestInput, RestoreSource } from './backup-types.js';
import { inspectRequest, requireFile, storedSource } from './backup-files.js';
import type { ResolvedTarget } from '../targets/target-connections.js';
import { directInput } from './restore-input.js';

/** What a restore would read: a stored backup, or a file from outside validated completely first. */
export async function restoreSource(
  deps: BackupsDeps,
  source: RestoreRequestInput['source'],
  prepared: Prepared,
): Promise<RestoreSource> {
  if ('backupId' in source) {
    const backup = await deps.backups.get(source.backupId);
    await requireFile(deps, backup);
    const stored = storedSource(deps, backup);
    const postDataItems = isArchive(stored.format)
      ? await readPostDataItems(inspectRequest(deps, stored, prepared.tools), backup.tableSizes)
      : 0;
    return {
      backupId: backup.id,
      fileName: backup.fileName,
      filePath: null,
      label: `backup ${backup.fileName}`,
      format: stored.format,
      codec: stored.codec,
      foreign: backup.origin === 'upload',
      sha256: backup.sha256,
      contentSha256: backup.contentSha256,
      databaseName: backup.databaseName,
      sizeBytes: backup.sizeBytes,
      tables: backup.tableSizes,
      postDataItems,
    };
  }
  const summary = await inspectArchive(inspectRequest(deps, await fileSource(source.filePath), prepared.tools));
  return {
    backupId: null,
    fileName: null,
    filePath: source.filePath,
    label: source.label ?? `file ${source.filePath}`,
    format: summary.format,
    codec: summary.codec,
    foreign: true,
    sha256: summary.sha256,
    contentSha256: summary.contentSha256,
    databaseName: summary.databaseName,
    sizeBytes: summary.sizeBytes,
    tables: [],
    postDataItems: summary.postDataItems,
  };
}

/** The pre-flight's request: what the restore would do as the connection's role (reading only the archive's head). */
export function checkRequest(
  deps: Pick<BackupsDeps, 'runner' | 'placement' | 'copies'>,
  target: ResolvedTarget,
  prepared: Prepared,
  source: RestoreSource,
  options: Pick<RestoreChoices, 'noOwner' | 'skipUnrestorable' | 'terminateBlockers'>,
) {
  return {
    runner: deps.runner,
    tools: prepared.tools,
    signal: AbortSignal.timeout(10 * 60_000),
    connection: target.connection,
    source: directInput(deps, source),
    noOwner: options.noOwner,
    skipUnrestorable: options.skipUnrestorable ?? false,
    terminateBlockers: options.terminateBlockers ?? false,
  };
}
