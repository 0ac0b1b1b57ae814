import type { Actor } from './backup-types.js';
import type { PlacedStorage } from './backup-placement.js';
import type { BackupsDeps } from './backups-deps.js';
import { rowFromManifest } from './backup-files.js';
import { listManifests } from '../../storage/manifest.js';
import { signatureValid } from './backup-encryption.js';

export interface RescanResult {
  added: string[];
  removed: string[];
  unreadable: string[];
}

/**
 * Rebuilds the catalog from the manifests on one destination, or on every enabled one (after
 * losing the metadata database): each backup found gets its row and a complete copy on the
 * destination that holds it. Copies whose file is gone from a destination that answered are
 * forgotten, and a backup with no copy left goes; a destination that does not answer changes
 * nothing. The manifests name no target: rows come back without one and join the default target
 * at the next start, as first-stage backups do.
 */
export async function rescanBackups(
  deps: BackupsDeps,
  actor: Actor,
  options: { destinationId?: string } = {},
): Promise<RescanResult> {
  const scanned = options.destinationId
    ? [{ destinationId: options.destinationId, storage: await deps.placement.storage(options.destinationId) }]
    : await deps.placement.enabled();
  const result: RescanResult = { added: [], removed: [], unreadable: [] };
  const target = await deps.targets.defaultTarget().catch(() => null);
  for (const destination of scanned) {
    try {
      await scanDestination(deps, destination, target?.id ?? null, result);
    } catch (error) {
      result.unreadable.push(
        `${destination.storage.location}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action: 'backup.rescan',
    outcome: 'succeeded',
    details: {
      added: result.added.length,
      removed: result.removed.length,
      unreadable: result.unreadable,
      destinations: scanned.map((d) => d.destinationId),
    },
  });
  return result;
}

async function scanDestination(
  deps: BackupsDeps,
  { destinationId, storage }: PlacedStorage,
  targetId: string | null,
  result: RescanResult,
): Promise<void> {
  const { manifests, unreadable } = await listManifests(storage);
  result.unreadable.push(...unreadable);
  for (const manifest of manifests) {
    const stat = await storage.stat(manifest.fileName);
    if (!stat) {
      result.unreadable.push(manifest.fileName);
      continue;
    }
    // Unsigned or badly signed: foreign, validated completely before any restore (restore-source.ts).
    const signed = await signatureValid(deps.keys, manifest);
    if (await deps.backups.insert({ ...rowFromManifest(manifest, targetId), signed })) result.added.push(manifest.id);
    await deps.copies.insert([
      {
        backupId: manifest.id,
        destinationId,
        objectName: manifest.fileName,
        state: 'complete',
        sizeBytes: stat.sizeBytes,
        storedSha256: manifest.sha256,
        completedAt: new Date(manifest.createdAt),
      },
    ]);
  }
  const legacy = destinationId === deps.placement.localId;
  for (const row of await deps.backups.all()) {
    const copies = await deps.copies.ofBackup(row.id);
    // A backup from before destinations is on the local destination only.
    const here = copies.find((copy) => copy.destinationId === destinationId && copy.state === 'complete');
    if (!(here || (legacy && copies.length === 0))) continue;
    if (await storage.stat(row.fileName)) continue;
    if (here) await deps.copies.remove(row.id, destinationId);
    const elsewhere = copies.some((copy) => copy.destinationId !== destinationId && copy.state === 'complete');
    if (!elsewhere) {
      await deps.backups.delete(row.id);
      if (!result.removed.includes(row.id)) result.removed.push(row.id);
    }
  }
}
