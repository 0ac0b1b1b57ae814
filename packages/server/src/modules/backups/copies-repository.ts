import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { backupCopies, backups, destinations, targetDestinations } from '../../db/schema.js';

export type BackupCopyRow = typeof backupCopies.$inferSelect;
export type CopyState = 'pending' | 'copying' | 'complete' | 'failed' | 'deleting';

/** The copies of backups on their destinations (backup_copies). */
export function copiesRepository(db: MetadataDb) {
  const one = (backupId: string, destinationId: string) =>
    and(eq(backupCopies.backupId, backupId), eq(backupCopies.destinationId, destinationId));
  return {
    /** Idempotent (recording a backup is retried while the metadata database restarts). */
    async insert(rows: (typeof backupCopies.$inferInsert)[]): Promise<void> {
      if (rows.length > 0) await db.insert(backupCopies).values(rows).onConflictDoNothing();
    },
    /**
     * A backup's copies, in its target's destination order (destinations no longer listed for the
     * target last, by when they were made).
     */
    async ofBackup(backupId: string): Promise<BackupCopyRow[]> {
      const rows = await db
        .select({ copy: backupCopies })
        .from(backupCopies)
        .innerJoin(backups, eq(backups.id, backupCopies.backupId))
        .leftJoin(
          targetDestinations,
          and(
            eq(targetDestinations.destinationId, backupCopies.destinationId),
            eq(targetDestinations.targetId, backups.targetId),
          ),
        )
        .where(eq(backupCopies.backupId, backupId))
        .orderBy(sql`${targetDestinations.position} nulls last`, asc(backupCopies.createdAt));
      return rows.map((row) => row.copy);
    },
    /** Copies of many backups at once (lists), keyed by backup id. */
    async ofBackups(backupIds: readonly string[]): Promise<Map<string, BackupCopyRow[]>> {
      const byBackup = new Map<string, BackupCopyRow[]>();
      if (backupIds.length === 0) return byBackup;
      for (const row of await db
        .select()
        .from(backupCopies)
        .where(inArray(backupCopies.backupId, [...backupIds]))) {
        byBackup.set(row.backupId, [...(byBackup.get(row.backupId) ?? []), row]);
      }
      return byBackup;
    },
    async update(
      backupId: string,
      destinationId: string,
      patch: Partial<Omit<typeof backupCopies.$inferInsert, 'backupId' | 'destinationId'>>,
    ): Promise<void> {
      await db
        .update(backupCopies)
        .set({ ...patch, updatedAt: new Date() })
        .where(one(backupId, destinationId));
    },
    /** An attempt begins (counted now: one a crash ends counts too); the attempts made so far, this one included. */
    async start(backupId: string, destinationId: string, jobId: string): Promise<number> {
      const [row] = await db
        .update(backupCopies)
        .set({ state: 'copying', jobId, attempts: sql`${backupCopies.attempts} + 1`, updatedAt: new Date() })
        .where(one(backupId, destinationId))
        .returning({ attempts: backupCopies.attempts });
      return row?.attempts ?? 1;
    },
    async fail(backupId: string, destinationId: string, error: { code: string; message: string }): Promise<void> {
      await db
        .update(backupCopies)
        .set({ state: 'failed', errorCode: error.code, errorMessage: error.message, updatedAt: new Date() })
        .where(one(backupId, destinationId));
    },
    async remove(backupId: string, destinationId: string): Promise<void> {
      await db.delete(backupCopies).where(one(backupId, destinationId));
    },
    /** Names, for the API's copies. */
    destinationsById: async (ids: readonly string[]) =>
      ids.length === 0
        ? []
        : db
            .select({ id: destinations.id, name: destinations.name, kind: destinations.kind })
            .from(destinations)
            .where(inArray(destinations.id, [...ids])),
  };
}

export type CopiesRepository = ReturnType<typeof copiesRepository>;
