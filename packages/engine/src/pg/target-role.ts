import { EngineError } from '../errors.js';
import { queryJson } from './catalog.js';
import type { PgTarget } from './connection.js';
import type { ProcessRunner } from './process.js';

/** Who a target connection is, and whether its database's owner may safely run restored content. */
export interface TargetRole {
  database: string;
  /** The role the connection logs in as. */
  role: string;
  superuser: boolean;
  /** The database's owner: restored content runs with its rights, never more. */
  owner: string;
  /** The connection's role is the owner or a member of it. */
  actsAsOwner: boolean;
  /** What lets the owner reach outside its database (empty when nothing does). */
  ownerRisks: string[];
  /** The same for the connection's role. */
  roleRisks: string[];
  /** May terminate other sessions of non-superusers (member of pg_signal_backend). */
  canSignal: boolean;
}

/**
 * Predefined roles that reach outside one database's content. pg_signal_backend is not here: it is
 * the documented extra grant for terminating the sessions that block a restore.
 */
const RISKY_PREDEFINED_ROLES = [
  'pg_execute_server_program',
  'pg_read_server_files',
  'pg_write_server_files',
  'pg_read_all_data',
  'pg_write_all_data',
];

// Over every role `role` is a member of (itself included): a membership in a superuser role, or in
// one with CREATEROLE, is as good as having the attribute (SET ROLE).
const risks = (role: string) => `ARRAY(
    SELECT DISTINCT a.name FROM pg_catalog.pg_roles m,
      LATERAL (VALUES ('SUPERUSER', m.rolsuper), ('CREATEROLE', m.rolcreaterole), ('BYPASSRLS', m.rolbypassrls),
                      ('REPLICATION', m.rolreplication),
                      (m.rolname::text, m.rolname IN (${RISKY_PREDEFINED_ROLES.map((name) => `'${name}'`).join(', ')}))) a(name, present)
    WHERE a.present AND pg_catalog.pg_has_role(${role}.oid, m.oid, 'MEMBER')
    ORDER BY 1)`;

// SESSION_USER, the login, not CURRENT_USER: a `role` setting on the database could make the two
// differ (safe-session.ts resets it too).
const TARGET_ROLE_SQL = `
SELECT pg_catalog.json_build_object(
  'database', d.datname,
  'role', r.rolname,
  'superuser', r.rolsuper,
  'owner', o.rolname,
  'actsAsOwner', pg_catalog.pg_has_role(r.oid, o.oid, 'MEMBER'),
  'ownerRisks', ${risks('o')},
  'roleRisks', ${risks('r')},
  'canSignal', pg_catalog.pg_has_role(r.oid, 'pg_signal_backend', 'MEMBER'))
FROM pg_catalog.pg_database d
JOIN pg_catalog.pg_roles o ON o.oid = d.datdba
JOIN pg_catalog.pg_roles r ON r.rolname = SESSION_USER
WHERE d.datname = pg_catalog.current_database();`;

export function readTargetRole(runner: ProcessRunner, psql: string, target: PgTarget): Promise<TargetRole> {
  return queryJson<TargetRole>(runner, psql, target, TARGET_ROLE_SQL);
}

/**
 * How a restore runs on this connection:
 *  - owner: the connection's role is the owner (or a member of it) and no superuser: it restores itself;
 *  - superuser: each restore logs in as a short-lived role that is a member of the owner only
 *    (restore-role.ts). SET ROLE inside a superuser session would not do: the restored SQL can undo it.
 * Either way the owner must not be able to reach outside the database, or its rights would be the hole.
 */
export type RestoreMode = 'owner' | 'superuser';

export function restoreMode(role: TargetRole): RestoreMode {
  if (role.superuser) {
    if (role.ownerRisks.length > 0) throw unsafeOwner(role, role.ownerRisks);
    return 'superuser';
  }
  if (!role.actsAsOwner) {
    throw new EngineError(
      'restore/not-owner',
      `The service connects to "${role.database}" as "${role.role}", which is neither the database's owner ("${role.owner}") nor a member of it, so a restore could not replace its content. Connect as the owner (docs/security.md). Nothing was changed.`,
      { role: role.role, owner: role.owner },
    );
  }
  const all = [...new Set([...role.roleRisks, ...role.ownerRisks])];
  if (all.length > 0) throw unsafeOwner(role, all);
  return 'owner';
}

function unsafeOwner(role: TargetRole, risks: string[]): EngineError {
  const who = role.superuser ? `the database's owner "${role.owner}"` : `the role "${role.role}"`;
  return new EngineError(
    'restore/unsafe-owner',
    `Restored content runs with the rights of ${who}, which has ${risks.join(', ')}: content from a backup could then act outside "${role.database}". Make the owner a login role without these (docs/security.md: "The owner connection"). Nothing was changed.`,
    { role: role.role, owner: role.owner, risks },
  );
}
