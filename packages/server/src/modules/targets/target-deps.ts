import type { Clock, PgTarget, ProcessRunner, ToolResolver } from '@pgbs/engine';
import type { AuditLog } from '../../audit/audit-log.js';
import type { KeyRing } from './credential-box.js';
import type { MetadataIdentity } from './metadata-identity.js';
import type { TargetRepository } from './target-repository.js';

/** What the target operations share; app.ts picks the real ones. */
export interface TargetDeps {
  repo: TargetRepository;
  keys: KeyRing;
  runner: ProcessRunner;
  tools: ToolResolver;
  clock: Clock;
  audit: AuditLog;
  /** The env-managed target's connection by id: its password comes from the environment and is never stored. */
  envConnections: ReadonlyMap<string, PgTarget>;
  /** Which server and database hold the service's own metadata (never backed up as a server's child). */
  metadataIdentity(): Promise<MetadataIdentity>;
}

/** Who asked, for the audit log. */
export interface Actor {
  name: string | null;
  address?: string | null;
}
