import { randomUUID } from 'node:crypto';
import { and, desc, eq, inArray } from 'drizzle-orm';
import { type Clock, EngineError, isEngineError } from '@pgbs/engine';
import type { MetadataDb } from '../db/client.js';
import { isUuid } from '../ids.js';
import { type JobRow, jobs } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { BackupStorage } from '../storage/local-storage.js';
import type { JobEvents } from './job-events.js';
import { type HeldLock, type LockConnector, type LockMode, lockTarget } from './target-lock.js';
import { retryWhileUnreachable } from '../db/connection-loss.js';

export type JobKind = 'backup' | 'restore' | 'verify';
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const ACTIVE_STATES: JobState[] = ['queued', 'running'];

export interface JobContext {
  readonly jobId: string;
  readonly signal: AbortSignal;
  progress(snapshot: Record<string, unknown>): void;
  /** Records the file being written, so a crash can be cleaned up at the next start. */
  setPartialPath(path: string | null): Promise<void>;
  /**
   * Runs a write that records what the job did, again while the metadata database is unreachable
   * (restarting): the work must be idempotent.
   */
  record<T>(work: () => Promise<T>): Promise<T>;
}

export interface JobSpec {
  kind: JobKind;
  params: Record<string, unknown>;
  backupId?: string | null;
  requestedBy: string | null;
  /** The target's display name; the lock is on it. */
  target: string;
  lock: LockMode;
  /** Runs after the terminal state is stored and before `done` settles (auditing). */
  onFinished?: (job: JobRow) => Promise<void>;
}

export interface StartedJob {
  job: JobRow;
  /** Settles with the final row; never rejects (the outcome is in the row). */
  done: Promise<JobRow>;
}

interface Deps {
  db: MetadataDb;
  /** A connection of its own per target lock. */
  connectForLock: LockConnector;
  clock: Clock;
  events: JobEvents;
  logger: Logger;
  timeoutSeconds: number;
  /** How often progress is persisted and cancel requests from other processes are read. */
  persistIntervalMs?: number;
}

/** Runs jobs in this process: rows with explicit states, one finish path, locks, timeouts, cancel. */
export class JobRunner {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly deps: Deps) {}

  async start(spec: JobSpec, work: (context: JobContext) => Promise<void>): Promise<StartedJob> {
    const lock = await lockTarget(this.deps.connectForLock, spec.target, spec.lock);
    const id = randomUUID();
    let job: JobRow;
    try {
      [job] = (await this.deps.db
        .insert(jobs)
        .values({
          id,
          kind: spec.kind,
          state: 'running',
          backupId: spec.backupId ?? null,
          params: spec.params,
          requestedBy: spec.requestedBy,
          startedAt: new Date(this.deps.clock.now()),
        })
        .returning()) as [JobRow];
    } catch (error) {
      await lock.release();
      throw error;
    }
    this.deps.events.publish({ type: 'state', job });
    const controller = new AbortController();
    this.running.set(id, controller);
    const timeout = this.deps.clock.setTimeout(() => {
      controller.abort(
        new EngineError('job/timeout', `The job took longer than ${this.deps.timeoutSeconds} s and was stopped.`),
      );
    }, this.deps.timeoutSeconds * 1000);
    const progress = new ProgressPersister(this.deps, id, controller, lock);
    const record = <T>(work: () => Promise<T>) => this.record(work);
    const context: JobContext = {
      jobId: id,
      signal: controller.signal,
      progress: (snapshot) => progress.update(snapshot),
      setPartialPath: (path) =>
        record(async () => {
          await this.deps.db.update(jobs).set({ partialPath: path }).where(eq(jobs.id, id));
        }),
      record,
    };
    const done = (async () => {
      let outcome: Outcome;
      try {
        await work(context);
        outcome = { state: 'succeeded' };
      } catch (error) {
        outcome = this.outcomeOf(error, controller.signal);
      } finally {
        timeout.cancel();
        this.running.delete(id);
        await lock.release().catch((error: unknown) => this.deps.logger.error('lock release failed', { error }));
      }
      await progress.stop();
      const finished = await this.finish(job, outcome, progress.latest);
      await spec
        .onFinished?.(finished)
        .catch((error: unknown) => this.deps.logger.error('onFinished failed', { error }));
      return finished;
    })();
    return { job, done };
  }

  async get(jobId: string): Promise<JobRow> {
    const [row] = isUuid(jobId) ? await this.deps.db.select().from(jobs).where(eq(jobs.id, jobId)) : [];
    if (!row) throw new EngineError('job/not-found', `No job ${jobId}.`);
    return row;
  }

  list(options: { limit: number; offset: number }): Promise<JobRow[]> {
    return this.deps.db.select().from(jobs).orderBy(desc(jobs.createdAt)).limit(options.limit).offset(options.offset);
  }

  /** Cancels a job of this process now, or asks the owning process through the row. */
  async cancel(jobId: string): Promise<JobRow> {
    const current = await this.get(jobId);
    if (!ACTIVE_STATES.includes(current.state as JobState)) return current;
    const local = this.running.get(jobId);
    if (local) {
      local.abort(new EngineError('job/cancelled', 'The job was cancelled.'));
    } else {
      await this.deps.db
        .update(jobs)
        .set({ cancelRequested: true })
        .where(and(eq(jobs.id, jobId), inArray(jobs.state, ACTIVE_STATES)));
    }
    return this.get(jobId);
  }

  /**
   * At start-up: a job still "running" whose process is gone (its lock is free)
   * was interrupted by a crash. Mark it failed and remove its partial file.
   */
  async recoverInterrupted(storage: BackupStorage, isTargetFree: (job: JobRow) => Promise<boolean>): Promise<JobRow[]> {
    const stale = await this.deps.db.select().from(jobs).where(inArray(jobs.state, ACTIVE_STATES));
    const recovered: JobRow[] = [];
    for (const job of stale) {
      if (this.running.has(job.id) || !(await isTargetFree(job))) continue;
      if (job.partialPath) await storage.removePath(job.partialPath);
      recovered.push(
        await this.finish(job, {
          state: 'failed',
          code: 'job/interrupted',
          message: 'The service stopped while this job was running; nothing it wrote was kept.',
        }),
      );
    }
    return recovered;
  }

  private outcomeOf(error: unknown, signal: AbortSignal): Outcome {
    const reason: unknown = signal.aborted ? signal.reason : error;
    if (isEngineError(reason, 'job/cancelled'))
      return { state: 'cancelled', code: reason.code, message: reason.message };
    if (isEngineError(reason)) {
      const entry = reason.details['entry'];
      return {
        state: 'failed',
        code: reason.code,
        message: reason.message,
        ...(typeof entry === 'string' ? { entry } : {}),
      };
    }
    this.deps.logger.error('job failed unexpectedly', { error });
    return {
      state: 'failed',
      code: 'internal',
      message: 'The job failed because of an internal error (see the service log).',
    };
  }

  private record<T>(work: () => Promise<T>): Promise<T> {
    return retryWhileUnreachable(work, {
      clock: this.deps.clock,
      onRetry: (error) => this.deps.logger.warn('metadata database unreachable; retrying', { error }),
    });
  }

  /**
   * The one place a job reaches a terminal state. If the metadata database stays unreachable, the
   * outcome still reaches the subscribers (the row is marked interrupted at the next start).
   */
  private async finish(job: JobRow, outcome: Outcome, progress?: Record<string, unknown> | null): Promise<JobRow> {
    const values = {
      state: outcome.state,
      errorCode: outcome.code ?? null,
      errorMessage: outcome.message ?? null,
      errorEntry: outcome.entry ?? null,
      finishedAt: new Date(this.deps.clock.now()),
      partialPath: null,
      ...(progress ? { progress } : {}),
    };
    let row: JobRow;
    try {
      [row] = (await this.record(() =>
        this.deps.db.update(jobs).set(values).where(eq(jobs.id, job.id)).returning(),
      )) as [JobRow];
    } catch (error) {
      this.deps.logger.error('could not record the end of a job', { jobId: job.id, state: outcome.state, error });
      row = { ...job, ...values };
    }
    this.deps.events.publish({ type: 'state', job: row });
    return row;
  }
}

interface Outcome {
  state: 'succeeded' | 'failed' | 'cancelled';
  code?: string;
  message?: string;
  /** Where a restore failed, from the engine's error details. */
  entry?: string;
}

/**
 * Publishes every snapshot at once; about once a second persists the latest, reads cancel requests
 * and keeps the target lock (taken again if a restart of the metadata database dropped it).
 */
class ProgressPersister {
  latest: Record<string, unknown> | null = null;
  private dirty = false;
  private lockLost = false;
  private timer: { cancel(): void } | null = null;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly deps: Deps,
    private readonly jobId: string,
    private readonly controller: AbortController,
    private readonly lock: HeldLock,
  ) {
    this.schedule();
  }

  update(snapshot: Record<string, unknown>): void {
    this.latest = snapshot;
    this.dirty = true;
    this.deps.events.publish({ type: 'progress', jobId: this.jobId, progress: snapshot });
  }

  private schedule(): void {
    this.timer = this.deps.clock.setTimeout(() => {
      this.writing = this.flush().finally(() => {
        if (!this.stopped) this.schedule();
      });
    }, this.deps.persistIntervalMs ?? 1000);
  }

  private async flush(): Promise<void> {
    const held = await this.lock.keep();
    if (held === this.lockLost) {
      this.lockLost = !held;
      if (held) this.deps.logger.info('took the target lock again', { jobId: this.jobId });
      else this.deps.logger.warn('the job has lost its target lock; trying to take it again', { jobId: this.jobId });
    }
    try {
      const set = this.dirty && this.latest ? { progress: this.latest } : { progress: jobs.progress };
      this.dirty = false;
      const [row] = await this.deps.db
        .update(jobs)
        .set(set)
        .where(eq(jobs.id, this.jobId))
        .returning({ cancelRequested: jobs.cancelRequested });
      if (row?.cancelRequested && !this.controller.signal.aborted) {
        this.controller.abort(new EngineError('job/cancelled', 'The job was cancelled.'));
      }
    } catch (error) {
      this.deps.logger.warn('could not persist job progress', { error });
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.writing;
  }
}
