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
   * Deletes a backup's file and catalog entry, as a manual delete does: throws `backup/in-use`
   * while a job uses it. The backups module implements it.
   */
  deleteBackup(backupId: string, options: { rule: string; actor: Actor }): Promise<void>;
}
