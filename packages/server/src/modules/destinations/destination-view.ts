import type { DestinationRow } from '../../db/schema.js';
import type { DestinationUsage } from './destination-repository.js';
import { locationOf } from './destination-settings.js';

/** A destination as the API and the CLI show it: never its credentials (only whether some are stored). */
export interface DestinationView {
  id: string;
  name: string;
  kind: string;
  location: string;
  /** local: directory; s3: endpoint, region, bucket, prefix, pathStyle. */
  settings: Record<string, unknown>;
  hasCredentials: boolean;
  enabled: boolean;
  managedBy: string | null;
  lastTest: Record<string, unknown> | null;
  usage: DestinationUsage;
  createdAt: Date;
  updatedAt: Date;
}

export function destinationView(row: DestinationRow, usage: DestinationUsage | undefined): DestinationView {
  // Field by field on purpose: a column added later does not reach an answer unless listed here.
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    location: locationOf(row),
    settings: { ...row.settings },
    hasCredentials: row.credentialsSealed !== null,
    enabled: row.enabled,
    managedBy: row.managedBy,
    lastTest: row.lastTest,
    usage: usage ?? { copies: 0, bytes: 0 },
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
