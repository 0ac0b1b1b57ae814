import type { PgTarget } from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';
import type { TargetRow } from '../../db/schema.js';
import type { ResolvedTarget, TargetConnections } from './target-connections.js';

/**
 * TargetConnections for the one configured target (DATABASE_URL or the embedded demo database),
 * its password in memory from the configuration. The targets module's implementation replaces it.
 */
export function envTargetConnections(row: TargetRow, connection: PgTarget): TargetConnections {
  const target: ResolvedTarget = { id: row.id, name: row.name, enabled: row.enabled, managedBy: 'env', connection };
  const notFound = (what: string) => new ServiceError('target/not-found', `No target ${what}.`);
  return {
    resolve: async (id) => {
      if (id !== target.id) throw notFound(id);
      return target;
    },
    resolveByName: async (name) => {
      if (name !== target.name) throw notFound(`named "${name}"`);
      return target;
    },
    defaultTarget: async () => target,
  };
}
