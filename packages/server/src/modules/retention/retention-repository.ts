import { and, asc, eq, isNull } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { type RetentionPolicyRow, backups, retentionPolicies, schedules, targets } from '../../db/schema.js';
import type { TargetRef } from '../schedules/target-lookup.js';
import type { RetentionBackup } from './plan-retention.js';

export type PolicyValues = Omit<RetentionPolicyRow, 'targetId' | 'updatedAt'>;

/** A server target's databases follow its policy and its schedule's zone unless they have their own. */
const ownThenParent = (target: TargetRef) => [target.id, ...(target.parentId ? [target.parentId] : [])];

export const retentionRepository = {
  /** The policy that applies to the target (its own, else its server's); null: none, nothing is pruned. */
  async policyOf(db: MetadataDb, target: TargetRef): Promise<PolicyValues | null> {
    for (const id of ownThenParent(target)) {
      const [row] = await db.select().from(retentionPolicies).where(eq(retentionPolicies.targetId, id));
      if (row) {
        const { targetId: _owner, updatedAt: _updated, ...values } = row;
        return values;
      }
    }
    return null;
  },

  /** Periods are counted in the zone of the schedule that makes the backups; UTC without one. */
  async timeZoneOf(db: MetadataDb, target: TargetRef): Promise<string> {
    for (const id of ownThenParent(target)) {
      const [row] = await db.select({ timeZone: schedules.timeZone }).from(schedules).where(eq(schedules.targetId, id));
      if (row) return row.timeZone;
    }
    return 'UTC';
  },

  /** Every live target's own policy, by target name (for the configuration export). */
  async ownPolicies(db: MetadataDb): Promise<{ policy: RetentionPolicyRow; target: string }[]> {
    return db
      .select({ policy: retentionPolicies, target: targets.name })
      .from(retentionPolicies)
      .innerJoin(targets, and(eq(targets.id, retentionPolicies.targetId), isNull(targets.deletedAt)))
      .orderBy(asc(targets.name));
  },

  async upsert(db: MetadataDb, targetId: string, values: PolicyValues, now: Date): Promise<RetentionPolicyRow> {
    const [row] = await db
      .insert(retentionPolicies)
      .values({ targetId, ...values, updatedAt: now })
      .onConflictDoUpdate({ target: retentionPolicies.targetId, set: { ...values, updatedAt: now } })
      .returning();
    return row!;
  },

  async backupsOf(db: MetadataDb, targetId: string): Promise<(RetentionBackup & { fileName: string })[]> {
    return db
      .select({
        id: backups.id,
        fileName: backups.fileName,
        createdAt: backups.createdAt,
        origin: backups.origin,
        pinned: backups.pinned,
        verifyStatus: backups.verifyStatus,
        sizeBytes: backups.sizeBytes,
      })
      .from(backups)
      .where(eq(backups.targetId, targetId));
  },
};
