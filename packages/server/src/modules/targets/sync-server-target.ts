import { listServerDatabases, readServerFacts } from '@pgbs/engine';
import { ServiceError } from '../../errors/service-error.js';
import type { TargetRow } from '../../db/schema.js';
import { connectionFor } from './target-directory.js';
import type { TargetDeps } from './target-deps.js';
import { urlForDatabase } from './target-url.js';

export interface SyncResult {
  /** Databases backed up as children (names of the databases). */
  databases: string[];
  added: string[];
  /** Children disabled because their database is gone or now excluded. */
  disabled: string[];
  /** Children enabled again: their database is back (or no longer excluded). */
  reenabled: string[];
  /** Databases skipped, and why (template, no connections, excluded, metadata). */
  skipped: { database: string; reason: string }[];
}

// A child the sync disabled carries this in last_test, so that it may enable it again; a child an
// administrator disabled stays disabled.
const SYNC_MARK = 'disabledBySync';

const childDatabase = (child: TargetRow) => decodeURIComponent(new URL(child.url).pathname.slice(1));

/**
 * Keeps one child target per database of a whole-server target. Templates, databases that allow
 * no connections, the exclusion list and the service's own metadata database are skipped. The
 * metadata database is recognised by the server's system identifier when both sides may read it,
 * and by name alone otherwise (skipping a same-named database elsewhere is the safe mistake).
 */
export async function syncServerTarget(deps: TargetDeps, serverId: string): Promise<SyncResult> {
  const server = await deps.repo.byId(serverId);
  if (server.kind !== 'server')
    throw new ServiceError('input/invalid', `"${server.name}" is not a whole-server target.`);
  const connection = await connectionFor(deps, server);
  const { tools } = await deps.tools.prepare(connection);
  const [all, facts, metadata] = await Promise.all([
    listServerDatabases(deps.runner, tools.psql, connection),
    readServerFacts(deps.runner, tools.psql, connection),
    deps.metadataIdentity(),
  ]);
  const sameServer =
    facts.systemIdentifier === null ||
    metadata.systemIdentifier === null ||
    facts.systemIdentifier === metadata.systemIdentifier;
  const skipped: SyncResult['skipped'] = [];
  const wanted = all.filter((database) => {
    const reason = database.isTemplate
      ? 'template'
      : !database.allowConnections
        ? 'no connections allowed'
        : sameServer && database.name === metadata.database
          ? "the service's metadata database"
          : server.excludeDatabases.includes(database.name)
            ? 'excluded'
            : null;
    if (reason) skipped.push({ database: database.name, reason });
    return reason === null;
  });
  const children = new Map((await deps.repo.children(server.id)).map((child) => [childDatabase(child), child]));
  const result: SyncResult = { databases: wanted.map((d) => d.name), added: [], disabled: [], reenabled: [], skipped };
  for (const { name } of wanted) {
    const child = children.get(name);
    if (!child) {
      await deps.repo.insert({
        name: `${server.name}/${name}`,
        kind: 'database',
        parentId: server.id,
        url: urlForDatabase(server.url, name),
      });
      result.added.push(name);
    } else if (!child.enabled && child.lastTest?.[SYNC_MARK]) {
      await deps.repo.update(child.id, { enabled: true, lastTest: null });
      result.reenabled.push(name);
    }
  }
  const kept = new Set(result.databases);
  for (const [name, child] of children) {
    if (kept.has(name) || !child.enabled) continue;
    await deps.repo.update(child.id, {
      enabled: false,
      lastTest: { [SYNC_MARK]: true, at: new Date(deps.clock.now()).toISOString() },
    });
    result.disabled.push(name);
  }
  return result;
}
