import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { ServiceError } from '../../errors/service-error.js';
import type { MetadataDb } from '../../db/client.js';
import { type DestinationRow, backupCopies, destinations, targetDestinations, targets } from '../../db/schema.js';
import { isUuid } from '../../ids.js';

export type NewDestination = Omit<typeof destinations.$inferInsert, 'id' | 'createdAt' | 'updatedAt' | 'deletedAt'>;
export type DestinationPatch = Partial<
  Pick<DestinationRow, 'settings' | 'credentialsSealed' | 'enabled' | 'lastTest' | 'managedBy' | 'deletedAt'>
>;

export interface DestinationUsage {
  /** Complete copies stored there, and their bytes: S3 has no free-space call, so the catalog counts. */
  copies: number;
  bytes: number;
}

const live = isNull(destinations.deletedAt);

/** The destinations table and what refers to it; removed destinations are kept (their copies name them). */
export class DestinationRepository {
  constructor(private readonly db: MetadataDb) {}

  list(): Promise<DestinationRow[]> {
    return this.db.select().from(destinations).where(live).orderBy(asc(destinations.name));
  }

  /** By id, or by name when it is no id. */
  async find(idOrName: string): Promise<DestinationRow> {
    const [row] = await this.db
      .select()
      .from(destinations)
      .where(and(isUuid(idOrName) ? eq(destinations.id, idOrName) : eq(destinations.name, idOrName), live));
    if (!row) throw new ServiceError('destination/not-found', `No destination ${JSON.stringify(idOrName)}.`);
    return row;
  }

  async envManaged(): Promise<DestinationRow | undefined> {
    const [row] = await this.db
      .select()
      .from(destinations)
      .where(and(eq(destinations.managedBy, 'env'), live));
    return row;
  }

  async insert(values: NewDestination, id: string = randomUUID()): Promise<DestinationRow> {
    try {
      const [row] = await this.db
        .insert(destinations)
        .values({ ...values, id })
        .returning();
      return row!;
    } catch (error) {
      throw nameTaken(error, values.name);
    }
  }

  async update(id: string, patch: DestinationPatch): Promise<DestinationRow> {
    const [row] = await this.db
      .update(destinations)
      .set({ ...patch, updatedAt: sql`now()` })
      .where(eq(destinations.id, id))
      .returning();
    if (!row) throw new ServiceError('destination/not-found', `No destination ${id}.`);
    return row;
  }

  /** Complete copies per destination. */
  async usage(ids: readonly string[]): Promise<Map<string, DestinationUsage>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .select({
        id: backupCopies.destinationId,
        copies: sql<number>`count(*)::int`,
        bytes: sql<number>`coalesce(sum(${backupCopies.sizeBytes}), 0)::bigint`,
      })
      .from(backupCopies)
      .where(and(inArray(backupCopies.destinationId, [...ids]), eq(backupCopies.state, 'complete')))
      .groupBy(backupCopies.destinationId);
    return new Map(rows.map((row) => [row.id, { copies: row.copies, bytes: Number(row.bytes) }]));
  }

  /** Copies in any state but deleted: what removing the destination would orphan. */
  async copyCount(id: string): Promise<number> {
    const [row] = await this.db
      .select({ count: sql<number>`count(*)::int` })
      .from(backupCopies)
      .where(and(eq(backupCopies.destinationId, id), sql`${backupCopies.state} <> 'deleted'`));
    return row?.count ?? 0;
  }

  /** Names of the live targets whose backups go to the destination. */
  async targetsUsing(id: string): Promise<string[]> {
    const rows = await this.db
      .select({ name: targets.name })
      .from(targetDestinations)
      .innerJoin(targets, eq(targets.id, targetDestinations.targetId))
      .where(and(eq(targetDestinations.destinationId, id), isNull(targets.deletedAt)))
      .orderBy(asc(targets.name));
    return rows.map((row) => row.name);
  }

  /** A target's destinations in order (the first is written, the others get copies). */
  async ofTarget(targetId: string): Promise<DestinationRow[]> {
    const rows = await this.db
      .select({ destination: destinations })
      .from(targetDestinations)
      .innerJoin(destinations, eq(destinations.id, targetDestinations.destinationId))
      .where(and(eq(targetDestinations.targetId, targetId), live))
      .orderBy(asc(targetDestinations.position));
    return rows.map((row) => row.destination);
  }

  /** Replaces a target's destinations, in one transaction. */
  async setOfTarget(targetId: string, destinationIds: readonly string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.delete(targetDestinations).where(eq(targetDestinations.targetId, targetId));
      if (destinationIds.length > 0) {
        await tx
          .insert(targetDestinations)
          .values(destinationIds.map((destinationId, position) => ({ targetId, destinationId, position })));
      }
    });
  }

  /** Every stored sealed credential (a removed destination's is wiped when it is removed). */
  async sealed(): Promise<{ id: string; name: string; sealed: string }[]> {
    const rows = await this.db
      .select({ id: destinations.id, name: destinations.name, sealed: destinations.credentialsSealed })
      .from(destinations)
      .where(isNotNull(destinations.credentialsSealed));
    return rows.map((row) => ({ ...row, sealed: row.sealed! }));
  }

  /** Compare-and-set: another process re-sealing the same row at the same time wins harmlessly. */
  async replaceSealed(id: string, from: string, to: string): Promise<boolean> {
    const rows = await this.db
      .update(destinations)
      .set({ credentialsSealed: to })
      .where(and(eq(destinations.id, id), eq(destinations.credentialsSealed, from)))
      .returning({ id: destinations.id });
    return rows.length === 1;
  }

  /** Soft delete: its copies keep naming it. The targets that used it stop using it. */
  async remove(id: string, deletedAt: Date): Promise<DestinationRow> {
    return this.db.transaction(async (tx) => {
      await tx.delete(targetDestinations).where(eq(targetDestinations.destinationId, id));
      const [row] = await tx
        .update(destinations)
        .set({ deletedAt, enabled: false, credentialsSealed: null, updatedAt: sql`now()` })
        .where(eq(destinations.id, id))
        .returning();
      if (!row) throw new ServiceError('destination/not-found', `No destination ${id}.`);
      return row;
    });
  }
}

function nameTaken(error: unknown, name: string): unknown {
  const cause = (error as { cause?: { code?: string } }).cause ?? error;
  if ((cause as { code?: string }).code === '23505') {
    return new ServiceError(
      'destination/name-taken',
      `A destination named "${name}" exists already. Nothing was changed.`,
    );
  }
  return error;
}
