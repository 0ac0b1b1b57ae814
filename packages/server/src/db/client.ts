import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import * as schema from './schema.js';

export type MetadataDb = ReturnType<typeof createMetadataDb>['db'];

const MIGRATIONS = fileURLToPath(new URL('./migrations', import.meta.url));
/** Arbitrary but fixed: serialises migrations across processes starting at once. */
const MIGRATION_LOCK_KEY = 7_240_113_001;

/**
 * The one connection pool to the metadata database. `onQuery` sees every query sent, on the pool
 * and on the single connections (job tracing counts them; it also makes postgres.js keep each
 * query's stack).
 */
export function createMetadataDb(url: string, options: { onQuery?: (connection: number, query: string) => void } = {}) {
  const debug = options.onQuery ? { debug: options.onQuery } : {};
  const sql = postgres(url, {
    max: 5,
    onnotice: () => {},
    connect_timeout: 10,
    ...debug,
  });
  const db = drizzle(sql, { schema });
  return {
    sql,
    db,
    /** A client of one connection of its own (for a lock's session, which must not be pooled). */
    connectSingle: () =>
      postgres(url, {
        max: 1,
        onnotice: () => {},
        connect_timeout: 10,
        // postgres.js closes a connection after 30-60 minutes by default, and its advisory locks
        // with it: a long job's, or an instance's (which would then look gone to the others).
        max_lifetime: null,
        ...debug,
      }),
    close: () => sql.end({ timeout: 5 }),
  };
}

/** Applies the committed migrations under an advisory lock. */
export async function migrateMetadataDb(url: string): Promise<void> {
  const lock = postgres(url, { max: 1, onnotice: () => {} });
  const { db, close } = createMetadataDb(url);
  try {
    await lock`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await migrate(db, { migrationsFolder: MIGRATIONS });
  } finally {
    await lock`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    await lock.end({ timeout: 5 });
    await close();
  }
}
