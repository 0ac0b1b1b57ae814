import { ServiceError } from '../../errors/service-error.js';
import { and, eq, isNull } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { targets } from '../../db/schema.js';

/** A drizzle handle or a transaction on it: the lookups run inside the tick's transaction too. */
export type Db = Pick<MetadataDb, 'select'>;

export interface TargetRef {
  id: string;
  name: string;
  kind: string;
  parentId: string | null;
}

const ref = { id: targets.id, name: targets.name, kind: targets.kind, parentId: targets.parentId };
const live = isNull(targets.deletedAt);

/**
 * Read-only access to the targets table, kept here until the targets module's directory is
 * wired in: the one place that reads targets for schedules and retention.
 */
export const targetLookup = {
  async byName(db: Db, name: string): Promise<TargetRef> {
    const [target] = await db
      .select(ref)
      .from(targets)
      .where(and(eq(targets.name, name), live));
    if (!target) throw new ServiceError('target/not-found', `No target named "${name}".`);
    return target;
  },

  async byId(db: Db, id: string): Promise<TargetRef> {
    const [target] = await db
      .select(ref)
      .from(targets)
      .where(and(eq(targets.id, id), live));
    if (!target) throw new ServiceError('target/not-found', `No target ${id}.`);
    return target;
  },

  /** What a schedule backs up: a database target itself, or each enabled child of a server target. */
  async backedUpBy(db: Db, scheduleTargetId: string): Promise<TargetRef[]> {
    const target = await this.byId(db, scheduleTargetId);
    if (target.kind !== 'server') return [target];
    return db
      .select(ref)
      .from(targets)
      .where(and(eq(targets.parentId, scheduleTargetId), eq(targets.enabled, true), live))
      .orderBy(targets.name);
  },
};
