import { type SQL, and, desc, eq, gte, ilike, like, lt, or, sql } from 'drizzle-orm';
import type { MetadataDb } from '../db/client.js';
import { likeLiteral } from '../db/like.js';
import { type AuditEventRow, auditEvents } from '../db/schema.js';
import { isUuid } from '../ids.js';

export interface AuditFilter {
  action?: string | null;
  /** The start of the action or of one of its dot-separated parts. */
  actionPrefix?: string | null;
  actor?: string | null;
  actorContains?: string | null;
  since?: Date | null;
  before?: Date | null;
  /** Only the entries about this target. */
  targetId?: string | null;
}

/** The audit log, newest first; the filters combine. */
export function listAuditEvents(
  db: MetadataDb,
  filter: AuditFilter & { limit: number; offset: number },
): Promise<AuditEventRow[]> {
  const filters: (SQL | undefined)[] = [];
  if (filter.action) filters.push(eq(auditEvents.action, filter.action));
  const prefix = filter.actionPrefix?.trim();
  if (prefix) {
    const start = likeLiteral(prefix);
    filters.push(or(like(auditEvents.action, `${start}%`), like(auditEvents.action, `%.${start}%`)));
  }
  if (filter.actor) filters.push(eq(auditEvents.actor, filter.actor));
  const actor = filter.actorContains?.trim();
  if (actor) filters.push(ilike(auditEvents.actor, `%${likeLiteral(actor)}%`));
  if (filter.since) filters.push(gte(auditEvents.at, filter.since));
  if (filter.before) filters.push(lt(auditEvents.at, filter.before));
  // Not an id matches nothing (the column is a uuid).
  if (filter.targetId) filters.push(isUuid(filter.targetId) ? eq(auditEvents.targetId, filter.targetId) : sql`false`);
  return db
    .select()
    .from(auditEvents)
    .where(and(...filters))
    .orderBy(desc(auditEvents.at), desc(auditEvents.id))
    .limit(filter.limit)
    .offset(filter.offset);
}
