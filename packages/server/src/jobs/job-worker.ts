import type { Clock } from '@pgbs/engine';
import { ServiceError, isCodedError } from '../errors/service-error.js';
import type { AuditLog } from '../audit/audit-log.js';
import { retryWhileUnreachable } from '../db/connection-loss.js';
import type { JobRow } from '../db/schema.js';
import type { Logger } from '../logger.js';
import type { JobEndHook, JobsRepository } from './jobs-repository.js';
import type { TargetConnections } from '../modules/targets/target-connections.js';
import type { HandlerRegistry } from './handler-registry.js';
import type { JobEvents } from './job-events.js';
import type { JobActor, JobContext, JobKind, JobProgress, JobState } from './job-types.js';
import { traced, withJobTrace } from './job-trace.js';
import { NotYet } from './queue.js';
import { type ActivityProbe, StallWatch } from './stall-detector.js';
import { type HeldLock, type LockSessions, takeJobLocks } from './target-lock.js';

/** How long a fetched job waits for a slot before the queue retries it, and how often it looks. */
const SLOT_WAIT_MS = 5_000;
const SLOT_POLL_MS = 500;

export interface Outcome {
  state: 'succeeded' | 'failed' | 'cancelled';
  code?: string;
  message?: string;
  /** Where a restore failed, from the engine's error details. */
  entry?: string;
}

export interface WorkerDeps {
  jobs: JobsRepository;
  registry: HandlerRegistry;
  targets: TargetConnections;
  /** A connection of its own per running job, for its locks. */
  lockSessions: LockSessions;
  clock: Clock;
  events: JobEvents;
  audit: AuditLog;
  logger: Logger;
  instanceId: string;
  /** How a job's sessions on its target are read (stall detection). */
  activityProbe: (target: NonNullable<JobContext<JobKind>['target']>) => ActivityProbe;
  limits: {
    timeoutSeconds: number;
    stallSeconds: number;
    maxConcurrentJobs: number;
    maxJobsPerServer: number;
  };
  /** Written with every job's end, in the same transaction (schedules plan the retry of a failed run). */
  onEnd?: JobEndHook;
  /** How often progress is persisted and cancel requests from other processes are read. */
  persistIntervalMs?: number;
  /** How often a job's activity is checked for a stall. */
  stallCheckMs?: number;
}

interface Running {
  controller: AbortController;
  done: Promise<JobRow>;
}

export const INTERRUPTED = {
  state: 'failed',
  code: 'job/interrupted',
  message: 'The service stopped while this job was running; nothing it wrote was kept.',
} as const satisfies Outcome;

/**
 * Runs the jobs the queue hands to this instance: claims the row, takes the locks and slots, runs
 * the kind's handler with its context, and ends it through `finish`, the one way a job reaches a
 * terminal state (also for recovery and for cancelling a queued job).
 */
export class JobWorker {
  private readonly running = new Map<string, Running>();
  private readonly slotWaiters = new Set<() => void>();
  private stopping = false;

  constructor(private readonly deps: WorkerDeps) {}

  /** The end of a job this process runs (undefined if it runs elsewhere or not yet). */
  whenDone(jobId: string): Promise<JobRow> | undefined {
    return this.running.get(jobId)?.done;
  }

  /** Aborts a job of this process; false if it runs elsewhere. */
  cancelLocal(jobId: string): boolean {
    const local = this.running.get(jobId);
    local?.controller.abort(new ServiceError('job/cancelled', 'The job was cancelled.'));
    return local !== undefined;
  }

  /**
   * The queue's handler. Throws NotYet while the job's database is taken or no slot is free (the
   * queue tries again later; the row stays queued). A job that is no longer queued is dropped.
   */
  async run(jobId: string): Promise<void> {
    if (this.stopping) throw new NotYet('stopping');
    const fetchedAt = this.deps.clock.now();
    let claimed: JobRow | null = null;
    await withJobTrace(
      jobId,
      () =>
        claimed && {
          kind: claimed.kind,
          queuedToFetchMs: fetchedAt - claimed.createdAt.getTime(),
          queuedToClaimMs: claimed.startedAt!.getTime() - claimed.createdAt.getTime(),
        },
      () => this.attempt(jobId, (row) => (claimed = row)),
    );
  }

  private async attempt(jobId: string, onClaimed: (row: JobRow) => void): Promise<void> {
    const row = await traced('find', () => this.deps.jobs.find(jobId));
    if (!row || row.state !== 'queued') return;
    let handler;
    try {
      handler = this.deps.registry.get(row.kind);
    } catch (error) {
      await this.finish(row, this.outcomeOf(error, null));
      return;
    }
    const lock = await traced('locks', () =>
      this.takeLocksSoon({
        database: handler.lock && row.lockKey ? { key: row.lockKey, mode: handler.lock } : null,
        slots: { global: this.deps.limits.maxConcurrentJobs, perServer: this.deps.limits.maxJobsPerServer },
      }),
    );
    if (!lock) throw new NotYet('busy');
    const claimed = await traced('claim', () =>
      this.deps.jobs.claim(jobId, this.deps.instanceId, new Date(this.deps.clock.now())),
    );
    if (!claimed) {
      await lock.release();
      return;
    }
    onClaimed(claimed);
    this.deps.events.publish({ type: 'state', job: claimed });
    const controller = new AbortController();
    const done = this.execute(claimed, handler, controller, lock);
    this.running.set(jobId, { controller, done });
    try {
      await done;
    } finally {
      this.running.delete(jobId);
    }
  }

  /**
   * In a burst a slot frees every few hundred milliseconds: waiting for one here, woken by this
   * process's own jobs ending and polling for other instances', keeps slots busy; the queue's
   * retry (seconds later) would leave them idle. After SLOT_WAIT_MS the queue retries as before.
   */
  private async takeLocksSoon(request: Parameters<typeof takeJobLocks>[1]): Promise<HeldLock | null> {
    const deadline = this.deps.clock.now() + SLOT_WAIT_MS;
    for (;;) {
      const lock = await takeJobLocks(this.deps.lockSessions, request);
      if (lock || this.stopping || this.deps.clock.now() >= deadline) return lock;
      await this.slotFreed(SLOT_POLL_MS);
    }
  }

  /** Resolves when a job of this process releases its locks, or after `ms`. */
  private slotFreed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        timer.cancel();
        this.slotWaiters.delete(done);
        resolve();
      };
      const timer = this.deps.clock.setTimeout(done, ms);
      this.slotWaiters.add(done);
    });
  }

  private async execute(
    job: JobRow,
    handler: ReturnType<HandlerRegistry['get']>,
    controller: AbortController,
    lock: HeldLock,
  ): Promise<JobRow> {
    const { clock, limits } = this.deps;
    const timeout = clock.setTimeout(() => {
      controller.abort(
        new ServiceError('job/timeout', `The job took longer than ${limits.timeoutSeconds} s and was stopped.`),
      );
    }, limits.timeoutSeconds * 1000);
    const record = <T>(work: () => Promise<T>) => this.record(work);
    const applicationName = `pgbs-${job.kind}-${job.id.slice(0, 8)}`;
    let watcher: Watcher | null = null;
    let result: unknown;
    let outcome: Outcome;
    try {
      const target = job.targetId
        ? await traced('target.resolve', () => this.deps.targets.resolve(job.targetId!, { allowDisabled: true }))
        : null;
      const stall =
        target && handler.lock
          ? new StallWatch({
              clock,
              stallMs: limits.stallSeconds * 1000,
              probe: this.deps.activityProbe(target),
              applicationName,
            })
          : null;
      watcher = new Watcher(this.deps, job.id, controller, lock, stall);
      const context: JobContext<JobKind> = {
        job,
        jobId: job.id,
        params: job.params as never,
        target,
        signal: controller.signal,
        applicationName,
        progress: (snapshot) => watcher!.update(snapshot),
        setPartialRef: (ref) => record(() => this.deps.jobs.setPartialRef(job.id, ref)),
        addParams: (values) => record(() => this.deps.jobs.addParams(job.id, values)),
        record,
      };
      result = await traced('handler', () => handler.run(context));
      outcome = { state: 'succeeded' };
    } catch (error) {
      outcome = this.outcomeOf(error, controller.signal);
    } finally {
      timeout.cancel();
      // Its last heartbeat first: one still running on the lock's session when that closes took
      // the locks for lost (a warning at the end of every short job).
      await watcher?.stop();
      await traced('lock.release', () =>
        lock.release().catch((error: unknown) => this.deps.logger.error('lock release failed', { error })),
      );
      for (const wake of [...this.slotWaiters]) wake();
    }
    return traced('finish', () => this.finish(job, outcome, { progress: watcher?.latest ?? null, result }));
  }

  /**
   * The one place a job reaches a terminal state: the row (only if still active), then the audit
   * entry, then the event (so that whoever waits for the end finds the audit written). If the
   * metadata database stays unreachable, the outcome still reaches the subscribers.
   */
  async finish(
    job: JobRow,
    outcome: Outcome,
    extra: { progress?: JobProgress | null; result?: unknown; onlyFrom?: JobState[] } = {},
  ): Promise<JobRow> {
    const progress = extra.progress ?? null;
    const end = {
      state: outcome.state,
      errorCode: outcome.code ?? null,
      errorMessage: outcome.message ?? null,
      errorEntry: outcome.entry ?? null,
      finishedAt: new Date(this.deps.clock.now()),
      progress,
    };
    let row: JobRow;
    try {
      const stored = await this.record(() => this.deps.jobs.finish(job.id, end, extra.onlyFrom, this.deps.onEnd));
      // Ended elsewhere meanwhile (recovered as interrupted, or cancelled while queued), or claimed
      // (onlyFrom queued): that stands.
      if (!stored) return await this.deps.jobs.get(job.id);
      row = stored;
    } catch (error) {
      this.deps.logger.error('could not record the end of a job', { jobId: job.id, state: outcome.state, error });
      row = { ...job, ...end, progress: progress ?? job.progress, partialRef: null };
    }
    await this.auditEnd(row, extra.result).catch((error: unknown) =>
      this.deps.logger.error('could not audit the end of a job', { jobId: job.id, error }),
    );
    this.deps.events.publish({ type: 'state', job: row });
    return row;
  }

  /** Stops taking jobs and interrupts those running here; each still ends through `finish`. */
  async stop(): Promise<void> {
    this.stopping = true;
    const running = [...this.running.values()];
    for (const job of running) {
      job.controller.abort(new ServiceError(INTERRUPTED.code, 'The instance running this job was stopped.'));
    }
    await Promise.allSettled(running.map((job) => job.done));
  }

  private async auditEnd(job: JobRow, result: unknown): Promise<void> {
    if (!this.deps.registry.has(job.kind)) return;
    const entry = this.deps.registry.get(job.kind).audit?.(job, result);
    if (!entry) return;
    const actor = (job.params as { actor?: JobActor }).actor;
    await this.deps.audit.record({
      actor: actor?.name ?? job.requestedBy,
      address: actor?.address ?? null,
      action: entry.action,
      outcome: job.state === 'succeeded' || job.state === 'cancelled' ? job.state : 'failed',
      subjectId: entry.subjectId,
      targetId: job.targetId,
      details: { ...entry.details, jobId: job.id, state: job.state, errorCode: job.errorCode },
    });
  }

  private outcomeOf(error: unknown, signal: AbortSignal | null): Outcome {
    const reason: unknown = signal?.aborted ? signal.reason : error;
    if (isCodedError(reason, 'job/cancelled'))
      return { state: 'cancelled', code: reason.code, message: reason.message };
    if (isCodedError(reason)) {
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
}

/**
 * Publishes every snapshot at once; about once a second persists the latest, reads what other
 * processes asked (cancel; another instance ending the job), keeps the locks (taken again if a
 * restart of the metadata database dropped them) and, less often, checks for a stall.
 */
class Watcher {
  latest: JobProgress | null = null;
  private dirty = false;
  private lockLost = false;
  private timer: { cancel(): void } | null = null;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastStallCheck: number;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly jobId: string,
    private readonly controller: AbortController,
    private readonly lock: HeldLock,
    private readonly stall: StallWatch | null,
  ) {
    this.lastStallCheck = deps.clock.now();
    this.schedule();
  }

  update(snapshot: JobProgress): void {
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

  private abort(error: ServiceError): void {
    if (!this.controller.signal.aborted) this.controller.abort(error);
  }

  private async flush(): Promise<void> {
    const held = await this.lock.keep();
    if (held === this.lockLost) {
      this.lockLost = !held;
      if (held) this.deps.logger.info('took the job locks again', { jobId: this.jobId });
      else this.deps.logger.warn('the job has lost its locks; trying to take them again', { jobId: this.jobId });
    }
    const now = this.deps.clock.now();
    let activityAt: Date | undefined;
    if (this.stall && now - this.lastStallCheck >= (this.deps.stallCheckMs ?? 30_000)) {
      this.lastStallCheck = now;
      const stalled = await this.stall.check(this.latest?.bytes ?? 0);
      if (stalled) this.abort(stalled);
      activityAt = new Date(this.stall.lastActivityAt);
    }
    try {
      const progress = this.dirty && this.latest ? this.latest : undefined;
      this.dirty = false;
      const row = await traced('heartbeat', () => this.deps.jobs.heartbeat(this.jobId, { progress, activityAt }));
      if (row?.cancelRequested) this.abort(new ServiceError('job/cancelled', 'The job was cancelled.'));
      if (row && row.state !== 'running') {
        this.abort(new ServiceError(INTERRUPTED.code, 'Another instance ended this job (it took this one for gone).'));
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
