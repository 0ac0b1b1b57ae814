import type { TableSize } from '@pgbs/engine';

/** Written beside every backup file, so the catalog can be rebuilt from the directory alone. */
export interface BackupManifest {
  manifestVersion: 1;
  id: string;
  fileName: string;
  description: string;
  format: string;
  sizeBytes: number;
  sha256: string;
  serverVersion: string | null;
  clientVersion: string | null;
  databaseName: string | null;
  durationMs: number | null;
  tableCount: number | null;
  tableSizes: TableSize[];
  origin: string;
  createdBy: string | null;
  createdAt: string;
  /** What pg_dump left out, for example subscriptions when the role is no superuser (absent before). */
  omitted?: string[];
  /** The server's roles and grants (pg_dumpall --globals-only), a file beside this one (absent: none kept). */
  globalsFileName?: string;
}

export const MANIFEST_SUFFIX = '.manifest.json';

export function parseManifest(text: string): BackupManifest | null {
  try {
    const value = JSON.parse(text) as Partial<BackupManifest>;
    if (
      value.manifestVersion !== 1 ||
      typeof value.id !== 'string' ||
      typeof value.fileName !== 'string' ||
      typeof value.sha256 !== 'string' ||
      typeof value.sizeBytes !== 'number' ||
      typeof value.format !== 'string'
    ) {
      return null;
    }
    return value as BackupManifest;
  } catch {
    return null;
  }
}
