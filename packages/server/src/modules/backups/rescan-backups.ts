import type { Actor } from './backup-types.js';
import type { BackupsDeps } from './backups-deps.js';
import { rowFromManifest } from './backup-files.js';
import { listManifests } from '../../storage/manifest.js';
import { signatureValid } from './backup-encryption.js';

/**
 * Rebuilds the catalog from the manifests in storage (after losing the metadata database). The
 * manifests name no target: rows come back without one and join the default target at the next
 * start, as first-stage backups do.
 */
export async function rescanBackups(
  deps: BackupsDeps,
  actor: Actor,
): Promise<{ added: string[]; removed: string[]; unreadable: string[] }> {
  const { manifests, unreadable } = await listManifests(deps.storage);
  const added: string[] = [];
  const target = await deps.targets.defaultTarget().catch(() => null);
  for (const manifest of manifests) {
    if (!(await deps.storage.stat(manifest.fileName))) {
      unreadable.push(manifest.fileName);
      continue;
    }
    // Unsigned or badly signed: foreign, validated completely before any restore (restore-source.ts).
    const signed = await signatureValid(deps.keys, manifest);
    const row = { ...rowFromManifest(manifest, target?.id ?? null), signed };
    if (await deps.backups.insert(row)) added.push(manifest.id);
  }
  const removed: string[] = [];
  for (const row of await deps.backups.all()) {
    if (!(await deps.storage.stat(row.fileName))) {
      await deps.backups.delete(row.id);
      removed.push(row.id);
    }
  }
  await deps.audit.record({
    actor: actor.name,
    address: actor.address,
    action: 'backup.rescan',
    outcome: 'succeeded',
    details: { added: added.length, removed: removed.length, unreadable },
  });
  return { added, removed, unreadable };
}
