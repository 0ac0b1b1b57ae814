import type { Clock } from '@pgbs/engine';
import type { AuditLog } from '../../audit/audit-log.js';
import type { MetadataDb } from '../../db/client.js';
import type { Logger } from '../../logger.js';

export interface EnqueueBackup {
  targetId: string;
  /** The slot's record; null for "run now", which is a person's request. */
  scheduleRunId: string | null;
  /** The slot's attempt (1; a retry: 2, 3, ...). */
  attempt?: number;
  origin: 'scheduled' | 'manual';
  requestedBy: string | null;
}

/** What schedules need from the job queue; the queue module implements it. */
export interface BackupQueue {
  /** Queues a backup of one database target; the job id. */
  enqueueBackup(request: EnqueueBackup): Promise<string>;
  /**
   * Queues a slot's backup (or its retry); null, and nothing queued, while a backup of the target
   * is queued or running. Checked atomically with the enqueue: a fresh slot on one instance and a
   * due retry on another cannot both queue one.
   */
  enqueueSlotBackup(request: EnqueueBackup & { scheduleRunId: string }): Promise<string | null>;
  /** The job that was queued for a slot's attempt, if any (recovering a claim whose instance died before recording it). */
  jobOfScheduleRun(scheduleRunId: string, attempt: number): Promise<string | null>;
}

export interface ScheduleDeps {
  db: MetadataDb;
  queue: BackupQueue;
  clock: Clock;
  audit: AuditLog;
  logger: Logger;
}

/** Who asked (the audit log's actor and address). */
export interface Actor {
  name: string | null;
  address?: string | null;
}
