import { randomUUID } from 'node:crypto';
import { inspectArchive, isArchive } from '@pgbs/engine';
import { isCodedError } from '../../errors/service-error.js';
import type { BackupRow } from '../../db/schema.js';
import type { BackupManifest } from '../../storage/manifest.js';
import type { Actor, BackupOrigin } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { backupFileName, inspectRequest, rowFromManifest, validDescription } from './backup-files.js';

/**
 * Stores an uploaded file as a backup (origin "upload") of a target once it is validated
 * completely: format, compression, table of contents, unsafe SQL. The file is moved into
 * storage, not copied.
 */
export async function importUpload(
  deps: BackupsDeps,
  path: string,
  input: { description?: string; originalName: string; targetId?: string | null },
  actor: Actor,
): Promise<BackupRow> {
  const audit = (outcome: 'succeeded' | 'failed', subjectId: string | null, details: Record<string, unknown>) =>
    deps.audit.record({
      actor: actor.name,
      address: actor.address,
      action: 'backup.upload',
      outcome,
      subjectId,
      details: { originalName: input.originalName, ...details },
    });
  try {
    const description = validDescription(input.description) || `Upload of ${input.originalName}`;
    const target = input.targetId ? await deps.targets.resolve(input.targetId) : await deps.targets.defaultTarget();
    const prepared = await deps.tools.prepare(target.connection);
    const summary = await inspectArchive(inspectRequest(deps, path, prepared.tools));
    const id = randomUUID();
    const manifest: BackupManifest = {
      manifestVersion: 1,
      id,
      fileName: backupFileName(deps.clock.now(), summary.databaseName ?? 'upload', id, summary.format),
      description,
      format: summary.format,
      sizeBytes: summary.sizeBytes,
      sha256: summary.sha256,
      serverVersion: summary.sourceServerVersion,
      clientVersion: summary.pgDumpVersion,
      databaseName: summary.databaseName,
      durationMs: null,
      tableCount: isArchive(summary.format) ? summary.tables.length : null,
      tableSizes: [],
      origin: 'upload' satisfies BackupOrigin,
      createdBy: actor.name,
      createdAt: new Date(deps.clock.now()).toISOString(),
    };
    await deps.storage.importFile(path, manifest);
    await deps.backups.insert(rowFromManifest(manifest, target.id));
    await audit('succeeded', id, {
      fileName: manifest.fileName,
      format: manifest.format,
      sizeBytes: manifest.sizeBytes,
    });
    return deps.backups.get(id);
  } catch (error) {
    await audit('failed', null, { errorCode: isCodedError(error) ? error.code : 'internal' });
    throw error;
  }
}
