import type { PgTarget } from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';
import type { TargetRow } from '../../db/schema.js';
import { openCredential } from './credential-box.js';
import type { TargetDeps } from './target-deps.js';
import type { ResolvedTarget, TargetConnections } from './target-connections.js';
import { connectionOf } from './target-url.js';

type DirectoryDeps = Pick<TargetDeps, 'repo' | 'keys' | 'envConnections'>;

/**
 * How to connect to a row: the env-managed target with the environment's password; a server's
 * child with its parent's (by reference, never copied: one password to change); others with their own.
 */
export async function connectionFor(deps: DirectoryDeps, row: TargetRow): Promise<PgTarget> {
  const fromEnv = deps.envConnections.get(row.id);
  if (fromEnv) return fromEnv;
  const owner = row.parentId ? await deps.repo.byId(row.parentId) : row;
  const password = owner.passwordSealed ? openCredential(deps.keys, owner.id, owner.passwordSealed) : null;
  return connectionOf(row.url, password);
}

async function isEnabled(deps: DirectoryDeps, row: TargetRow): Promise<boolean> {
  if (!row.enabled) return false;
  return row.parentId ? (await deps.repo.byId(row.parentId)).enabled : true;
}

/** The TargetConnections the operations and job handlers use (target-connections.ts). */
export function targetDirectory(deps: DirectoryDeps): TargetConnections {
  const resolveRow = async (row: TargetRow, options: { allowDisabled?: boolean } = {}): Promise<ResolvedTarget> => {
    const enabled = await isEnabled(deps, row);
    if (!enabled && !options.allowDisabled) {
      throw new ServiceError('target/disabled', `Target "${row.name}" is disabled: enable it first.`, {
        targetId: row.id,
      });
    }
    if (row.kind === 'server') {
      // A server target only lists databases: its children are what gets backed up and restored.
      throw new ServiceError(
        'target/not-found',
        `"${row.name}" is a whole-server target: name one of its databases ("${row.name}/<database>").`,
      );
    }
    return {
      id: row.id,
      name: row.name,
      enabled,
      managedBy: row.managedBy,
      connection: await connectionFor(deps, row),
    };
  };
  return {
    resolve: async (targetId, options) => resolveRow(await deps.repo.byId(targetId), options),
    resolveByName: async (name, options) => resolveRow(await deps.repo.byName(name), options),
    async defaultTarget() {
      const env = await deps.repo.envManaged();
      if (env) return resolveRow(env);
      const databases = (await deps.repo.list()).filter((row) => row.kind === 'database');
      if (databases.length === 1) return resolveRow(databases[0]!);
      throw new ServiceError(
        'target/none',
        databases.length === 0
          ? 'No target database yet: add one (pnpm cli target add).'
          : 'Several targets exist: name the one to use.',
      );
    },
  };
}
