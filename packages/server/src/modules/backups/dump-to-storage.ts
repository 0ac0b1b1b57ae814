import { randomUUID } from 'node:crypto';
import {
  type ArchiveFormat,
  type BackupFormat,
  type Prepared,
  type ProgressSnapshot,
  type TableSize,
  runBackup,
  storedCodec,
} from '@pgbs/engine';
import type { BackupRow } from '../../db/schema.js';
import { traced, tracedBackpressure } from '../../jobs/job-trace.js';
import type { JobContext, JobKind } from '../../jobs/job-types.js';
import { type BackupManifest, MANIFEST_VERSION, writeManifest } from '../../storage/manifest.js';
import type { ResolvedTarget } from '../targets/target-connections.js';
import type { Actor, BackupOrigin } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { backupFileName, rowFromManifest } from './backup-files.js';
import { storeGlobals } from './store-globals.js';
import { qualifiedRef } from './backup-placement.js';
import { copyRows, queueCopies } from './copy-backup.js';
import { encryptedName, encryptionPlan, protectManifest } from './backup-encryption.js';

/**
 * pg_dump through the configured codec into a storage writer, then manifest + catalog row;
 * nothing is kept on failure. The job
 * that made it is linked: a backup job by its backupId, a restore by its params' safetySnapshotId
 * (its backupId is its source).
 */
export async function dumpToStorage(
  deps: BackupsDeps,
  context: JobContext<JobKind>,
  target: ResolvedTarget,
  /** With the table sizes when read already (prepareBackup: one psql run fewer). */
  prepared: Prepared & { tables?: TableSize[] },
  input: {
    format: BackupFormat;
    description: string;
    origin: BackupOrigin;
    /** Store the server's roles beside it when the target keeps them (backup jobs, not snapshots). */
    globals?: boolean;
  },
  actor: Actor | undefined,
  onProgress: (snapshot: ProgressSnapshot) => void,
): Promise<BackupRow> {
  const connection = target.connection;
  const tables =
    prepared.tables ?? (await traced('tableSizes', () => deps.tools.tableSizes(connection, prepared.tools)));
  const id = randomUUID();
  const format: ArchiveFormat = input.format === 'custom' ? 'custom' : 'plain-gzip';
  const codec = storedCodec(input.format, deps.codec);
  const plan = await encryptionPlan(deps.keys, target.id);
  const fileName = encryptedName(backupFileName(deps.clock.now(), connection.database, id, format, codec), plan);
  // The database's size bounds the dump's: object storage sizes its parts from it.
  const expectedBytes = tables.reduce((sum, table) => sum + table.bytes, 0);
  // Written once, to the target's first destination; the others get copies once it is recorded.
  const [first, ...others] = await traced('destinations', () => deps.placement.ofTarget(target.id));
  const storage = first!.storage;
  const writer = await traced('createWriter', () => storage.createWriter(fileName, { expectedBytes }));
  await traced('setPartialRef', () => context.setPartialRef(qualifiedRef(first!.destinationId, writer.partialRef)));
  tracedBackpressure('runBackup.storageWait', writer.stream);
  let globalsFileName: string | null = null;
  let committed = false;
  let manifested = false;
  try {
    const result = await traced('runBackup', () =>
      runBackup({
        runner: deps.runner,
        clock: deps.clock,
        tools: prepared.tools,
        target: connection,
        format: input.format,
        codec: deps.codec,
        compressionLevel: deps.compressionLevel,
        encryptTo: plan?.recipients,
        tables,
        sink: writer.stream,
        signal: context.signal,
        onProgress,
        lockWaitTimeoutSeconds: deps.lockTimeoutSeconds,
        applicationName: context.applicationName,
      }),
    );
    if (input.globals) {
      globalsFileName = await traced('storeGlobals', () =>
        storeGlobals({ ...deps, storage }, context, target.id, fileName, plan),
      );
    }
    const manifest: BackupManifest = {
      manifestVersion: MANIFEST_VERSION,
      id,
      fileName,
      description: input.description,
      format,
      codec: result.codec,
      sizeBytes: result.bytes,
      sha256: result.sha256,
      contentSha256: result.contentSha256,
      serverVersion: prepared.serverVersion.text,
      clientVersion: prepared.tools.version.text,
      databaseName: connection.database,
      durationMs: result.durationMs,
      tableCount: result.tableCount,
      tableSizes: tables,
      origin: input.origin,
      createdBy: actor?.name ?? null,
      createdAt: new Date(deps.clock.now()).toISOString(),
      omitted: result.omitted,
      ...(globalsFileName ? { globalsFileName } : {}),
    };
    await traced('commit', () => writer.commit());
    committed = true;
    const stored = await protectManifest(deps.keys, manifest, plan);
    await traced('writeManifest', () => writeManifest(storage, stored.manifest));
    manifested = true;
    // From here the backup exists (file and manifest): recording it must survive a restart of the
    // metadata database, so the writes are idempotent and retried.
    const row = await traced('recordBackup', () =>
      context.record(async () => {
        const inserted = await deps.backups.insert({
          ...rowFromManifest({ ...manifest, recipientFingerprints: plan?.fingerprints }, target.id),
          signed: stored.signed,
        });
        await deps.copies.insert(copyRows(manifest, first!.destinationId, others));
        // The file is no longer partial (a backup job's row says so with its backupId).
        if (input.origin === 'pre-restore-snapshot') await deps.jobs.addParams(context.jobId, { safetySnapshotId: id });
        else await deps.jobs.setBackupId(context.jobId, id);
        return inserted ?? deps.backups.get(id);
      }),
    );
    // Best effort: the job's end clears it anyway, and the backup is recorded already.
    if (input.origin === 'pre-restore-snapshot') await context.setPartialRef(null).catch(() => {});
    await queueCopies(deps, context, row, others);
    return row;
  } catch (error) {
    await writer.abort();
    // A file without its manifest is no backup (a failed manifest write); the roles' file belongs to none.
    if (committed && !manifested) await storage.remove(fileName).catch(() => {});
    if (globalsFileName && !manifested) await storage.remove(globalsFileName).catch(() => {});
    throw error;
  }
}
