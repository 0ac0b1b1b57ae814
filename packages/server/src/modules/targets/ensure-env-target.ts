import { parsePgUrl } from '@pgbs/engine';
import { and, inArray, isNull, like, lt, min, or } from 'drizzle-orm';
import type { MetadataDb } from '../../db/client.js';
import { type TargetRow, auditEvents, backups, jobs, targets } from '../../db/schema.js';
import { TargetRepository } from './target-repository.js';
import { withoutPassword } from './target-url.js';

/** A database name as a target name: lower case, other characters as "-" (the name rules of add). */
export function envTargetName(url: string): string {
  const name = parsePgUrl(url)
    .database.toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
  return name || 'default';
}

/**
 * DATABASE_URL's (or the embedded demo's) target, refreshed at each start: the env-managed row is
 * updated to the URL given (without its password, which stays in the environment) or created.
 * Without one (METADATA_DATABASE_URL alone), a former env-managed row is handed over to the
 * administrator, disabled: its backups keep their target, and it can be given a password or removed.
 * Backups, jobs and audit events from before targets existed (target_id null) are attached to it.
 */
export async function ensureEnvTarget(
  db: MetadataDb,
  input: { name?: string; url: string } | null,
): Promise<TargetRow | null> {
  const repo = new TargetRepository(db);
  const existing = await repo.envManaged();
  if (!input) {
    if (existing) await repo.update(existing.id, { managedBy: null, enabled: false });
    return null;
  }
  const values = {
    name: input.name ?? envTargetName(input.url),
    url: withoutPassword(input.url),
    enabled: true,
    passwordSealed: null,
  };
  const row = existing
    ? await repo.update(existing.id, values)
    : await repo.insert({ ...values, kind: 'database', managedBy: 'env' });
  await attachOrphans(db, row.id);
  return row;
}

/** The kinds the first stage had; each ran on its single database. */
const FIRST_STAGE_JOB_KINDS = ['backup', 'restore', 'verify'];

async function attachOrphans(db: MetadataDb, targetId: string): Promise<void> {
  await db.update(backups).set({ targetId }).where(isNull(backups.targetId));
  // Only the first stage's jobs, from before the first target row (removed ones stay, so the
  // oldest row is when targets began): a later job without a target has none on purpose.
  const [first] = await db.select({ at: min(targets.createdAt) }).from(targets);
  if (first?.at) {
    await db
      .update(jobs)
      .set({ targetId })
      .where(and(isNull(jobs.targetId), inArray(jobs.kind, FIRST_STAGE_JOB_KINDS), lt(jobs.createdAt, first.at)));
  }
  // Only events about backups and jobs: logins and user changes concern no target.
  await db
    .update(auditEvents)
    .set({ targetId })
    .where(
      and(isNull(auditEvents.targetId), or(like(auditEvents.action, 'backup.%'), like(auditEvents.action, 'job.%'))),
    );
}
