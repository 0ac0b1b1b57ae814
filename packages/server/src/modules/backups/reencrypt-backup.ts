import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import {
  type ReencryptRequest,
  type ReencryptResult,
  DigestStream,
  recipientFingerprint,
  recipientOfIdentity,
  reencryptStream,
} from '@pgbs/engine';
import type { BackupRow } from '../../db/schema.js';
import { ServiceError, isCodedError } from '../../errors/service-error.js';
import type { JobContext, JobHandler } from '../../jobs/job-types.js';
import {
  type BackupManifest,
  MANIFEST_VERSION,
  globalsFileNameOf,
  globalsFileOf,
  readManifest,
  removeWithManifest,
  writeManifest,
} from '../../storage/manifest.js';
import type { ObjectStorage } from '../../storage/object-storage.js';
import type { StartedJob } from '../jobs/enqueue-job.js';
import type { EncryptionPlan } from '../keys/encryption-plan.js';
import { openManifest } from '../keys/manifest-secrets.js';
import { type PlacedStorage, qualifiedRef } from './backup-placement.js';
import type { Actor } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import {
  AGE_EXTENSION,
  encryptionPlan,
  identitiesFor,
  isForeign,
  protectManifest,
  requireOpens,
} from './backup-encryption.js';
import { requireFile, storedSource } from './backup-files.js';
import { openFromCopies } from './copy-reader.js';
import { heldIdentities, holdIdentities } from './job-identities.js';
import { switchCatalog } from './reencrypt-switch.js';
import { storedDigest } from './stored-digest.js';

export interface ReencryptParams {
  /** Identities given with the request, held on the instance that runs the job (identity-vault.ts). */
  identityRef?: string;
}

declare module '../../jobs/job-types.js' {
  interface JobParamsByKind {
    reencrypt: ReencryptParams;
  }
}

interface ReencryptOutcome {
  fileName: string;
  previousFileName: string;
  recipientFingerprints: string[];
  destinations: number;
}

/**
 * Queues the re-encryption of a backup to its target's current recipients (after a key was added,
 * before one is retired), after every check that needs no job: the backup is not in use, the
 * target has recipients other than the backup's, and the identity opens it (a backup in clear
 * needs none). Nothing is changed by a refusal.
 */
export async function reencryptBackup(
  deps: BackupsDeps,
  id: string,
  actor: Actor,
  options: { identity?: string } = {},
): Promise<StartedJob> {
  const backup = await deps.backups.get(id);
  const active = await deps.jobs.activeUsingBackup(id);
  if (active) {
    throw new ServiceError('backup/in-use', `The backup is in use by a running ${active.kind} job (${active.id}).`);
  }
  await planFor(deps, backup);
  await requireNoDelete(deps, backup);
  const identities = await identitiesFor(deps.keys, backup, options.identity);
  if (backup.recipientFingerprints.length > 0) await requireOpens(storedSource(deps, backup, identities));
  else await requireFile(deps, backup);
  const held = holdIdentities(deps, options.identity === undefined ? [] : identities);
  return held.around(
    deps.startJob({
      kind: 'reencrypt',
      params: { ...held.params },
      actor,
      // The target's database is not read: no connection, no lock.
      targetId: null,
      lockKey: null,
      // Delete, copies and other re-encryptions refuse a backup an active job names.
      backupId: id,
      ...(held.here ? { placement: 'here' as const } : {}),
    }),
  );
}

/**
 * A copy being deleted (or whose delete was interrupted) holds the old name until the delete ends:
 * switched under it, its objects would be left behind. The switch refuses it too (under the lock).
 */
async function requireNoDelete(deps: BackupsDeps, backup: BackupRow): Promise<void> {
  const deleting = (await deps.copies.ofBackup(backup.id)).find((copy) => copy.state === 'deleting');
  if (deleting) {
    throw new ServiceError(
      'backup/in-use',
      `A copy of backup ${backup.id} is being deleted (destination ${deleting.destinationId}): re-encrypt once the delete has ended (an interrupted one is finished by the next prune, or delete that copy again). Nothing was changed.`,
      { destinationId: deleting.destinationId },
    );
  }
}

/** What the backup is re-encrypted to: its target's recipients, refused when none or when they are its own already. */
async function planFor(deps: BackupsDeps, backup: BackupRow): Promise<EncryptionPlan> {
  const targetId = backup.targetId ?? (await deps.targets.defaultTarget()).id;
  const plan = await encryptionPlan(deps.keys, targetId);
  if (!plan) {
    throw new ServiceError(
      'key/no-recipient',
      "The backup's target has no recipients to encrypt to: set them first (pnpm cli target set <target> --encrypt-to <key>). Nothing was changed.",
    );
  }
  const current = new Set(plan.fingerprints);
  if (
    backup.recipientFingerprints.length === current.size &&
    backup.recipientFingerprints.every((f) => current.has(f))
  ) {
    throw new ServiceError(
      'backup/already-encrypted-to-current',
      `Backup ${backup.id} is encrypted to its target's current recipients already. Nothing was changed.`,
    );
  }
  return plan;
}

/**
 * A name beside the old one (the old objects stay intact until the catalog is switched): the
 * stem gets a new generation, and the name ends in .age.
 */
export function reencryptedName(fileName: string): string {
  const dot = fileName.indexOf('.');
  const stem = (dot < 0 ? fileName : fileName.slice(0, dot)).replace(/-r[0-9a-f]{8}$/, '');
  const name = `${stem}-r${randomBytes(4).toString('hex')}${dot < 0 ? '' : fileName.slice(dot)}`;
  return name.endsWith(AGE_EXTENSION) ? name : `${name}${AGE_EXTENSION}`;
}

export function reencryptHandler(deps: BackupsDeps): JobHandler<'reencrypt', ReencryptOutcome | null> {
  return {
    lock: null,
    async run(context) {
      try {
        const backup = await deps.backups.find(context.job.backupId!);
        // Deleted while the job waited: nothing to re-encrypt.
        if (!backup) return null;
        return await reencrypt(deps, context, backup);
      } finally {
        deps.identityVault.drop(context.params.identityRef);
      }
    },
    audit: (job, outcome) => ({ action: 'backup.reencrypt', subjectId: job.backupId, details: { ...outcome } }),
  };
}

/**
 * Writes the new objects (file, roles' file, manifest) on every destination holding a complete
 * copy, each checked against the digests of the one pass that made it, and only then switches the
 * catalog and removes the old objects. Any failure before the switch removes what was written:
 * the old backup is as it was. A switch whose outcome cannot be learnt removes nothing
 * (reencrypt-switch.ts). A crash leaves the writer's partial (discarded by recovery) or complete
 * new objects the catalog never names.
 */
async function reencrypt(
  deps: BackupsDeps,
  context: JobContext<'reencrypt'>,
  backup: BackupRow,
): Promise<ReencryptOutcome> {
  const plan = await planFor(deps, backup);
  const encrypted = backup.recipientFingerprints.length > 0;
  const identities = encrypted ? await heldIdentities(deps, context.params.identityRef, backup.id) : [];
  const { placed, failed } = await copiesToWrite(deps, backup);
  const [first, ...others] = placed;
  const fileName = reencryptedName(backup.fileName);
  const oldGlobals = globalsFileOf(backup);
  const globalsFileName = oldGlobals ? `${globalsFileNameOf(fileName)}${AGE_EXTENSION}` : null;
  const report = reporter(deps, context);
  const written: ObjectStorage[] = [first!.storage];
  try {
    const result = await writeReencrypted(context, first!, fileName, storedSource(deps, backup, identities), plan, {
      expectedBytes: backup.sizeBytes,
      onBytes: (bytes) => report('data', (bytes / Math.max(backup.sizeBytes, 1)) * 80),
    });
    if (result.source.sha256 !== backup.sha256 || result.source.sizeBytes !== backup.sizeBytes) {
      throw mismatch(`The backup read another sha256 (${result.source.sha256}) than its own (${backup.sha256})`);
    }
    if (backup.contentSha256 !== null && result.contentSha256 !== backup.contentSha256) {
      throw mismatch(
        `The decrypted content's sha256 (${result.contentSha256}) is not the backup's (${backup.contentSha256})`,
      );
    }
    if (oldGlobals && globalsFileName) {
      await writeReencrypted(
        context,
        first!,
        globalsFileName,
        {
          open: async () => (await openFromCopies(deps, backup, oldGlobals)).stream,
          // Not compressed: nothing is decoded, so no size bounds it.
          sizeBytes: 0,
          codec: 'none',
          format: 'plain',
          encrypted: oldGlobals.endsWith(AGE_EXTENSION),
          identities,
        },
        plan,
      );
    }
    report('finishing', 85);
    for (const other of others) {
      written.push(other.storage);
      await copyVerified(context, first!.storage, other, fileName, result.written.sha256);
      if (globalsFileName) await copyVerified(context, first!.storage, other, globalsFileName);
    }
    const manifest = await newManifest(deps, first!.storage, backup, identities, {
      fileName,
      sha256: result.written.sha256,
      sizeBytes: result.written.sizeBytes,
      globalsFileName,
    });
    // A backup not known to be ours (a rescanned one without a valid signature) stays unsigned:
    // re-encrypting it must not vouch for fields read from storage.
    const stored = await protectManifest(isForeign(deps.keys, backup) ? undefined : deps.keys, manifest, plan);
    for (const { storage } of placed) await writeManifest(storage, stored.manifest);
    await requireNewRecipients(deps, first!.storage, fileName, identities, plan);
    const switched = await switchCatalog({
      switch: async () =>
        (await context.record(() =>
          deps.backups.switchObjects(
            backup.id,
            backup,
            {
              fileName,
              sha256: result.written.sha256,
              sizeBytes: result.written.sizeBytes,
              recipientFingerprints: plan.fingerprints,
              signed: stored.signed,
              globalsFileName,
            },
            placed.map((copy) => copy.destinationId),
            context.jobId,
          ),
        )) !== null,
      named: () => context.record(() => deps.backups.namedFileName(backup.id)),
      backupId: backup.id,
      from: backup.fileName,
      to: fileName,
    });
    if (switched === 'refused') {
      throw new ServiceError(
        'backup/in-use',
        `Backup ${backup.id} is being downloaded or used by another job, or changed while it was re-encrypted: nothing changed, try again when it is free.`,
      );
    }
  } catch (error) {
    // Unconfirmed, the catalog may name the new objects: nothing is removed (the error says so).
    if (isCodedError(error, 'backup/switch-unconfirmed')) throw error;
    for (const storage of written) {
      await removeWithManifest(storage, fileName).catch(() => {});
      if (globalsFileName) await storage.remove(globalsFileName).catch(() => {});
    }
    throw error;
  }
  // From here the catalog names the new objects: the old ones go (a failure is only a warning),
  // from the complete copies and from the failed ones too (a failed copy or delete may have left
  // them there; the catalog names the new ones there now, which a later copy writes).
  for (const destinationId of [...placed.map((copy) => copy.destinationId), ...failed]) {
    let where = `destination ${destinationId}`;
    try {
      const storage = await deps.placement.storage(destinationId);
      where = storage.location;
      await removeWithManifest(storage, backup.fileName);
      if (oldGlobals) await storage.remove(oldGlobals);
    } catch (error) {
      await deps.jobs
        .addWarning(
          context.jobId,
          `The old object ${backup.fileName} on ${where} could not be removed: ${error instanceof Error ? error.message : String(error)}`,
        )
        .catch(() => {});
    }
  }
  report('done', 100);
  return {
    fileName,
    previousFileName: backup.fileName,
    recipientFingerprints: plan.fingerprints,
    destinations: placed.length,
  };
}

/**
 * Every complete copy's destination (a backup from before copies: the local one), all of which
 * must be written; and the failed copies' destinations, where only the old objects are removed.
 */
async function copiesToWrite(
  deps: BackupsDeps,
  backup: BackupRow,
): Promise<{ placed: PlacedStorage[]; failed: string[] }> {
  const rows = await deps.copies.ofBackup(backup.id);
  const ids =
    rows.length === 0
      ? [deps.placement.localId]
      : rows.filter((row) => row.state === 'complete').map((row) => row.destinationId);
  if (ids.length === 0) {
    throw new ServiceError('backup/file-missing', `Backup ${backup.id} has no complete copy to re-encrypt.`);
  }
  const placed = await Promise.all(
    ids.map(async (destinationId) => ({ destinationId, storage: await deps.placement.storage(destinationId) })),
  );
  return { placed, failed: rows.filter((row) => row.state === 'failed').map((row) => row.destinationId) };
}

/**
 * Before the switch, what the service can check of the new recipients: each is still registered
 * and unretired (one retired while the job ran would leave the backup to a key being given up),
 * and an identity it has for one of them (given with the request, or kept on the server) opens
 * the new file's header. With no such identity, nothing here proves a new recipient's holder can
 * open it: the content digest proves the dump inside is the backup's (docs/operations.md).
 */
async function requireNewRecipients(
  deps: BackupsDeps,
  storage: ObjectStorage,
  name: string,
  given: readonly string[],
  plan: EncryptionPlan,
): Promise<void> {
  if (!deps.keys) return;
  for (const fingerprint of plan.fingerprints) {
    const recipient = await deps.keys.get(fingerprint);
    if (recipient.retiredAt !== null) {
      throw new ServiceError(
        'key/retired',
        `"${recipient.name}" was retired while the backup was re-encrypted to it: the backup was left as it was; re-encrypt it to its target's current recipients.`,
      );
    }
  }
  const candidates = [...given, ...(await deps.keys.keptIdentities(plan.fingerprints))];
  for (const identity of new Set(candidates)) {
    const recipient = await recipientOfIdentity(identity);
    if (!plan.recipients.includes(recipient)) continue;
    await requireOpens({ encrypted: true, identities: [identity], open: () => storage.openRead(name) }).catch(
      (error: unknown) => {
        throw mismatch(
          `The new file ${name} does not open with the identity of its recipient ${recipientFingerprint(recipient)} (${error instanceof Error ? error.message : String(error)})`,
        );
      },
    );
  }
}

/** One pass into a new object, then its stored bytes read back against what the pass wrote. */
async function writeReencrypted(
  context: JobContext<'reencrypt'>,
  to: PlacedStorage,
  name: string,
  source: ReencryptRequest['source'],
  plan: EncryptionPlan,
  options: { expectedBytes?: number; onBytes?: (bytes: number) => void } = {},
): Promise<ReencryptResult> {
  const writer = await to.storage.createWriter(
    name,
    options.expectedBytes ? { expectedBytes: options.expectedBytes } : {},
  );
  await context.setPartialRef(qualifiedRef(to.destinationId, writer.partialRef));
  let result: ReencryptResult;
  try {
    result = await reencryptStream({
      source,
      encryptTo: plan.recipients,
      sink: writer.stream,
      signal: context.signal,
      ...(options.onBytes ? { onBytes: options.onBytes } : {}),
    });
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    await context.setPartialRef(null).catch(() => {});
  }
  await requireStored(context, to.storage, name, result.written.sha256);
  return result;
}

/** An object copied from one destination to another, then read back there. */
async function copyVerified(
  context: JobContext<'reencrypt'>,
  from: ObjectStorage,
  to: PlacedStorage,
  name: string,
  sha256?: string,
): Promise<void> {
  const writer = await to.storage.createWriter(name);
  await context.setPartialRef(qualifiedRef(to.destinationId, writer.partialRef));
  const hashing = new DigestStream();
  try {
    await pipeline(await from.openRead(name), hashing, writer.stream, { signal: context.signal });
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  } finally {
    await context.setPartialRef(null).catch(() => {});
  }
  await requireStored(context, to.storage, name, sha256 ?? hashing.sha256());
}

/** Verification before anything old is removed: the object as stored has the digest of what was written. */
async function requireStored(
  context: JobContext<'reencrypt'>,
  storage: ObjectStorage,
  name: string,
  sha256: string,
): Promise<void> {
  const stored = await storedDigest(storage, name, context.signal);
  if (stored.sha256 !== sha256) {
    throw mismatch(
      `${name} on ${storage.location} reads back another sha256 (${stored.sha256}) than was written (${sha256})`,
    );
  }
}

/** The old manifest's fields (opened when sealed) with the new objects' names and digests; sealed and signed anew by the caller. */
async function newManifest(
  deps: BackupsDeps,
  storage: ObjectStorage,
  backup: BackupRow,
  identities: readonly string[],
  objects: { fileName: string; sha256: string; sizeBytes: number; globalsFileName: string | null },
): Promise<BackupManifest> {
  const old = await readManifest(storage, backup.fileName);
  if (!old) {
    throw new ServiceError(
      'backup/file-missing',
      `The manifest of backup ${backup.id} (${backup.fileName}) is missing or unreadable.`,
    );
  }
  const opened = (await openManifest(
    old as unknown as Record<string, unknown>,
    identities,
  )) as unknown as BackupManifest;
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped: made anew for the new objects
  const { signature, sealedFields, globalsFileName, recipientFingerprints, ...fields } = opened;
  return {
    ...fields,
    manifestVersion: MANIFEST_VERSION,
    fileName: objects.fileName,
    sha256: objects.sha256,
    sizeBytes: objects.sizeBytes,
    ...(objects.globalsFileName ? { globalsFileName: objects.globalsFileName } : {}),
  };
}

const mismatch = (what: string) =>
  new ServiceError(
    'backup/checksum-mismatch',
    `${what}: the re-encryption was abandoned and the backup left as it was.`,
  );

/** About one progress event per percent (the pass reports every chunk). */
function reporter(deps: Pick<BackupsDeps, 'clock'>, context: JobContext<'reencrypt'>) {
  let last = -1;
  return (phase: 'data' | 'finishing' | 'done', percent: number) => {
    const rounded = Math.min(100, Math.floor(percent));
    if (rounded === last) return;
    last = rounded;
    context.progress({
      phase,
      percent: rounded,
      currentTable: null,
      tablesDone: 0,
      tablesTotal: 0,
      bytes: 0,
      etaSeconds: null,
      updatedAt: new Date(deps.clock.now()).toISOString(),
    });
  };
}
