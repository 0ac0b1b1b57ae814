import type { RecipientRow } from '../../db/schema.js';

/** A recipient as the API and the CLI show it: public values only (whether an identity is kept, never it). */
export interface RecipientView {
  id: string;
  name: string;
  recipient: string;
  fingerprint: string;
  /** The service keeps the identity (sealed): automatic test-restores can open its backups. */
  identityKept: boolean;
  createdAt: Date;
  retiredAt: Date | null;
  /** Backups encrypted to it (others may open some of them too). */
  backupCount: number;
}

export function recipientView(row: RecipientRow, backupCount = 0): RecipientView {
  // Field by field on purpose: a column added later does not reach an answer unless listed here.
  return {
    id: row.id,
    name: row.name,
    recipient: row.recipient,
    fingerprint: row.fingerprint,
    identityKept: row.identitySealed !== null,
    createdAt: row.createdAt,
    retiredAt: row.retiredAt,
    backupCount,
  };
}
