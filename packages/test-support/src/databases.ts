import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface TestDatabase {
  name: string;
  url: string;
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

/** Creates an empty, uniquely named database on the server of `adminUrl`. */
export async function createTestDatabase(adminUrl: string, prefix: string): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`.toLowerCase();
  await withSql(adminUrl, (sql) => sql`CREATE DATABASE ${sql(name)}`);
  return { name, url: databaseUrl(adminUrl, name), drop: () => dropDatabase(adminUrl, name) };
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
