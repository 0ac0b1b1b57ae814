import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import { querySql, quoteIdent, quoteLiteral } from '../pg/catalog.js';
import type { PgTarget } from '../pg/connection.js';
import type { ProcessRunner } from '../pg/process.js';

/** Every short-lived restore login is named so; the job id follows, so a sweep can tell whose it is. */
export const RESTORE_ROLE_PREFIX = 'pgbs_restore_';

export interface RestoreRoleRequest {
  runner: ProcessRunner;
  clock: Clock;
  psql: string;
  /** The superuser connection to the target database. */
  admin: PgTarget;
  owner: string;
  jobId: string;
  /** The login stops working after this long even if nothing drops it (a crash). */
  validForSeconds: number;
}

export interface RestoreRole {
  name: string;
  /** The same server and database, logged in as the short-lived role. */
  target: PgTarget;
  /** Drops the role; what it may own is given to the owner first. */
  drop(): Promise<void>;
}

// Run by the superuser: ORIGIN event triggers of the target must not fire with its rights when
// the role's objects are reassigned or dropped (their functions may belong to the owner).
const ADMIN_PREAMBLE = `SET standard_conforming_strings = on;
SET session_replication_role = replica;
`;

export function restoreRoleName(jobId: string): string {
  return `${RESTORE_ROLE_PREFIX}${jobId.replace(/[^0-9a-f]/gi, '').toLowerCase()}`;
}

/** Marks the roles made for one target database: a sweep touches no others. */
const roleComment = (database: string) =>
  `pgbs: short-lived restore login for database ${database}; dropped when its job ends`;

/**
 * A superuser connection restores through a login role created for one restore: a member of the
 * database owner and of nothing else, NOINHERIT (it has the owner's rights only after SET ROLE),
 * with a random password and VALID UNTIL. Its session can become the owner, and never more. The
 * password reaches the server only as a SCRAM verifier, so a statement log never holds it.
 */
export async function createRestoreRole(request: RestoreRoleRequest): Promise<RestoreRole> {
  const name = restoreRoleName(request.jobId);
  const password = randomBytes(24).toString('hex');
  const until = new Date(request.clock.now() + request.validForSeconds * 1000).toISOString();
  await querySql(
    request.runner,
    request.psql,
    request.admin,
    `${ADMIN_PREAMBLE}CREATE ROLE ${quoteIdent(name)} LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
  NOBYPASSRLS PASSWORD ${quoteLiteral(scramVerifier(password))} VALID UNTIL ${quoteLiteral(until)} IN ROLE ${quoteIdent(request.owner)};
COMMENT ON ROLE ${quoteIdent(name)} IS ${quoteLiteral(roleComment(request.admin.database))};
`,
  );
  return {
    name,
    target: { ...request.admin, env: { ...request.admin.env, PGUSER: name, PGPASSWORD: password } },
    drop: () => dropRestoreRole(request, name, request.owner),
  };
}

/**
 * Drops one restore role (a no-op when it is gone already). First, in a statement of its own, it
 * can no longer log in: restored content may have set its password, and something elsewhere may
 * keep the DROP from succeeding (a grant to it in another database).
 */
export async function dropRestoreRole(
  request: Pick<RestoreRoleRequest, 'runner' | 'psql' | 'admin'>,
  name: string,
  owner: string,
): Promise<void> {
  const role = quoteIdent(name);
  await querySql(
    request.runner,
    request.psql,
    request.admin,
    `${ADMIN_PREAMBLE}DO $pgbs_drop$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(name)}) THEN
    EXECUTE ${quoteLiteral(`ALTER ROLE ${role} NOLOGIN PASSWORD NULL`)};
  END IF;
END
$pgbs_drop$;
DO $pgbs_drop$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(name)}) THEN
    PERFORM pg_catalog.pg_terminate_backend(a.pid) FROM pg_catalog.pg_stat_activity a WHERE a.usename = ${quoteLiteral(name)};
    EXECUTE ${quoteLiteral(`REASSIGN OWNED BY ${role} TO ${quoteIdent(owner)}`)};
    EXECUTE ${quoteLiteral(`DROP OWNED BY ${role}`)};
    EXECUTE ${quoteLiteral(`DROP ROLE ${role}`)};
  END IF;
END
$pgbs_drop$;
`,
  );
}

/**
 * Drops the restore roles made for this target database whose job is no longer running (a killed
 * process never dropped its own). Returns the names dropped.
 */
export async function sweepRestoreRoles(
  request: Pick<RestoreRoleRequest, 'runner' | 'psql' | 'admin'> & { owner: string },
  isJobRunning: (jobIdHex: string) => Promise<boolean>,
): Promise<string[]> {
  const out = await querySql(
    request.runner,
    request.psql,
    request.admin,
    `SELECT r.rolname FROM pg_catalog.pg_roles r
     WHERE r.rolname LIKE '${RESTORE_ROLE_PREFIX.replace(/_/g, '\\_')}%'
       AND pg_catalog.shobj_description(r.oid, 'pg_authid') = ${quoteLiteral(roleComment(request.admin.database))}
     ORDER BY 1;`,
  );
  const dropped: string[] = [];
  for (const name of out.split('\n').filter(Boolean)) {
    if (await isJobRunning(name.slice(RESTORE_ROLE_PREFIX.length))) continue;
    await dropRestoreRole(request, name, request.owner);
    dropped.push(name);
  }
  return dropped;
}

/** PostgreSQL's SCRAM-SHA-256 verifier for a password (RFC 5802/7677, 4096 iterations as the server uses). */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
