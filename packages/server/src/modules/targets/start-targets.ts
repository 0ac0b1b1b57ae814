import { type PgTarget, parsePgUrl } from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';
import type { Logger } from '../../logger.js';
import type { MetadataDb } from '../../db/client.js';
import type { KeyRing } from './credential-box.js';
import { ensureEnvTarget } from './ensure-env-target.js';
import { type KeySources, loadKeyRing } from './key-ring.js';
import { rotateCredentials } from './rotate-credentials.js';
import { TargetRepository } from './target-repository.js';

export interface StartedTargets {
  keys: KeyRing;
  /** The env-managed target's connection by id (its password from the environment). */
  envConnections: Map<string, PgTarget>;
  envTargetId: string | null;
}

/**
 * What each start does before anything reaches a target:
 *  - loads the key ring, and refuses to start when passwords are stored but no key is configured
 *    (key/missing): the service would otherwise run and fail every job of those targets;
 *  - re-seals passwords sealed with an older key (rotation: docs/operations.md, "Keys");
 *  - refreshes the env-managed target from DATABASE_URL (or the embedded demo database).
 */
export async function startTargets(options: {
  db: MetadataDb;
  keySources: KeySources;
  /** DATABASE_URL (with its password), or the embedded demo's owner URL; null: none. */
  envTargetUrl: string | null;
  logger: Logger;
}): Promise<StartedTargets> {
  const repo = new TargetRepository(options.db);
  const keys = await loadKeyRing(options.keySources);
  const sealed = await repo.sealed();
  if (!keys.current && sealed.length > 0) {
    throw new ServiceError(
      'key/missing',
      `${sealed.length} stored target password(s) need the master key, and none is configured: set MASTER_KEY or MASTER_KEY_FILE to the key they were sealed with. Without it they are lost: set them again (pnpm cli target set <name> --password-file FILE).`,
    );
  }
  const rotation = await rotateCredentials({ repo, keys });
  if (rotation.resealed > 0) {
    options.logger.info('re-sealed stored target passwords with the current key', { count: rotation.resealed });
  }
  for (const failed of rotation.failed) {
    options.logger.warn('a stored target password cannot be opened with the configured keys', failed);
  }
  const env = await ensureEnvTarget(options.db, options.envTargetUrl ? { url: options.envTargetUrl } : null);
  const envConnections = new Map<string, PgTarget>();
  if (env && options.envTargetUrl) envConnections.set(env.id, parsePgUrl(options.envTargetUrl));
  return { keys, envConnections, envTargetId: env?.id ?? null };
}
