// Target databases set up exactly as docs/security.md tells administrators to: the SQL is read from
// the document, so the tests prove what it says.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { databaseUrl, dropDatabase, withSql } from './databases.js';
import { runPgToolOrThrow } from './pg-tools.js';

const securityDoc = new URL('../../../docs/security.md', import.meta.url);
const HEADING = '## The owner connection (recommended)';

export interface OwnedDatabase {
  database: string;
  /** The NOSUPERUSER login role that owns the database. */
  ownerRole: string;
  ownerPassword: string;
  /** The database, connected to as ownerRole. */
  ownerUrl: string;
  /** The database, connected to as the superuser of adminUrl. */
  superuserUrl: string;
  /** Drops the database and the owner role. */
  drop(): Promise<void>;
}

/** The ```sql blocks under the heading, in order: [new database, existing database]. */
export async function ownerConnectionSql(): Promise<string[]> {
  const text = await readFile(securityDoc, 'utf8');
  const start = text.indexOf(`${HEADING}\n`);
  if (start < 0) throw new Error(`docs/security.md has no "${HEADING}" heading`);
  const end = text.indexOf('\n## ', start + HEADING.length);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```sql\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

/** Replaces each placeholder (a whole word of the SQL); a placeholder missing from the SQL is an error. */
function substitute(sql: string, values: Record<string, string>): string {
  let result = sql;
  for (const [placeholder, value] of Object.entries(values)) {
    const pattern = new RegExp(`\\b${placeholder}\\b`, 'g');
    if (!pattern.test(result)) throw new Error(`docs/security.md: the SQL no longer says ${placeholder}`);
    result = result.replace(pattern, value);
  }
  return result;
}

// psql, not postgres.js: CREATE DATABASE cannot run in the implicit transaction of a
// multi-statement query.
async function runAsSuperuser(url: string, sql: string): Promise<void> {
  await runPgToolOrThrow('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', '-'], url, sql);
}

/**
 * A new database owned by a new NOSUPERUSER login role, made by the first SQL block of the
 * document's owner-connection section with random names and password.
 */
export async function createOwnedDatabase(adminUrl: string, prefix: string): Promise<OwnedDatabase> {
  const suffix = randomBytes(6).toString('hex');
  const database = `${prefix}_${suffix}`.toLowerCase();
  const ownerRole = `pgbs_owner_${prefix}_${suffix}`.toLowerCase();
  const ownerPassword = randomBytes(18).toString('hex');
  const [newDatabase] = await ownerConnectionSql();
  if (!newDatabase) throw new Error('docs/security.md: no SQL block under the owner-connection heading');
  await runAsSuperuser(
    adminUrl,
    substitute(newDatabase, { app_owner: ownerRole, 'change-me': ownerPassword, workload_tracker: database }),
  );
  const superuserUrl = databaseUrl(adminUrl, database);
  const owner = new URL(superuserUrl);
  owner.username = ownerRole;
  owner.password = ownerPassword;
  return {
    database,
    ownerRole,
    ownerPassword,
    ownerUrl: owner.toString(),
    superuserUrl,
    async drop() {
      await dropDatabase(adminUrl, database);
      await withSql(adminUrl, async (sql) => {
        await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ${ownerRole}`;
        await sql`DROP ROLE IF EXISTS ${sql(ownerRole)}`;
      });
    },
  };
}

/**
 * Runs the document's second block (for an existing database) in `database`: the database and
 * the objects of `formerOwner` and of the bootstrap superuser go to `ownerRole`.
 */
export async function handOverExistingDatabase(
  adminUrl: string,
  { database, ownerRole, formerOwner }: { database: string; ownerRole: string; formerOwner: string },
): Promise<void> {
  const [, existingDatabase] = await ownerConnectionSql();
  if (!existingDatabase) throw new Error('docs/security.md: no second SQL block under the owner-connection heading');
  await runAsSuperuser(
    databaseUrl(adminUrl, database),
    substitute(existingDatabase, { app_owner: ownerRole, old_owner: formerOwner, workload_tracker: database }),
  );
}
