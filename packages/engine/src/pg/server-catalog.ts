import { queryJson } from './catalog.js';
import type { PgTarget } from './connection.js';
import type { ProcessRunner } from './process.js';

/** A database of a server, as a whole-server target sees it. */
export interface ServerDatabase {
  name: string;
  isTemplate: boolean;
  allowConnections: boolean;
}

/** Every database of the server `target` connects to (names and flags only: visible to any role). */
export function listServerDatabases(runner: ProcessRunner, psql: string, target: PgTarget): Promise<ServerDatabase[]> {
  return queryJson<ServerDatabase[]>(
    runner,
    psql,
    target,
    `SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
              'name', d.datname, 'isTemplate', d.datistemplate, 'allowConnections', d.datallowconn)
            ORDER BY d.datname), '[]')
     FROM pg_catalog.pg_database d;`,
  );
}

/**
 * The cluster's system identifier as text; NULL when the role may not read pg_control_system()
 * (granted to PUBLIC by default; a hardened server may revoke it). Two connections to one server
 * share it, whatever host names they use. The one expression every reader uses: targets over
 * psql, the metadata database over the service's pool.
 */
export const SYSTEM_IDENTIFIER_SQL = `CASE WHEN pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')
  THEN (SELECT s.system_identifier::text FROM pg_catalog.pg_control_system() s) END`;

export function readSystemIdentifier(runner: ProcessRunner, psql: string, target: PgTarget): Promise<string | null> {
  return queryJson<string | null>(
    runner,
    psql,
    target,
    `SELECT coalesce(pg_catalog.to_json(${SYSTEM_IDENTIFIER_SQL}), 'null'::pg_catalog.json);`,
  );
}

/** What a connection test reports beside the role (target-role.ts). */
export interface ServerFacts {
  /** pg_database_size of the connected database, in bytes. */
  sizeBytes: number;
  /**
   * The cluster's system identifier, when the role may read pg_control_system() (superusers and
   * pg_monitor members): it tells two connections to the same server apart from look-alikes.
   */
  systemIdentifier: string | null;
}

export function readServerFacts(runner: ProcessRunner, psql: string, target: PgTarget): Promise<ServerFacts> {
  return queryJson<ServerFacts>(
    runner,
    psql,
    target,
    `SELECT pg_catalog.json_build_object(
       'sizeBytes', pg_catalog.pg_database_size(pg_catalog.current_database()),
       'systemIdentifier', ${SYSTEM_IDENTIFIER_SQL});`,
  );
}
