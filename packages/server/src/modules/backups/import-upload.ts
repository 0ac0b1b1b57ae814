import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { type ByteSource, fileSource, inspectArchive, isArchive } from '@pgbs/engine';
import { isCodedError } from '../../errors/service-error.js';
import type { BackupRow } from '../../db/schema.js';
import { type BackupManifest, MANIFEST_VERSION, writeManifest } from '../../storage/manifest.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import type { Actor, BackupOrigin } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { backupFileName, inspectRequest, rowFromManifest, validDescription } from './backup-files.js';

/**
 * Stores an uploaded file as a backup (origin "upload") of a target once it is validated
 * completely: codec (a `.zst` is decompressed to be read), format, table of contents, unsafe
 * SQL. The file is stored as it came, through a storage writer.
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
    const upload = await fileSource(path);
    const summary = await inspectArchive(inspectRequest(deps, upload, prepared.tools));
    const id = randomUUID();
    const manifest: BackupManifest = {
      manifestVersion: MANIFEST_VERSION,
      id,
      fileName: backupFileName(deps.clock.now(), summary.databaseName ?? 'upload', id, summary.format, summary.codec),
      description,
      format: summary.format,
      codec: summary.codec,
      sizeBytes: summary.sizeBytes,
      sha256: summary.sha256,
      contentSha256: summary.contentSha256,
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
    // Uploads go to the env-managed "local" destination (BACKUP_DIR).
    const storage = await deps.placement.storage(deps.placement.localId);
    await storeFile(storage, upload, manifest.fileName);
    await writeManifest(storage, manifest);
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

/** Copies validated bytes into storage under `name`: visible only once complete. */
async function storeFile(storage: ObjectStorage, source: ByteSource, name: string): Promise<void> {
  const writer = await storage.createWriter(name, { expectedBytes: source.sizeBytes });
  try {
    await pipeline(await source.open(), writer.stream);
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
