import type { JobProgress, JobRow } from '../db/schema.js';
import type { ResolvedTarget } from '../modules/targets/target-connections.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const ACTIVE_STATES: JobState[] = ['queued', 'running'];

/** Defined with the column that stores it; jobs and the API know it by this name. */
export type { JobProgress };

/**
 * Each job kind's params (stored in jobs.params). A module adds its kinds by declaration merging:
 * `declare module '../../jobs/job-types.js' { interface JobParamsByKind { prune: PruneParams } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by the modules
export interface JobParamsByKind {}

export type JobKind = keyof JobParamsByKind & string;

/** Who asked for a job, kept with it so that its end is audited in their name. */
export interface JobActor {
  /** An email, "cli:<user>"; null for the system. */
  name: string | null;
  address?: string | null;
}

/** What one run of a job gets from the worker. */
export interface JobContext<K extends JobKind> {
  readonly job: JobRow;
  readonly jobId: string;
  readonly params: JobParamsByKind[K];
  /** The job's target (jobs.target_id), resolved with its connection; null for jobs without one. */
  readonly target: ResolvedTarget | null;
  readonly signal: AbortSignal;
  /** The application_name its sessions on the target use: stall detection looks for them. */
  readonly applicationName: string;
  progress(snapshot: JobProgress): void;
  /** Records the storage writer's partial ref, so a crash can be cleaned up by the next instance that looks. */
  setPartialRef(ref: string | null): Promise<void>;
  /** Merges keys into the job's params (what the job made, e.g. a safety snapshot's id). */
  addParams(values: Partial<JobParamsByKind[K]>): Promise<void>;
  /**
   * Runs a write that records what the job did, again while the metadata database is unreachable
   * (restarting): the work must be idempotent.
   */
  record<T>(work: () => Promise<T>): Promise<T>;
}

/** What the audit log says when a job ends. */
export interface JobAudit {
  action: string;
  subjectId: string | null;
  details: Record<string, unknown>;
}

export interface JobHandler<K extends JobKind, R = unknown> {
  /** How the job holds its database: a restore alone, backups side by side; null: no lock. */
  lock: 'shared' | 'exclusive' | null;
  /** The work; throws coded errors. Its result goes to `audit`. */
  run(context: JobContext<K>): Promise<R>;
  /** The audit entry of its end (any state); none if omitted. */
  audit?(job: JobRow, result: R | undefined): JobAudit;
}
