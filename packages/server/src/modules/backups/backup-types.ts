import type {
  ArchiveFormat,
  BackupFormat,
  Codec,
  PostDataItem,
  RestoreOptions,
  TableSize,
  readArchiveSummary,
} from '@pgbs/engine';
import type { JobActor } from '../../jobs/job-types.js';

export type Actor = JobActor;

export type BackupOrigin = 'manual' | 'scheduled' | 'upload' | 'pre-restore-snapshot';

export interface RestoreChoices extends RestoreOptions {
  safetySnapshot: boolean;
  /** Leave out what the owner's rights cannot create, and leave in place what they cannot drop. */
  skipUnrestorable?: boolean;
  /** The backup is of another database: restore it here all the same. */
  acceptSourceMismatch?: boolean;
  /** Terminate the sessions that hold locks the restore needs, instead of failing target-busy. */
  terminateBlockers?: boolean;
}

export interface RestoreRequestInput {
  /** A stored backup, or a file on this machine (validated first); `label` names it in descriptions and the audit log. */
  source: { backupId: string } | { filePath: string; label?: string };
  /** Must equal the target database's name. */
  confirmation: string;
  options: RestoreChoices;
  /** The age identity file's text for an encrypted backup: held in memory for the job, never stored. */
  identity?: string;
}

/** What a restore reads, validated when it was asked for: the restore checks the bytes against it. */
export interface RestoreSource {
  backupId: string | null;
  /** The stored object, for a stored backup. */
  fileName: string | null;
  /** A file on the instance that runs the job, for a file from outside (an upload). */
  filePath: string | null;
  label: string;
  format: ArchiveFormat;
  codec: Codec;
  /**
   * Not known to be written by this service (an upload, or a manifest without a valid signature):
   * validated completely first and read from a local copy (restore-input.ts).
   */
  foreign: boolean;
  /** age-encrypted: the job needs the identity its request held in memory (identityRef). */
  encrypted?: boolean;
  sha256: string;
  contentSha256: string | null;
  databaseName: string | null;
  sizeBytes: number;
  tables: TableSize[];
  postDataItems: number | PostDataItem[];
}

export type ArchiveContents = Awaited<ReturnType<typeof readArchiveSummary>>;

export interface BackupFilter {
  /** Part of the file name or the description, any case. */
  search?: string | null;
  origin?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
  /** Only the backups of this target (removed targets too). */
  targetId?: string | null;
}

export interface BackupJobParams {
  format: BackupFormat;
  description: string;
  /** The target's name when it was asked for (display). */
  target: string;
  /** scheduled: for a schedule's slot (counts as such for the failed-runs guard); absent: manual. */
  origin?: 'manual' | 'scheduled';
  actor?: JobActor;
}

export interface RestoreJobParams {
  target: string;
  options: RestoreChoices;
  source: RestoreSource;
  /** A file from outside (an upload), by its path on the instance that runs the job. */
  file?: string;
  /** The backup taken before the restore, once it exists. */
  safetySnapshotId?: string;
  /** Names the identity this instance holds in memory for the job (identity-vault.ts); never the identity. */
  identityRef?: string;
  actor?: JobActor;
}

export interface VerifyJobParams {
  target: string;
  /** Decrypt, decompress and check the content digest and the archive, not only the stored digest. */
  deep?: boolean;
  identityRef?: string;
  actor?: JobActor;
}

declare module '../../jobs/job-types.js' {
  interface JobParamsByKind {
    backup: BackupJobParams;
    restore: RestoreJobParams;
    verify: VerifyJobParams;
  }
}
