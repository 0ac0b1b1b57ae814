import { randomUUID } from 'node:crypto';
import { and, eq, isNull } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { type TargetRow, targets } from '../../db/schema.js';

/** The URL as stored: without its password (kept in memory from the configuration only). */
export function urlWithoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

/**
 * The target of DATABASE_URL (or the embedded demo database), refreshed at each start: its row is
 * created or updated, read-only through the API (managed_by 'env').
 */
export async function ensureEnvTarget(db: MetadataDb, input: { name: string; url: string }): Promise<TargetRow> {
  const url = urlWithoutPassword(input.url);
  const [existing] = await db
    .select()
    .from(targets)
    .where(and(eq(targets.managedBy, 'env'), isNull(targets.deletedAt)));
  if (existing) {
    const [row] = await db
      .update(targets)
      .set({ name: input.name, url, updatedAt: new Date() })
      .where(eq(targets.id, existing.id))
      .returning();
    return row!;
  }
  const [row] = await db
    .insert(targets)
    .values({ id: randomUUID(), name: input.name, kind: 'database', url, managedBy: 'env' })
    .returning();
  return row!;
}
