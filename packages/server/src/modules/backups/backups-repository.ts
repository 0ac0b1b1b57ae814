import { type SQL, and, desc, eq, gt, gte, ilike, inArray, lt, ne, or, sql } from 'drizzle-orm';
import { ServiceError } from '../../errors/service-error.js';
import type { MetadataDb } from '../../db/client.js';
import { likeLiteral } from '../../db/like.js';
import { type BackupRow, backupCopies, backups, jobs, readLeases } from '../../db/schema.js';
import { isUuid } from '../../ids.js';
import type { BackupFilter } from './backup-types.js';

function backupFilter(filter: BackupFilter): SQL | undefined {
  const conditions: (SQL | undefined)[] = [];
  const search = filter.search?.trim();
  if (search) {
    const pattern = `%${likeLiteral(search)}%`;
    conditions.push(or(ilike(backups.fileName, pattern), ilike(backups.description, pattern)));
  }
  if (filter.origin) conditions.push(eq(backups.origin, filter.origin));
  if (filter.createdAfter) conditions.push(gte(backups.createdAt, filter.createdAfter));
  if (filter.createdBefore) conditions.push(lt(backups.createdAt, filter.createdBefore));
  // Not an id matches nothing (the column is a uuid: comparing it with any text would fail).
  if (filter.targetId) conditions.push(isUuid(filter.targetId) ? eq(backups.targetId, filter.targetId) : sql`false`);
  return and(...conditions);
}

/** The backups catalog. */
export function backupsRepository(db: MetadataDb) {
  return {
    list: (options: { limit?: number; offset?: number } & BackupFilter = {}): Promise<BackupRow[]> =>
      db
        .select()
        .from(backups)
        .where(backupFilter(options))
        .orderBy(desc(backups.createdAt))
        .limit(Math.min(options.limit ?? 50, 500))
        .offset(options.offset ?? 0),
    async count(filter: BackupFilter = {}): Promise<number> {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(backups)
        .where(backupFilter(filter));
      return row?.n ?? 0;
    },
    find: async (id: string): Promise<BackupRow | null> =>
      (await db.select().from(backups).where(eq(backups.id, id)))[0] ?? null,
    async get(id: string): Promise<BackupRow> {
      const row = isUuid(id) ? (await db.select().from(backups).where(eq(backups.id, id)))[0] : undefined;
      if (!row) throw new ServiceError('backup/not-found', `No backup with id ${id}.`);
      return row;
    },
    all: () => db.select().from(backups),
    /** Idempotent: recording a backup is retried while the metadata database restarts. */
    /** The row inserted; null if it was there already (a retried or repeated insert). */
    insert: async (row: typeof backups.$inferInsert): Promise<BackupRow | null> =>
      (await db.insert(backups).values(row).onConflictDoNothing().returning())[0] ?? null,
    delete: async (id: string) => {
      await db.delete(backups).where(eq(backups.id, id));
    },
    setPinned: async (id: string, pinned: boolean) =>
      (await db.update(backups).set({ pinned }).where(eq(backups.id, id)).returning())[0]!,
    /**
     * Points a backup at its re-encrypted objects, in one transaction with its copies' names and
     * digests (those on `written`; the others are pending or failed and get the new name to copy).
     * Only if its file is still the one that was re-encrypted (or is the new one already: a retried
     * write) and no live read lease holds it (a download of the old object, on any instance: the
     * old objects are deleted right after); null otherwise, nothing changed.
     */
    switchObjects: (
      id: string,
      from: { fileName: string; sha256: string },
      to: Pick<BackupRow, 'fileName' | 'sha256' | 'sizeBytes' | 'recipientFingerprints' | 'signed' | 'globalsFileName'>,
      written: readonly string[],
      /** The re-encrypting job: any other active job on the backup (a restore queued with the old names) refuses the switch. */
      jobId: string,
    ): Promise<BackupRow | null> =>
      db.transaction(async (tx) => {
        const [current] = await tx.select().from(backups).where(eq(backups.id, id)).for('update');
        if (current?.fileName === to.fileName && current.sha256 === to.sha256) return current;
        // Under the row lock readers take theirs with (copy-leases.ts): a lease is seen, or waits for us.
        const [lease] = await tx
          .select({ id: readLeases.id })
          .from(readLeases)
          .where(and(eq(readLeases.backupId, id), gt(readLeases.expiresAt, sql`now()`)))
          .limit(1);
        if (lease) return null;
        const [other] = await tx
          .select({ id: jobs.id })
          .from(jobs)
          .where(and(eq(jobs.backupId, id), inArray(jobs.state, ['queued', 'running']), ne(jobs.id, jobId)))
          .limit(1);
        if (other) return null;
        // A copy being deleted holds the old name until its delete ends (reencrypt-backup.ts).
        const [deleting] = await tx
          .select({ destinationId: backupCopies.destinationId })
          .from(backupCopies)
          .where(and(eq(backupCopies.backupId, id), eq(backupCopies.state, 'deleting')))
          .limit(1);
        if (deleting) return null;
        const [row] = await tx
          .update(backups)
          .set(to)
          .where(and(eq(backups.id, id), eq(backups.fileName, from.fileName), eq(backups.sha256, from.sha256)))
          .returning();
        if (!row) return null;
        await tx
          .update(backupCopies)
          .set({ objectName: to.fileName, updatedAt: new Date() })
          .where(eq(backupCopies.backupId, id));
        if (written.length > 0) {
          await tx
            .update(backupCopies)
            .set({ sizeBytes: to.sizeBytes, storedSha256: to.sha256 })
            .where(and(eq(backupCopies.backupId, id), inArray(backupCopies.destinationId, [...written])));
        }
        return row;
      }),
    /**
     * The file name a backup's row names, read under its row lock: a switch still committing (its
     * session not yet ended) is waited for. null: no such backup.
     */
    namedFileName: async (id: string): Promise<string | null> => {
      const [row] = await db
        .select({ fileName: backups.fileName })
        .from(backups)
        .where(eq(backups.id, id))
        .for('share');
      return row?.fileName ?? null;
    },
    setVerified: async (id: string, status: 'ok' | 'failed', at: Date) => {
      await db.update(backups).set({ verifyStatus: status, verifiedAt: at }).where(eq(backups.id, id));
    },
  };
}

export type BackupsRepository = ReturnType<typeof backupsRepository>;
