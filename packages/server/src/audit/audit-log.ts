import type { MetadataDb } from '../db/client.js';
import { auditEvents } from '../db/schema.js';
import type { Logger } from '../logger.js';

export interface AuditEntry {
  actor: string | null;
  action: string;
  outcome: 'succeeded' | 'failed' | 'cancelled';
  address?: string | null;
  subjectId?: string | null;
  /** The target it concerns, so the log can be filtered by target. */
  targetId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}

/** Every string the audit log stores is cut to this many characters: anonymous input can be megabytes. */
export const AUDIT_MAX_CHARS = 256;

/** A string cut to AUDIT_MAX_CHARS (ending in "…"), never between the halves of a surrogate pair. */
function cap(text: string): string {
  if (text.length <= AUDIT_MAX_CHARS) return text;
  const cut = text.slice(0, AUDIT_MAX_CHARS - 1);
  return (/[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut) + '…';
}

/** Strings (keys too) capped at any depth. */
function capped(value: unknown): unknown {
  if (typeof value === 'string') return cap(value);
  if (Array.isArray(value)) return value.map(capped);
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [cap(key), capped(item)]));
  }
  return value;
}

/** Audit writes never fail the operation they describe; a failed write is logged. */
export function databaseAuditLog(db: MetadataDb, logger: Logger): AuditLog {
  return {
    async record(entry) {
      try {
        const row = capped({
          actor: entry.actor,
          action: entry.action,
          outcome: entry.outcome,
          address: entry.address ?? null,
          subjectId: entry.subjectId ?? null,
          targetId: entry.targetId ?? null,
          details: entry.details ?? {},
        }) as typeof auditEvents.$inferInsert;
        await db.insert(auditEvents).values(row);
      } catch (error) {
        logger.error('audit write failed', { error, action: entry.action });
      }
    },
  };
}
