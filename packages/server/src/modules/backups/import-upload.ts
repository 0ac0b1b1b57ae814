import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import {
  type ArchiveSummary,
  type ByteSource,
  fileSource,
  inspectArchive,
  isArchive,
  parseIdentities,
  reencryptStream,
} from '@pgbs/engine';
import { ServiceError, isCodedError } from '../../errors/service-error.js';
import type { BackupRow } from '../../db/schema.js';
import { type BackupManifest, MANIFEST_VERSION, writeManifest } from '../../storage/manifest.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import type { Actor, BackupOrigin } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { backupFileName, inspectRequest, rowFromManifest, validDescription } from './backup-files.js';
import { encryptedName, encryptionPlan, protectManifest } from './backup-encryption.js';
import type { EncryptionPlan } from '../keys/encryption-plan.js';

/**
 * Stores an uploaded file as a backup (origin "upload") of a target once it is validated
 * completely: codec (a `.zst` is decompressed to be read), format, table of contents, unsafe
 * SQL. The file is stored as it came, through a storage writer; an age-encrypted one (`.age`) is
 * validated decrypted, with the identity given with it, and stored re-encrypted to the target's
 * recipients (decrypted when the target has none): the service can name no other recipients.
 */
export async function importUpload(
  deps: BackupsDeps,
  path: string,
  input: {
    description?: string;
    originalName: string;
    targetId?: string | null;
    /** The text of the age identity file that opens an encrypted upload; held in memory only. */
    identity?: string;
  },
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
    const identities = input.identity?.trim() ? parseIdentities(input.identity) : [];
    const upload: ByteSource = {
      ...(await fileSource(path)),
      identities,
      // The store pass decodes it again: under the same cap as the checks.
      ...(deps.expansionLimit ? { expansionLimit: deps.expansionLimit } : {}),
    };
    const summary = await inspectArchive(inspectRequest(deps, upload, prepared.tools));
    const plan = summary.encrypted ? await encryptionPlan(deps.keys, target.id) : null;
    const id = randomUUID();
    const uploaded: BackupManifest = {
      manifestVersion: MANIFEST_VERSION,
      id,
      fileName: encryptedName(
        backupFileName(deps.clock.now(), summary.databaseName ?? 'upload', id, summary.format, summary.codec),
        plan,
      ),
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
    let manifest = uploaded;
    if (summary.encrypted) manifest = await storeReencrypted(storage, upload, summary, uploaded, plan);
    else await storeFile(storage, upload, manifest.fileName);
    // Sealed and signed as the service's own encrypted backups are (its origin still says upload).
    const stored = plan ? await protectManifest(deps.keys, manifest, plan) : { manifest, signed: false };
    await writeManifest(storage, stored.manifest);
    await deps.backups.insert({
      ...rowFromManifest({ ...manifest, recipientFingerprints: plan?.fingerprints }, target.id),
      signed: stored.signed,
    });
    await audit('succeeded', id, {
      fileName: manifest.fileName,
      format: manifest.format,
      sizeBytes: manifest.sizeBytes,
      ...(summary.encrypted ? { decrypted: true, recipientFingerprints: plan?.fingerprints ?? [] } : {}),
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

/**
 * An encrypted upload, validated already, in one more pass: decrypted, re-encrypted to `plan`
 * (written decrypted when null) into storage. The pass must read the bytes that were validated
 * (both digests as inspected). The manifest with the stored bytes' digest and size.
 */
async function storeReencrypted(
  storage: ObjectStorage,
  upload: ByteSource,
  summary: ArchiveSummary,
  manifest: BackupManifest,
  plan: EncryptionPlan | null,
): Promise<BackupManifest> {
  const writer = await storage.createWriter(manifest.fileName, { expectedBytes: upload.sizeBytes });
  try {
    const result = await reencryptStream({
      source: { ...upload, format: summary.format, codec: summary.codec, encrypted: true },
      encryptTo: plan?.recipients ?? [],
      sink: writer.stream,
      signal: AbortSignal.timeout(60 * 60_000),
    });
    if (result.source.sha256 !== summary.sha256 || result.contentSha256 !== summary.contentSha256) {
      throw new ServiceError('backup/checksum-mismatch', 'The upload changed while it was stored. Nothing was kept.');
    }
    await writer.commit();
    return { ...manifest, sha256: result.written.sha256, sizeBytes: result.written.sizeBytes };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
