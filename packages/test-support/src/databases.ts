import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface TestDatabase {
  name: string;
  /** The owner's connection: a login role that is no superuser (docs/security.md, the owner connection). */
  url: string;
  /** A superuser's connection to the same database. */
  adminUrl: string;
  /** The owning role, and its password (for PGPASSWORD, never argv). */
  owner: string;
  ownerPassword: string;
  drop(): Promise<void>;
}

/** Opens a single-connection client, runs `fn`, and always closes the client. */
export async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    return await fn(sql);
  } finally {
    await sql.end();
  }
}

/** Returns `url` pointing at database `name`, keeping host and credentials. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

/**
 * Creates an empty, uniquely named database on the server of `adminUrl`, owned by a login role
 * that is no superuser, as docs/security.md sets up a target. Databases that stand for the same
 * application (a backup's source and its restore target) share an owner: pass `owner` from the first.
 */
export async function createTestDatabase(
  adminUrl: string,
  prefix: string,
  options: { owner?: Pick<TestDatabase, 'owner' | 'ownerPassword'> } = {},
): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`.toLowerCase();
  const owner = options.owner?.owner ?? `${name}_owner`;
  const ownerPassword = options.owner?.ownerPassword ?? randomBytes(18).toString('hex');
  await withSql(adminUrl, async (sql) => {
    if (!options.owner) {
      await sql.unsafe(
        `CREATE ROLE "${owner}" LOGIN PASSWORD '${ownerPassword}' NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`,
      );
    }
    await sql`CREATE DATABASE ${sql(name)} OWNER ${sql(owner)}`;
  });
  const ownerUrl = new URL(databaseUrl(adminUrl, name));
  ownerUrl.username = owner;
  ownerUrl.password = ownerPassword;
  return {
    name,
    url: ownerUrl.toString(),
    adminUrl: databaseUrl(adminUrl, name),
    owner,
    ownerPassword,
    async drop() {
      await dropDatabase(adminUrl, name);
      // The owner goes with the last database it owns.
      await withSql(adminUrl, async (sql) => {
        const [other] =
          await sql`SELECT 1 FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = ${owner}`;
        if (!other) await sql.unsafe(`DROP ROLE IF EXISTS "${owner}"`);
      });
    },
  };
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withSql(adminUrl, async (sql) => {
    // DROP DATABASE fails while anyone (e.g. a leaked test client) is still connected.
    await sql`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = ${name} AND pid <> pg_backend_pid()`;
    await sql`DROP DATABASE IF EXISTS ${sql(name)}`;
  });
}
