import { and, asc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import {
  type RetentionPolicyRow,
  backupCopies,
  backups,
  destinationRetentionPolicies,
  destinations,
  jobs,
  retentionPolicies,
  schedules,
  targetDestinations,
  targets,
} from '../../db/schema.js';
import { ACTIVE_STATES } from '../../jobs/job-types.js';
import type { TargetRef } from '../schedules/target-lookup.js';
import { COUNT_FIELDS, type CountRules, type RetentionBackup } from './plan-retention.js';

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

  /**
   * The target's backups, each with the destinations holding a complete copy of it (a backup from
   * before copies, with no copy row, is on `localId`).
   */
  async backupsOf(db: MetadataDb, targetId: string, localId: string): Promise<StoredBackup[]> {
    const rows = await db
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
    const copies =
      rows.length === 0
        ? []
        : await db
            .select({
              backupId: backupCopies.backupId,
              destinationId: backupCopies.destinationId,
              state: backupCopies.state,
            })
            .from(backupCopies)
            .where(
              inArray(
                backupCopies.backupId,
                rows.map((row) => row.id),
              ),
            );
    // A queued or running job names the backup (a copy's retry waiting its turn, a restore...).
    const busy =
      rows.length === 0
        ? []
        : await db
            .selectDistinct({ backupId: jobs.backupId })
            .from(jobs)
            .where(
              and(
                inArray(
                  jobs.backupId,
                  rows.map((row) => row.id),
                ),
                inArray(jobs.state, ACTIVE_STATES),
              ),
            );
    return rows.map((row) => {
      const own = copies.filter((copy) => copy.backupId === row.id);
      const on = (keep: (state: string) => boolean) =>
        own.filter((copy) => keep(copy.state)).map((copy) => copy.destinationId);
      return {
        ...row,
        completeOn: own.length === 0 ? [localId] : on((state) => state === 'complete'),
        // Copies still to come (pending, copying) or failed: their destination's rules never saw them.
        incompleteOn: on((state) => state !== 'complete' && state !== 'deleting'),
        failedOn: on((state) => state === 'failed'),
        inUse: busy.some((job) => job.backupId === row.id),
      };
    });
  },

  /**
   * The destinations a target's retention covers, by name: those it writes to (the local one when
   * it lists none), those of its databases for a server target, and any that still hold its
   * backups' copies.
   */
  async destinationsOf(db: MetadataDb, target: TargetRef, localId: string): Promise<{ id: string; name: string }[]> {
    const covered = or(eq(targets.id, target.id), eq(targets.parentId, target.id));
    const ids = new Set<string>();
    const listed = await db
      .select({ targetId: targets.id, destinationId: targetDestinations.destinationId })
      .from(targets)
      .leftJoin(targetDestinations, eq(targetDestinations.targetId, targets.id))
      .where(and(covered, isNull(targets.deletedAt)));
    for (const row of listed) ids.add(row.destinationId ?? localId);
    const holding = await db
      .selectDistinct({ destinationId: backupCopies.destinationId })
      .from(backupCopies)
      .innerJoin(backups, eq(backups.id, backupCopies.backupId))
      .innerJoin(targets, eq(targets.id, backups.targetId))
      .where(covered);
    for (const row of holding) ids.add(row.destinationId);
    if (ids.size === 0) return [];
    return db
      .select({ id: destinations.id, name: destinations.name })
      .from(destinations)
      .where(and(inArray(destinations.id, [...ids]), isNull(destinations.deletedAt)))
      .orderBy(asc(destinations.name));
  },

  /**
   * Copies of the target's backups whose delete was interrupted (an instance died between claiming
   * and removing them): `deleting` for longer than any delete takes.
   */
  async interruptedDeletes(db: MetadataDb, targetId: string): Promise<{ backupId: string; destinationId: string }[]> {
    return db
      .select({ backupId: backupCopies.backupId, destinationId: backupCopies.destinationId })
      .from(backupCopies)
      .innerJoin(backups, eq(backups.id, backupCopies.backupId))
      .where(
        and(
          eq(backups.targetId, targetId),
          eq(backupCopies.state, 'deleting'),
          sql`${backupCopies.updatedAt} < now() - interval '10 minutes'`,
        ),
      );
  },

  /** The per-destination rules that apply to a target (its own, else its server's), by destination id. */
  async destinationPoliciesOf(db: MetadataDb, target: TargetRef): Promise<Map<string, CountRules>> {
    const rules = new Map<string, CountRules>();
    // The server's first, so the target's own replace them.
    for (const id of ownThenParent(target).reverse()) {
      for (const row of await db
        .select()
        .from(destinationRetentionPolicies)
        .where(eq(destinationRetentionPolicies.targetId, id))) {
        rules.set(row.destinationId, countRulesOf(row));
      }
    }
    return rules;
  },

  /** Every live target's own per-destination policies, by names (export, show). */
  async ownDestinationPolicies(
    db: MetadataDb,
    targetId?: string,
  ): Promise<{ target: string; destination: string; rules: CountRules }[]> {
    const rows = await db
      .select({ policy: destinationRetentionPolicies, target: targets.name, destination: destinations.name })
      .from(destinationRetentionPolicies)
      .innerJoin(targets, and(eq(targets.id, destinationRetentionPolicies.targetId), isNull(targets.deletedAt)))
      .innerJoin(
        destinations,
        and(eq(destinations.id, destinationRetentionPolicies.destinationId), isNull(destinations.deletedAt)),
      )
      .where(targetId ? eq(destinationRetentionPolicies.targetId, targetId) : sql`true`)
      .orderBy(asc(targets.name), asc(destinations.name));
    return rows.map((row) => ({ target: row.target, destination: row.destination, rules: countRulesOf(row.policy) }));
  },

  async upsertDestinationPolicy(
    db: MetadataDb,
    key: { targetId: string; destinationId: string },
    rules: CountRules,
    now: Date,
  ): Promise<void> {
    await db
      .insert(destinationRetentionPolicies)
      .values({ ...key, ...rules, updatedAt: now })
      .onConflictDoUpdate({
        target: [destinationRetentionPolicies.targetId, destinationRetentionPolicies.destinationId],
        set: { ...rules, updatedAt: now },
      });
  },

  /** false: there was none. */
  async deleteDestinationPolicy(db: MetadataDb, key: { targetId: string; destinationId: string }): Promise<boolean> {
    const removed = await db
      .delete(destinationRetentionPolicies)
      .where(
        and(
          eq(destinationRetentionPolicies.targetId, key.targetId),
          eq(destinationRetentionPolicies.destinationId, key.destinationId),
        ),
      )
      .returning({ targetId: destinationRetentionPolicies.targetId });
    return removed.length > 0;
  },
};

export type StoredBackup = RetentionBackup & {
  fileName: string;
  completeOn: string[];
  incompleteOn: string[];
  /** Copies that failed (their copy job gave up, or a verify found them damaged). */
  failedOn: string[];
  /** An active job names it (a copy retry waiting its turn, a restore, a verify). */
  inUse: boolean;
};

const countRulesOf = (row: CountRules): CountRules =>
  Object.fromEntries(COUNT_FIELDS.map((field) => [field, row[field]])) as CountRules;
