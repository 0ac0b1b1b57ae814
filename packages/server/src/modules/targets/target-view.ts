import type { TargetRow } from '../../db/schema.js';

/** A target as the API and the CLI show it: everything but the sealed password (only whether one is stored). */
export interface TargetView {
  id: string;
  name: string;
  kind: string;
  parentId: string | null;
  url: string;
  hasPassword: boolean;
  enabled: boolean;
  managedBy: string | null;
  excludeDatabases: string[];
  keepGlobals: boolean;
  globalsWithPasswords: boolean;
  lastTest: Record<string, unknown> | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

export function targetView(row: TargetRow): TargetView {
  // Field by field on purpose: a column added later does not reach an answer unless listed here.
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    parentId: row.parentId,
    url: row.url,
    hasPassword: row.passwordSealed !== null,
    enabled: row.enabled,
    managedBy: row.managedBy,
    excludeDatabases: row.excludeDatabases,
    keepGlobals: row.keepGlobals,
    globalsWithPasswords: row.globalsWithPasswords,
    lastTest: row.lastTest,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    deletedAt: row.deletedAt,
  };
}
