import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import {
  type RecipientRow,
  type SigningKeyRow,
  backups,
  recipients,
  signingKeys,
  targetRecipients,
  targets,
} from '../../db/schema.js';
import { ServiceError } from '../../errors/service-error.js';
import { isUuid } from '../../ids.js';

export type NewRecipient = Pick<RecipientRow, 'name' | 'recipient' | 'fingerprint' | 'identitySealed'>;

export interface SealedSecret {
  kind: 'identity' | 'signing-key';
  id: string;
  name: string;
  sealed: string;
}

/** A backup that only this recipient (among the unretired ones) can open. */
export interface DependentBackup {
  id: string;
  fileName: string;
  createdAt: Date;
}

/** recipients, target_recipients and signing_keys. */
export class KeysRepository {
  constructor(private readonly db: MetadataDb) {}

  list(): Promise<RecipientRow[]> {
    return this.db.select().from(recipients).orderBy(asc(recipients.createdAt), asc(recipients.name));
  }

  /** By id, name, fingerprint or the age1… string itself: whatever an administrator has at hand. */
  async find(ref: string): Promise<RecipientRow> {
    const [row] = await this.db
      .select()
      .from(recipients)
      .where(
        isUuid(ref)
          ? eq(recipients.id, ref)
          : sql`${recipients.name} = ${ref} or ${recipients.fingerprint} = ${ref} or ${recipients.recipient} = ${ref}`,
      );
    if (!row) {
      throw new ServiceError(
        'key/not-found',
        `No recipient named "${ref}" (nor with that fingerprint or age1… string): see pnpm cli key list, or add it with pnpm cli key add-recipient.`,
      );
    }
    return row;
  }

  async byFingerprint(fingerprint: string): Promise<RecipientRow | undefined> {
    const [row] = await this.db.select().from(recipients).where(eq(recipients.fingerprint, fingerprint));
    return row;
  }

  async insert(values: NewRecipient, id: string = randomUUID()): Promise<RecipientRow> {
    try {
      const [row] = await this.db
        .insert(recipients)
        .values({ ...values, id })
        .returning();
      return row!;
    } catch (error) {
      throw taken(error, values.name);
    }
  }

  async retire(id: string, at: Date): Promise<RecipientRow> {
    const [row] = await this.db
      .update(recipients)
      .set({ retiredAt: at })
      .where(and(eq(recipients.id, id), isNull(recipients.retiredAt)))
      .returning();
    if (!row) throw new ServiceError('key/retired', 'This recipient is retired already. Nothing was changed.');
    return row;
  }

  /** How many backups are encrypted to each fingerprint. */
  async backupCounts(): Promise<Map<string, number>> {
    const rows = await this.db
      .select({ fingerprint: sql<string>`f`, count: sql<number>`count(*)::int` })
      .from(sql`${backups}, unnest(${backups.recipientFingerprints}) as f`)
      .groupBy(sql`f`);
    return new Map(rows.map((row) => [row.fingerprint, row.count]));
  }

  /**
   * The backups encrypted to this fingerprint that no other unretired recipient opens: retiring it
   * leaves them readable only with an identity kept outside the service.
   */
  dependentBackups(fingerprint: string): Promise<DependentBackup[]> {
    return this.db
      .select({ id: backups.id, fileName: backups.fileName, createdAt: backups.createdAt })
      .from(backups)
      .where(
        sql`${fingerprint} = any(${backups.recipientFingerprints}) and not exists (
          select 1 from ${recipients} r
          where r.retired_at is null and r.fingerprint <> ${fingerprint}
            and r.fingerprint = any(${backups.recipientFingerprints}))`,
      )
      .orderBy(asc(backups.createdAt));
  }

  /** The live targets that encrypt to this recipient. */
  async targetsUsing(recipientId: string): Promise<string[]> {
    const rows = await this.db
      .select({ name: targets.name })
      .from(targetRecipients)
      .innerJoin(targets, eq(targets.id, targetRecipients.targetId))
      .where(and(eq(targetRecipients.recipientId, recipientId), isNull(targets.deletedAt)))
      .orderBy(asc(targets.name));
    return rows.map((row) => row.name);
  }

  /** A target's recipients (retired ones too: the caller decides). */
  async ofTarget(targetId: string): Promise<RecipientRow[]> {
    const rows = await this.db
      .select({ recipient: recipients })
      .from(targetRecipients)
      .innerJoin(recipients, eq(recipients.id, targetRecipients.recipientId))
      .where(eq(targetRecipients.targetId, targetId))
      .orderBy(asc(recipients.name));
    return rows.map((row) => row.recipient);
  }

  /** Live targets with recipients, each with how many of them are unretired. */
  targetsWithRecipients(): Promise<{ name: string; unretired: number }[]> {
    return this.db
      .select({
        name: targets.name,
        unretired: sql<number>`count(*) filter (where ${recipients.retiredAt} is null)::int`,
      })
      .from(targetRecipients)
      .innerJoin(targets, eq(targets.id, targetRecipients.targetId))
      .innerJoin(recipients, eq(recipients.id, targetRecipients.recipientId))
      .where(isNull(targets.deletedAt))
      .groupBy(targets.name)
      .orderBy(asc(targets.name));
  }

  /** Replaces a target's recipients in one transaction. */
  async setTargetRecipients(targetId: string, recipientIds: readonly string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.delete(targetRecipients).where(eq(targetRecipients.targetId, targetId));
      if (recipientIds.length > 0) {
        await tx.insert(targetRecipients).values(recipientIds.map((recipientId) => ({ targetId, recipientId })));
      }
    });
  }

  /** The key that signs: the newest unretired one. */
  async currentSigningKey(): Promise<SigningKeyRow | undefined> {
    const [row] = await this.db
      .select()
      .from(signingKeys)
      .where(isNull(signingKeys.retiredAt))
      .orderBy(desc(signingKeys.createdAt))
      .limit(1);
    return row;
  }

  async signingKeys(ids: readonly string[]): Promise<SigningKeyRow[]> {
    return ids.length === 0
      ? []
      : this.db
          .select()
          .from(signingKeys)
          .where(inArray(signingKeys.id, [...ids]));
  }

  /** Every sealed value: kept identities and signing keys' private halves. */
  async sealedSecrets(): Promise<SealedSecret[]> {
    const identities = await this.db
      .select({ id: recipients.id, name: recipients.name, sealed: recipients.identitySealed })
      .from(recipients)
      .where(isNotNull(recipients.identitySealed));
    const keys = await this.db.select({ id: signingKeys.id, sealed: signingKeys.privateKeySealed }).from(signingKeys);
    return [
      ...identities.map((row) => ({
        kind: 'identity' as const,
        id: row.id,
        name: `key ${row.name}`,
        sealed: row.sealed!,
      })),
      ...keys.map((row) => ({
        kind: 'signing-key' as const,
        id: row.id,
        name: `signing key ${row.id}`,
        sealed: row.sealed,
      })),
    ];
  }

  /** Compare-and-set: another instance re-sealing the same value at the same time wins harmlessly. */
  async replaceSealed(secret: SealedSecret, to: string): Promise<boolean> {
    const rows =
      secret.kind === 'identity'
        ? await this.db
            .update(recipients)
            .set({ identitySealed: to })
            .where(and(eq(recipients.id, secret.id), eq(recipients.identitySealed, secret.sealed)))
            .returning({ id: recipients.id })
        : await this.db
            .update(signingKeys)
            .set({ privateKeySealed: to })
            .where(and(eq(signingKeys.id, secret.id), eq(signingKeys.privateKeySealed, secret.sealed)))
            .returning({ id: signingKeys.id });
    return rows.length === 1;
  }

  async insertSigningKey(row: Pick<SigningKeyRow, 'id' | 'publicKey' | 'privateKeySealed'>): Promise<void> {
    await this.db.insert(signingKeys).values(row).onConflictDoNothing();
  }
}

function taken(error: unknown, name: string): unknown {
  const cause = ((error as { cause?: unknown }).cause ?? error) as { code?: string; constraint_name?: string };
  if (cause.code !== '23505') return error;
  return cause.constraint_name === 'recipients_fingerprint_idx'
    ? new ServiceError(
        'key/recipient-exists',
        'This recipient is registered already (see pnpm cli key list). Nothing was changed.',
      )
    : new ServiceError('key/name-taken', `A key named "${name}" exists already. Nothing was changed.`);
}
