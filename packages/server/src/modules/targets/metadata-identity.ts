import { SYSTEM_IDENTIFIER_SQL } from '@pgbs/engine';
import { sql } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';

export interface MetadataIdentity {
  database: string;
  /** Null when the service's role may not read pg_control_system(). */
  systemIdentifier: string | null;
}

/** Read once per call from the metadata database itself: DATABASE_URL-style host names can alias. */
export async function readMetadataIdentity(db: MetadataDb): Promise<MetadataIdentity> {
  const rows = await db.execute<{ database: string; system_identifier: string | null }>(sql`
    SELECT pg_catalog.current_database() AS database, ${sql.raw(SYSTEM_IDENTIFIER_SQL)} AS system_identifier`);
  const row = rows[0]!;
  return { database: row.database, systemIdentifier: row.system_identifier };
}
