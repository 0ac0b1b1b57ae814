import { identitiesFor } from './backup-encryption.js';
import {
  type ArchiveFormat,
  type Prepared,
  type TargetRole,
  inspectRestore,
  isArchive,
  readArchiveSummary,
  readTargetRole,
} from '@pgbs/engine';
import type { BackupRow } from '../../db/schema.js';
import type { ArchiveContents, RestoreChoices } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { inspectRequest, requireFile, storedSource } from './backup-files.js';
import { checkRequest, restoreSource } from './restore-source.js';
import { restoreTarget } from './job-target.js';

const targetOf = (deps: BackupsDeps, targetId?: string | null) =>
  targetId ? deps.targets.resolve(targetId) : deps.targets.defaultTarget();

/** The target's server version and the client tools that would be used (a coded error if none fits). */
export async function toolVersions(deps: BackupsDeps, targetId?: string | null): Promise<Prepared> {
  return deps.tools.prepare((await targetOf(deps, targetId)).connection);
}

/** Who the service connects to the target as. */
export async function connectionRole(
  deps: BackupsDeps,
  prepared: Prepared,
  targetId?: string | null,
): Promise<TargetRole> {
  return readTargetRole(deps.runner, prepared.tools.psql, (await targetOf(deps, targetId)).connection);
}

/**
 * What an archive holds (from its TOC); null for plain SQL, which has no TOC, and for an encrypted
 * backup the service keeps no identity for (its contents are sealed).
 */
export async function backupContents(deps: BackupsDeps, backup: BackupRow): Promise<ArchiveContents | null> {
  if (!isArchive(backup.format as ArchiveFormat)) return null;
  const identities = await identitiesFor(deps.keys, backup, undefined);
  if (backup.recipientFingerprints.length > 0 && identities.length === 0) return null;
  await requireFile(deps, backup);
  const prepared = await toolVersions(deps, backup.targetId);
  return readArchiveSummary(
    inspectRequest(deps, storedSource(deps, backup, identities), prepared.tools, AbortSignal.timeout(60_000)),
  );
}

/** What a restore of this backup would do on a target, for showing before the confirmation. */
export async function restoreCheck(
  deps: BackupsDeps,
  backupId: string,
  options: Pick<RestoreChoices, 'noOwner'>,
  targetId?: string | null,
  /** An encrypted backup: the identity file's text given for this check (kept identities otherwise). */
  identity?: string,
) {
  const { target, prepared } = await restoreTarget(deps, { backupId }, targetId);
  const { source, identities } = await restoreSource(deps, { backupId }, prepared, identity);
  const check = await inspectRestore(
    checkRequest(
      deps,
      target,
      prepared,
      source,
      { ...options, skipUnrestorable: false, terminateBlockers: false },
      identities,
    ),
  );
  return {
    mode: check.mode,
    role: check.role,
    sourceDatabase: source.databaseName,
    targetId: target.id,
    targetName: target.name,
    targetDatabase: target.connection.database,
    unrestorable: check.plan.unrestorable,
  };
}
