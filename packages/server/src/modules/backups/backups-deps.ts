import type { Writable } from 'node:stream';
import type { Clock, Codec, ExpansionLimit, ProcessRunner, ToolResolver } from '@pgbs/engine';
import type { AuditLog } from '../../audit/audit-log.js';
import type { JobKind } from '../../jobs/job-types.js';
import type { RestoreSpool } from '../../storage/restore-spool.js';
import type { JobRequest, StartedJob } from '../jobs/enqueue-job.js';
import type { JobsRepository } from '../../jobs/jobs-repository.js';
import type { ResolvedTarget, TargetConnections } from '../targets/target-connections.js';
import type { BackupPlacement } from './backup-placement.js';
import type { BackupsRepository } from './backups-repository.js';
import type { CopiesRepository } from './copies-repository.js';
import type { CopyLeases } from './copy-leases.js';
import type { BackupKeys } from './backup-encryption.js';
import type { IdentityVault } from './identity-vault.js';

/** What the backup operations and handlers use; chosen in app.ts. */
export interface BackupsDeps {
  backups: BackupsRepository;
  jobs: JobsRepository;
  /** A target's destinations: a backup is written to the first, then copied to the others. */
  placement: BackupPlacement;
  copies: CopiesRepository;
  /** Read leases on copies (downloads) and the claims of deletes, across instances. */
  leases: CopyLeases;
  /** Waits before a failed copy's retries (tests: seconds, not the default minutes). */
  copyRetryDelaysSeconds?: readonly number[];
  /** Where restores that cannot stream from storage are copied first (UPLOAD_TEMP_DIR/<instance>). */
  restoreSpool: RestoreSpool;
  audit: AuditLog;
  runner: ProcessRunner;
  clock: Clock;
  tools: ToolResolver;
  targets: TargetConnections;
  /** Queues a job and follows it to its end. */
  startJob<K extends JobKind>(
    request: Omit<JobRequest<K>, 'placement'> & { placement?: 'here' | 'any' },
  ): Promise<StartedJob>;
  /** The server a target is on (its system_identifier), for the job's lock key. */
  serverIdentity(target: ResolvedTarget): Promise<string>;
  /**
   * Writes the target's roles and grants (pg_dumpall --globals-only) into sink; false, having
   * written nothing, when the target does not keep them. The targets module implements it.
   */
  dumpGlobals?: (targetId: string, sink: Writable) => Promise<boolean>;
  /** BACKUP_CODEC and BACKUP_LEVEL (config.ts). */
  codec: Codec;
  compressionLevel?: number;
  /** How far a backup may decompress (MAX_EXPANSION_RATIO); absent: the engine's default. */
  expansionLimit?: ExpansionLimit;
  /** After each successful backup of a target (retention queues its prune). */
  afterBackup?: (targetId: string) => Promise<void>;
  /** Encryption, signing and kept identities (app.keys); absent: backups in clear, manifests unsigned. */
  keys?: BackupKeys;
  /** Identities given per request, in memory on this instance for the job they were given to. */
  identityVault: IdentityVault;
  lockTimeoutSeconds: number;
  jobTimeoutSeconds: number;
}
