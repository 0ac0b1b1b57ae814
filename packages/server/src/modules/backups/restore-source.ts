import { type Prepared, fileSource, inspectArchive, isArchive, parseIdentities, readPostDataItems } from '@pgbs/engine';
import type { BackupsDeps } from './backups-deps.js';
import type { RestoreChoices, RestoreRequestInput, RestoreSource } from './backup-types.js';
import { inspectRequest, requireFile, storedSource } from './backup-files.js';
import type { ResolvedTarget } from '../targets/target-connections.js';
import { directInput } from './restore-input.js';
import { identitiesFor, isForeign, requireOpens } from './backup-encryption.js';
import { ServiceError } from '../../errors/service-error.js';

/** What a restore would read: a stored backup, or a file from outside validated completely first. */
export async function restoreSource(
  deps: BackupsDeps,
  source: RestoreRequestInput['source'],
  prepared: Prepared,
  /** The identity file's text given with the request (an encrypted backup); kept identities otherwise. */
  identity?: string,
): Promise<{ source: RestoreSource; identities: readonly string[] }> {
  if ('backupId' in source) {
    const backup = await deps.backups.get(source.backupId);
    await requireFile(deps, backup);
    const identities = await identitiesFor(deps.keys, backup, identity);
    const stored = storedSource(deps, backup, identities);
    // Before anything else reads it: no identity, or one that does not open it, is refused here.
    await requireOpens(stored);
    // A manifest without a valid signature (a rescan) may describe anything: the whole file is
    // checked against it first, as an upload is (uploads were checked when they were imported).
    const foreign = isForeign(deps.keys, backup);
    if (foreign && backup.origin !== 'upload') await requireMatches(deps, stored, backup, prepared);
    const postDataItems = isArchive(stored.format)
      ? await readPostDataItems(inspectRequest(deps, stored, prepared.tools), backup.tableSizes)
      : 0;
    return {
      identities,
      source: {
        backupId: backup.id,
        fileName: backup.fileName,
        filePath: null,
        label: `backup ${backup.fileName}`,
        format: stored.format,
        codec: stored.codec,
        foreign,
        encrypted: stored.encrypted ?? false,
        sha256: backup.sha256,
        contentSha256: backup.contentSha256,
        databaseName: backup.databaseName,
        sizeBytes: backup.sizeBytes,
        tables: backup.tableSizes,
        postDataItems,
      },
    };
  }
  // An age-encrypted file (.age) is validated decrypted with the identity given, as an upload to store is.
  const given = identity?.trim() ? parseIdentities(identity) : [];
  const file = { ...(await fileSource(source.filePath)), identities: given };
  const summary = await inspectArchive(inspectRequest(deps, file, prepared.tools));
  return { identities: summary.encrypted ? given : [], source: fileRestoreSource(source, summary) };
}

function fileRestoreSource(
  source: { filePath: string; label?: string },
  summary: Awaited<ReturnType<typeof inspectArchive>>,
): RestoreSource {
  return {
    backupId: null,
    fileName: null,
    filePath: source.filePath,
    label: source.label ?? `file ${source.filePath}`,
    format: summary.format,
    codec: summary.codec,
    foreign: true,
    encrypted: summary.encrypted,
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
  identities: readonly string[] = [],
) {
  return {
    runner: deps.runner,
    tools: prepared.tools,
    signal: AbortSignal.timeout(10 * 60_000),
    connection: target.connection,
    source: directInput(deps, source, identities),
    noOwner: options.noOwner,
    skipUnrestorable: options.skipUnrestorable ?? false,
    terminateBlockers: options.terminateBlockers ?? false,
  };
}

/** Reads the whole stored file (both digests, every block) and refuses it when it is not what its catalog row says. */
async function requireMatches(
  deps: BackupsDeps,
  stored: ReturnType<typeof storedSource>,
  backup: { id: string; sha256: string; contentSha256: string | null },
  prepared: Prepared,
): Promise<void> {
  const summary = await inspectArchive(inspectRequest(deps, stored, prepared.tools));
  const contentChanged = backup.contentSha256 !== null && summary.contentSha256 !== backup.contentSha256;
  if (summary.sha256 !== backup.sha256 || contentChanged) {
    throw new ServiceError(
      'backup/checksum-mismatch',
      `Backup ${backup.id} has no valid signature and its file does not match its manifest's digests: it was not restored. Nothing was changed.`,
    );
  }
}
