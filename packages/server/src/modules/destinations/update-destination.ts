import { ServiceError } from '../../errors/service-error.js';
import type { DestinationRow } from '../../db/schema.js';
import type { S3CredentialSource, S3Credentials } from '../../storage/s3-storage.js';
import { requireCredentialSource, settingsFromInput, validCredentials } from './add-destination.js';
import { auditedDestination } from './audit-destination.js';
import type { Actor, DestinationDeps } from './destination-deps.js';
import type { DestinationPatch } from './destination-repository.js';
import { sealS3Credentials } from './storage-for.js';

export interface UpdateDestinationInput {
  enabled?: boolean;
  /** New credentials; null removes the stored ones (then only credentialSource environment works). */
  credentials?: S3Credentials | null;
  credentialSource?: S3CredentialSource;
  directory?: string;
  endpoint?: string | null;
  region?: string | null;
  bucket?: string;
  prefix?: string;
  pathStyle?: boolean;
}

/** The env-managed destination is BACKUP_DIR's: the environment is where it changes. */
export function refuseEnvManaged(row: DestinationRow): void {
  if (row.managedBy === 'env') {
    throw new ServiceError(
      'destination/managed-by-env',
      `Destination "${row.name}" is BACKUP_DIR: change the environment and restart instead. Nothing was changed.`,
    );
  }
}

/** Edits a destination: settings are merged into the stored ones and checked again as a whole. */
export async function updateDestination(
  deps: DestinationDeps,
  idOrName: string,
  input: UpdateDestinationInput,
  actor: Actor,
): Promise<DestinationRow> {
  const row = await deps.repo.find(idOrName);
  const changed = Object.keys(input).filter((key) => input[key as keyof UpdateDestinationInput] !== undefined);
  return auditedDestination(deps, actor, 'destination.update', row, { changed }, async () => {
    refuseEnvManaged(row);
    const patch: DestinationPatch = {};
    if (input.enabled !== undefined) patch.enabled = input.enabled;
    const { enabled: _enabled, credentials, ...settings } = input;
    if (Object.values(settings).some((value) => value !== undefined)) {
      const merged = {
        ...row.settings,
        ...Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)),
      };
      patch.settings = settingsFromInput({ ...merged, kind: row.kind as 'local' | 's3' });
      const directory = patch.settings['directory'];
      if (row.kind === 'local' && directory !== row.settings['directory'])
        await deps.storage.checkLocal(String(directory));
    }
    if (credentials !== undefined) {
      if (row.kind !== 's3') throw new ServiceError('input/invalid', 'Only an S3 destination has credentials.');
      patch.credentialsSealed =
        credentials === null ? null : sealS3Credentials(deps, row.id, validCredentials(credentials));
    }
    // Checked when settings or credentials change (enabling or disabling alone touches neither).
    if (row.kind === 's3' && (patch.settings !== undefined || credentials !== undefined)) {
      // Switching to the environment drops the stored credentials unless new ones came with it (refused).
      const final = patch.settings ?? settingsFromInput({ ...row.settings, kind: 's3' });
      if (final['credentialSource'] === 'environment' && credentials === undefined) patch.credentialsSealed = null;
      const sealed = patch.credentialsSealed !== undefined ? patch.credentialsSealed : row.credentialsSealed;
      requireCredentialSource(final, sealed !== null, deps.environmentEndpoints);
    }
    return deps.repo.update(row.id, patch);
  });
}
