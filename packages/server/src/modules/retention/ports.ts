import type { Clock } from '@pgbs/engine';
import type { AuditLog } from '../../audit/audit-log.js';
import type { MetadataDb } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import type { Actor } from '../schedules/ports.js';

export interface RetentionDeps {
  db: MetadataDb;
  clock: Clock;
  audit: AuditLog;
  logger: Logger;
  /**
   * Deletes one copy of a backup, or the whole backup when that copy is its last complete one
   * ('backup'); throws `backup/in-use` while a job uses the backup or a reader (a download on any
   * instance) leases the copy. The backups module implements it.
   */
  deleteCopy(
    backupId: string,
    destinationId: string,
    /** wholeBackup: the plan deletes the backup, so its last copy may go (and the backup with it). */
    options: { rule: string; actor: Actor; wholeBackup: boolean },
  ): Promise<'copy' | 'backup' | 'kept'>;
  /** The env-managed local destination: where backups from before copies are. */
  localDestinationId: string;
}
