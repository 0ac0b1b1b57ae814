import { randomUUID } from 'node:crypto';
import { and, eq, gt, inArray, lte, ne, notInArray, sql } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { type BackupRow, type ReadLeaseRow, backupCopies, backups, readLeases } from '../../db/schema.js';

/** How long a lease holds without renewal: an instance that dies blocks its copy this long at most. */
export const LEASE_TTL_SECONDS = 60;

export interface ReadLease {
  id: string;
  /**
   * The backup's row as the lease was taken (under the row lock): the object names to read. A
   * re-encryption cannot switch them while the lease lives; a row read before may be stale.
   */
  backup: BackupRow;
  /** Ends the lease (idempotent); renewals stop. */
  release(): Promise<void>;
}

/** What a delete claimed, or why it could not. */
export type DeleteClaim =
  | { kind: 'claimed' }
  /** Someone is reading one of the copies (a download, on this or another instance). */
  | { kind: 'leased'; lease: Pick<ReadLeaseRow, 'destinationId' | 'instanceId' | 'purpose' | 'expiresAt'> }
  /** The copies asked for are the backup's last complete ones: delete the whole backup instead. */
  | { kind: 'last-copy' };

/**
 * Read leases and delete claims on copies, one protocol over the backup's row lock: a reader
 * leases a copy only while it is complete; a delete claims copies (state `deleting`) only while
 * no live lease names them. Either the delete sees the lease, or the reader sees the claim.
 * Expiry is judged by the metadata database's clock, the one every instance shares.
 */
export function copyLeases(db: MetadataDb, instanceId: string, ttlSeconds = LEASE_TTL_SECONDS) {
  const expiry = sql`now() + make_interval(secs => ${ttlSeconds})`;
  const renewal = async (id: string) => {
    await db.update(readLeases).set({ expiresAt: expiry }).where(eq(readLeases.id, id));
  };
  return {
    /**
     * Leases one copy of a backup for a read outside a job (jobs are protected by their own row);
     * renewed until released. null: the copy is not complete (being deleted, or gone).
     */
    async acquire(backupId: string, destinationId: string, purpose: string): Promise<ReadLease | null> {
      const id = randomUUID();
      const taken = await db.transaction(async (tx) => {
        const [backup] = await tx.select().from(backups).where(eq(backups.id, backupId)).for('share');
        if (!backup) return null;
        const copies = await tx
          .select({ destinationId: backupCopies.destinationId, state: backupCopies.state })
          .from(backupCopies)
          .where(eq(backupCopies.backupId, backupId));
        // A backup from before copies has no rows: its one copy is the one asked for.
        const readable =
          copies.length === 0 ||
          copies.some((copy) => copy.destinationId === destinationId && copy.state === 'complete');
        if (!readable) return null;
        await tx.insert(readLeases).values({ id, backupId, destinationId, instanceId, purpose, expiresAt: expiry });
        return backup;
      });
      if (!taken) return null;
      const timer = setInterval(
        // A renewal that fails (the metadata database restarting) is retried at the next tick; the
        // lease only lapses if it keeps failing for a whole TTL.
        () => void renewal(id).catch(() => {}),
        (ttlSeconds * 1000) / 3,
      );
      timer.unref();
      let released = false;
      return {
        id,
        backup: taken,
        async release() {
          if (released) return;
          released = true;
          clearInterval(timer);
          await db.delete(readLeases).where(eq(readLeases.id, id));
        },
      };
    },

    /**
     * Claims copies of a backup for deletion (state `deleting`): all of them (null), or those on
     * `destinationIds`, which must leave another complete copy behind.
     */
    async claimForDelete(backupId: string, destinationIds: readonly string[] | null): Promise<DeleteClaim> {
      return db.transaction(async (tx) => {
        await tx.select({ id: backups.id }).from(backups).where(eq(backups.id, backupId)).for('update');
        // Leases of an instance that died mid-read hold nothing: dropped here rather than by a sweeper.
        await tx
          .delete(readLeases)
          .where(and(eq(readLeases.backupId, backupId), lte(readLeases.expiresAt, sql`now()`)));
        const onClaimed = destinationIds ? [inArray(readLeases.destinationId, [...destinationIds])] : [];
        const [lease] = await tx
          .select()
          .from(readLeases)
          .where(and(eq(readLeases.backupId, backupId), gt(readLeases.expiresAt, sql`now()`), ...onClaimed))
          .limit(1);
        if (lease) return { kind: 'leased', lease } as const;
        if (destinationIds) {
          const [other] = await tx
            .select({ destinationId: backupCopies.destinationId })
            .from(backupCopies)
            .where(
              and(
                eq(backupCopies.backupId, backupId),
                eq(backupCopies.state, 'complete'),
                notInArray(backupCopies.destinationId, [...destinationIds]),
              ),
            )
            .limit(1);
          if (!other) return { kind: 'last-copy' } as const;
        }
        const claimed = destinationIds ? [inArray(backupCopies.destinationId, [...destinationIds])] : [];
        await tx
          .update(backupCopies)
          .set({ state: 'deleting', updatedAt: new Date() })
          .where(and(eq(backupCopies.backupId, backupId), ne(backupCopies.state, 'deleting'), ...claimed));
        return { kind: 'claimed' } as const;
      });
    },
  };
}

export type CopyLeases = ReturnType<typeof copyLeases>;
