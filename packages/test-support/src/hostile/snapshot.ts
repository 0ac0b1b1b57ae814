// What a restore could change outside its own database, captured before and after it, so a test
// can assert that nothing escaped. Taken as the superuser, because pg_authid and
// pg_file_settings are not readable by others.
import { chmod, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withSql } from '../databases.js';
import { type Fingerprint, diffFingerprints, fingerprint } from '../fingerprint.js';

/** Roles the restore creates for one run and must drop again. */
export const RESTORE_ROLE_PREFIX = 'pgbs_restore_';
/** Owner roles of createOwnedDatabase, which other test files create and drop concurrently. */
const OWNER_ROLE_PREFIX = 'pgbs_owner_';
/** Attacker and victim roles of buildHostileCorpus, likewise. */
const CORPUS_ROLE_PREFIX = 'pgbs_corpus_';
const TEST_ROLE_PREFIXES = [OWNER_ROLE_PREFIX, CORPUS_ROLE_PREFIX, RESTORE_ROLE_PREFIX];
const isTestRole = (name: string) => TEST_ROLE_PREFIXES.some((prefix) => name.startsWith(prefix));
/** createTestDatabase / createOwnedDatabase names: `<prefix>_<12 hex digits>`. */
const TEST_DATABASE = /^[a-z0-9_]+_[0-9a-f]{12}$/;

/**
 * A fresh directory the server (OS user postgres) may write to: payloads that run programs or
 * write server files leave their marks here.
 */
export async function createSentinel(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pgbs-sentinel-'));
  await chmod(dir, 0o777);
  return dir;
}

export interface RoleState {
  attributes: Record<string, unknown>;
  /** Roles it is a member of, with the admin option marked. */
  memberOf: string[];
  /** pg_db_role_setting rows of this role: database ('*' for all) → settings. */
  settings: Record<string, string[]>;
}

export interface EscapeSnapshot {
  sentinelFiles: string[];
  roles: Record<string, RoleState>;
  databases: Record<string, { owner: string; attributes: Record<string, unknown>; settings: string[] }>;
  /** ALTER SYSTEM writes postgresql.auto.conf. */
  autoConf: string[];
  otherEventTriggers: string[];
  otherFingerprint: Fingerprint;
}

export async function escapeSnapshot(
  adminUrl: string,
  sentinel: string,
  otherDatabaseUrl: string,
): Promise<EscapeSnapshot> {
  const sentinelFiles = (await readdir(sentinel, { recursive: true })).sort();
  const server = await withSql(adminUrl, async (sql) => {
    const roles = await sql<{ name: string; attributes: Record<string, unknown> }[]>`
      SELECT a.rolname AS name,
        to_jsonb(a) - 'oid' - 'rolname' - 'rolpassword' || jsonb_build_object('password', md5(a.rolpassword))
          AS attributes
      FROM pg_authid a`;
    const members = await sql<{ member: string; role: string }[]>`
      SELECT m.member::regrole::text AS member,
        m.roleid::regrole::text || CASE WHEN m.admin_option THEN ' (admin)' ELSE '' END AS role
      FROM pg_auth_members m ORDER BY 2`;
    const settings = await sql<{ role: string | null; database: string | null; setting: string[] }[]>`
      SELECT CASE WHEN s.setrole <> 0 THEN s.setrole::regrole::text END AS role,
        (SELECT d.datname FROM pg_database d WHERE d.oid = s.setdatabase) AS database, s.setconfig AS setting
      FROM pg_db_role_setting s`;
    const databases = await sql<{ name: string; owner: string; attributes: Record<string, unknown> }[]>`
      SELECT d.datname AS name, d.datdba::regrole::text AS owner,
        jsonb_build_object('connlimit', d.datconnlimit, 'allowconn', d.datallowconn,
          'istemplate', d.datistemplate, 'acl', d.datacl::text) AS attributes
      FROM pg_database d`;
    const autoConf = await sql<{ line: string }[]>`
      SELECT f.name || ' = ' || coalesce(f.setting, '') AS line FROM pg_file_settings f
      WHERE f.sourcefile LIKE '%postgresql.auto.conf' ORDER BY f.seqno`;
    return { roles, members, settings, databases, autoConf };
  });
  const otherEventTriggers = await withSql(otherDatabaseUrl, (sql) =>
    sql<{ line: string }[]>`
      SELECT format('%s on %s -> %s (%s)', evtname, evtevent, evtfoid::regprocedure, evtenabled) AS line
      FROM pg_event_trigger ORDER BY 1`.then((rows) => rows.map((row) => row.line)),
  );
  const roles: Record<string, RoleState> = {};
  for (const { name, attributes } of server.roles) roles[name] = { attributes, memberOf: [], settings: {} };
  for (const { member, role } of server.members) roles[member]?.memberOf.push(role);
  const databases: EscapeSnapshot['databases'] = {};
  for (const { name, owner, attributes } of server.databases) databases[name] = { owner, attributes, settings: [] };
  for (const { role, database, setting } of server.settings) {
    if (role === null && database !== null) databases[database]?.settings.push(...setting);
    else if (role !== null && roles[role]) roles[role].settings[database ?? '*'] = setting;
  }
  return {
    sentinelFiles,
    roles,
    databases,
    autoConf: server.autoConf.map((row) => row.line),
    otherEventTriggers,
    otherFingerprint: await fingerprint(otherDatabaseUrl),
  };
}

/**
 * What changed between two snapshots, as readable lines; empty when nothing escaped.
 *
 * The server is shared with test files running at the same time, so their churn is tolerated
 * where it cannot be an escape: databases named like test databases, and unprivileged roles of
 * createOwnedDatabase, buildHostileCorpus and restores, appearing or going away. A restore role
 * of the restore under test (a member of `ownerRole`) that is still there is a leftover, and a
 * failure; without `ownerRole` every new restore role is.
 */
export function escapesBetween(before: EscapeSnapshot, after: EscapeSnapshot, ownerRole?: string): string[] {
  const out: string[] = [];
  const added = after.sentinelFiles.filter((file) => !before.sentinelFiles.includes(file));
  const removed = before.sentinelFiles.filter((file) => !after.sentinelFiles.includes(file));
  if (added.length > 0) out.push(`files written to the sentinel directory: ${added.join(', ')}`);
  if (removed.length > 0) out.push(`files removed from the sentinel directory: ${removed.join(', ')}`);

  for (const name of keys(before.roles, after.roles)) {
    const [was, is] = [before.roles[name], after.roles[name]];
    if (was && is) diffJson(`role ${name}`, was, is, out);
    else if (is) {
      const leftover =
        name.startsWith(RESTORE_ROLE_PREFIX) &&
        (ownerRole === undefined || is.memberOf.some((role) => role.replace(/ \(admin\)$/, '') === ownerRole));
      if (leftover) out.push(`restore role ${name} was not dropped: ${JSON.stringify(is)}`);
      else if (!isConcurrentTestRole(name, is)) out.push(`new role ${name}: ${JSON.stringify(is)}`);
    } else if (!isTestRole(name)) {
      out.push(`role ${name} was dropped`);
    }
  }

  for (const name of keys(before.databases, after.databases)) {
    const [was, is] = [before.databases[name], after.databases[name]];
    if (was && is) diffJson(`database ${name}`, was, is, out);
    else if (!TEST_DATABASE.test(name)) out.push(`database ${name} was ${is ? 'created' : 'dropped'}`);
  }

  diffJson('postgresql.auto.conf (ALTER SYSTEM)', before.autoConf, after.autoConf, out);
  diffJson('event triggers of the other database', before.otherEventTriggers, after.otherEventTriggers, out);
  for (const line of diffFingerprints(before.otherFingerprint, after.otherFingerprint)) {
    out.push(`other database: ${line}`);
  }
  return out;
}

/** Throws with every escape listed when anything changed outside the restored database. */
export function assertNothingEscaped(before: EscapeSnapshot, after: EscapeSnapshot, ownerRole?: string): void {
  const escapes = escapesBetween(before, after, ownerRole);
  if (escapes.length > 0) throw new Error(`Something escaped the restore:\n  ${escapes.join('\n  ')}`);
}

function isConcurrentTestRole(name: string, state: RoleState): boolean {
  const a = state.attributes;
  const unprivileged =
    !a['rolsuper'] && !a['rolcreaterole'] && !a['rolcreatedb'] && !a['rolreplication'] && !a['rolbypassrls'];
  const memberOfOwnersOnly = state.memberOf.every((role) => role.startsWith(OWNER_ROLE_PREFIX));
  return isTestRole(name) && unprivileged && memberOfOwnersOnly && Object.keys(state.settings).length === 0;
}

function keys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function diffJson(what: string, was: unknown, is: unknown, out: string[]): void {
  const [from, to] = [JSON.stringify(was), JSON.stringify(is)];
  if (from !== to) out.push(`${what} changed:\n    before ${from}\n    after  ${to}`);
}
