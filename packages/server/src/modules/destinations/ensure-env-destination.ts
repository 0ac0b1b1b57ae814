import { isCodedError } from '../../errors/service-error.js';
import type { MetadataDb } from '../../db/client.js';
import type { DestinationRow } from '../../db/schema.js';
import { DestinationRepository } from './destination-repository.js';
import { validLocalSettings } from './destination-settings.js';

export const ENV_DESTINATION_NAME = 'local';

/**
 * BACKUP_DIR as the destination named "local", refreshed at each start (like the env-managed
 * target): its directory follows the environment, and it cannot be changed or removed otherwise.
 */
export async function ensureEnvDestination(db: MetadataDb, backupDir: string): Promise<DestinationRow> {
  const repo = new DestinationRepository(db);
  const settings = { ...validLocalSettings({ directory: backupDir }) };
  const existing = await repo.envManaged();
  if (existing) return repo.update(existing.id, { settings, enabled: true });
  try {
    return await repo.insert({ name: ENV_DESTINATION_NAME, kind: 'local', settings, enabled: true, managedBy: 'env' });
  } catch (error) {
    // Another instance starting at the same time created it first: refresh that one.
    const created = isCodedError(error, 'destination/name-taken') ? await repo.envManaged() : undefined;
    if (!created) throw error;
    return repo.update(created.id, { settings, enabled: true });
  }
}
