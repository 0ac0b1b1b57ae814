import type { MetadataDb } from '../db/client.js';
import { auditEvents } from '../db/schema.js';
import type { Logger } from '../logger.js';

export interface AuditEntry {
  actor: string | null;
  action: string;
  outcome: 'succeeded' | 'failed';
  address?: string | null;
  subjectId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}

/** Audit writes never fail the operation they describe; a failed write is logged. */
export function databaseAuditLog(db: MetadataDb, logger: Logger): AuditLog {
  return {
    async record(entry) {
      try {
        await db.insert(auditEvents).values({
          actor: entry.actor,
          action: entry.action,
          outcome: entry.outcome,
          address: entry.address ?? null,
          subjectId: entry.subjectId ?? null,
          details: entry.details ?? {},
        });
      } catch (error) {
        logger.error('audit write failed', { error, action: entry.action });
      }
    },
  };
}
