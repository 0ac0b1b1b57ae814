import type { PgTarget } from '@pgbs/engine';

/** A database target with what it takes to connect to it (the password decrypted, in memory only). */
export interface ResolvedTarget {
  id: string;
  name: string;
  enabled: boolean;
  /** "env": DATABASE_URL's (or the embedded demo's) target, refreshed at each start, read-only. */
  managedBy: string | null;
  connection: PgTarget;
}

/**
 * How operations and job handlers reach a target: by id, never by a URL from the request. The
 * one implementation reads the targets table and opens sealed passwords with the key ring.
 */
export interface TargetConnections {
  /** Coded errors: target/not-found (or removed), target/disabled unless allowDisabled. */
  resolve(targetId: string, options?: { allowDisabled?: boolean }): Promise<ResolvedTarget>;
  /** By name, as the CLI and the API's `target` arguments give it. */
  resolveByName(name: string, options?: { allowDisabled?: boolean }): Promise<ResolvedTarget>;
  /** The target used when none is named: the env-managed one, else the only one; target/none otherwise. */
  defaultTarget(): Promise<ResolvedTarget>;
}
