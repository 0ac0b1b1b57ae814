import { randomUUID } from 'node:crypto';
import { and, asc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { ServiceError } from '../../errors/service-error.js';
import type { MetadataDb } from '../../db/client.js';
import { type TargetRow, targets } from '../../db/schema.js';
import { isUuid } from '../../ids.js';

export type NewTarget = Omit<typeof targets.$inferInsert, 'id' | 'createdAt' | 'updatedAt' | 'deletedAt'>;
export type TargetPatch = Partial<
  Pick<
    TargetRow,
    'url' | 'passwordSealed' | 'enabled' | 'excludeDatabases' | 'keepGlobals' | 'globalsWithPasswords' | 'lastTest'
  >
> & { managedBy?: string | null; name?: string; deletedAt?: Date };

const live = isNull(targets.deletedAt);

/** The targets table; every read of a live target skips removed ones (kept for their backups' names). */
export class TargetRepository {
  constructor(private readonly db: MetadataDb) {}

  list(): Promise<TargetRow[]> {
    return this.db.select().from(targets).where(live).orderBy(asc(targets.name));
  }

  async byId(id: string): Promise<TargetRow> {
    const [row] = isUuid(id)
      ? await this.db
          .select()
          .from(targets)
          .where(and(eq(targets.id, id), live))
      : [];
    if (!row) throw new ServiceError('target/not-found', `No target ${id}.`);
    return row;
  }

  async byName(name: string): Promise<TargetRow> {
    const [row] = await this.db
      .select()
      .from(targets)
      .where(and(eq(targets.name, name), live));
    if (!row) throw new ServiceError('target/not-found', `No target named "${name}".`);
    return row;
  }

  /** By id, or by name when it is no id: what the CLI and the API's arguments give. */
  find(idOrName: string): Promise<TargetRow> {
    return isUuid(idOrName) ? this.byId(idOrName) : this.byName(idOrName);
  }

  /** Names by id, removed targets included: backups and jobs keep naming the target they were of. */
  async names(ids: readonly string[]): Promise<Map<string, Pick<TargetRow, 'name' | 'url' | 'deletedAt'>>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .select({ id: targets.id, name: targets.name, url: targets.url, deletedAt: targets.deletedAt })
      .from(targets)
      .where(inArray(targets.id, [...ids]));
    return new Map(rows.map(({ id, ...row }) => [id, row]));
  }

  async envManaged(): Promise<TargetRow | undefined> {
    const [row] = await this.db
      .select()
      .from(targets)
      .where(and(eq(targets.managedBy, 'env'), live));
    return row;
  }

  children(parentId: string): Promise<TargetRow[]> {
    return this.db
      .select()
      .from(targets)
      .where(and(eq(targets.parentId, parentId), live))
      .orderBy(asc(targets.name));
  }

  async insert(values: NewTarget, id: string = randomUUID()): Promise<TargetRow> {
    try {
      const [row] = await this.db
        .insert(targets)
        .values({ ...values, id })
        .returning();
      return row!;
    } catch (error) {
      throw nameTaken(error, values.name);
    }
  }

  async update(id: string, patch: TargetPatch): Promise<TargetRow> {
    try {
      const [row] = await this.db
        .update(targets)
        .set({ ...patch, updatedAt: sql`now()` })
        .where(eq(targets.id, id))
        .returning();
      if (!row) throw new ServiceError('target/not-found', `No target ${id}.`);
      return row;
    } catch (error) {
      throw nameTaken(error, patch.name ?? '');
    }
  }

  /** Every stored sealed password (a removed target's is wiped when it is removed). */
  sealed(): Promise<Pick<TargetRow, 'id' | 'name' | 'passwordSealed'>[]> {
    return this.db
      .select({ id: targets.id, name: targets.name, passwordSealed: targets.passwordSealed })
      .from(targets)
      .where(isNotNull(targets.passwordSealed));
  }

  /** Compare-and-set: another process re-sealing the same row at the same time wins harmlessly. */
  async replaceSealed(id: string, from: string, to: string): Promise<boolean> {
    const rows = await this.db
      .update(targets)
      .set({ passwordSealed: to })
      .where(and(eq(targets.id, id), eq(targets.passwordSealed, from)))
      .returning({ id: targets.id });
    return rows.length === 1;
  }
}

function nameTaken(error: unknown, name: string): unknown {
  const cause = (error as { cause?: { code?: string } }).cause ?? error;
  if ((cause as { code?: string }).code === '23505') {
    return new ServiceError('target/name-taken', `A target named "${name}" exists already. Nothing was changed.`);
  }
  return error;
}
