import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { ServiceError } from '../../errors/service-error.js';
import type { MetadataDb } from '../../db/client.js';
import type { JobRow } from '../../db/schema.js';
import type { HandlerRegistry } from '../../jobs/handler-registry.js';
import type { JobEvents } from '../../jobs/job-events.js';
import type { JobActor, JobKind, JobParamsByKind } from '../../jobs/job-types.js';
import type { JobWorker } from '../../jobs/job-worker.js';
import { type JobQueue, SHARED_QUEUE, instanceQueue } from '../../jobs/queue.js';
import { LOCK_NAMESPACE, lockKeyOf } from '../../jobs/target-lock.js';
import type { JobsRepository } from '../../jobs/jobs-repository.js';

export interface EnqueueDeps {
  db: MetadataDb;
  jobs: JobsRepository;
  registry: HandlerRegistry;
  queue: JobQueue;
  worker: JobWorker;
  events: JobEvents;
  instanceId: string;
}

export interface JobRequest<K extends JobKind> {
  kind: K;
  params: JobParamsByKind[K];
  actor: JobActor;
  targetId: string | null;
  /** "<server identity>/<database>" (databaseLockKey) for jobs that hold a database. */
  lockKey: string | null;
  /** The target's name, for the refusal's message. */
  targetDisplay?: string;
  backupId?: string | null;
  scheduleRunId?: string | null;
  attempt?: number;
  /** "here": only this instance can run it (a file it spooled; a CLI runs its own jobs). */
  placement: 'any' | 'here';
  /** Queued now, run no sooner than this many seconds later (a retry's backoff). */
  startAfterSeconds?: number;
  /**
   * Not queued (ActiveJobExists) while a job of the same kind and target is queued or running: a
   * schedule's slot or retry is skipped for overlap. Checked under the database's enqueue lock, so
   * two instances (a fresh slot on one, a due retry on another) cannot both pass.
   */
  unlessActive?: boolean;
}

/** What an `unlessActive` request finds instead of queueing: the job of its kind and target that is active. */
export class ActiveJobExists extends ServiceError {
  constructor(readonly activeJobId: string) {
    super('job/busy', 'A job of this kind is queued or running for this target already.', { jobId: activeJobId });
  }
}

export interface StartedJob {
  job: JobRow;
  /** Settles with the final row; never rejects (the outcome is in the row). */
  done: Promise<JobRow>;
}

/**
 * Inserts the job's row as queued and puts it on the queue. Refused at once (job/busy, nothing
 * queued) when it conflicts with the active jobs of its database: a restore needs the database to
 * itself, and a backup does not start while a restore is queued or running. One transaction under
 * a per-database lock, so two requests at once cannot both pass; a session lock held outside any
 * job (an older process, a test) counts as well.
 */
export async function enqueueJob<K extends JobKind>(deps: EnqueueDeps, request: JobRequest<K>): Promise<JobRow> {
  const mode = deps.registry.get(request.kind).lock;
  const id = randomUUID();
  const row = await deps.db.transaction(async (tx) => {
    const lockKey = mode ? request.lockKey : null;
    const key = lockKey ? lockKeyOf(lockKey) : null;
    if (key !== null) await tx.execute(sql`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE.enqueue}, ${key})`);
    if (request.unlessActive && request.targetId) {
      const [same] = await deps.jobs.activeOfTarget(tx, request.targetId, request.kind);
      if (same) throw new ActiveJobExists(same.id);
    }
    if (lockKey && key !== null) {
      const active = await deps.jobs.activeOnLock(tx, lockKey);
      const conflict = active.find((job) => mode === 'exclusive' || deps.registry.get(job.kind).lock === 'exclusive');
      const [probe] = await tx.execute<{ free: boolean }>(
        mode === 'exclusive'
          ? sql`SELECT pg_try_advisory_xact_lock(${LOCK_NAMESPACE.database}, ${key}) AS free`
          : sql`SELECT pg_try_advisory_xact_lock_shared(${LOCK_NAMESPACE.database}, ${key}) AS free`,
      );
      if (conflict || !probe?.free) {
        const name = request.targetDisplay ?? 'the database';
        throw new ServiceError(
          'job/busy',
          mode === 'exclusive'
            ? `Another backup or restore of ${name} is running or queued; a restore needs the database to itself. Try again when it has finished.`
            : `A restore of ${name} is running or queued; backups wait until it has finished.`,
          conflict ? { jobId: conflict.id } : {},
        );
      }
    }
    return deps.jobs.insertQueued(tx, {
      id,
      kind: request.kind,
      targetId: request.targetId,
      lockKey: request.lockKey,
      backupId: request.backupId ?? null,
      params: { ...request.params, actor: request.actor },
      requestedBy: request.actor.name,
      instanceId: request.placement === 'here' ? deps.instanceId : null,
      scheduleRunId: request.scheduleRunId ?? null,
      attempt: request.attempt ?? 1,
    });
  });
  try {
    await deps.queue.send(request.placement === 'here' ? instanceQueue(deps.instanceId) : SHARED_QUEUE, id, {
      startAfterSeconds: request.startAfterSeconds,
    });
  } catch (error) {
    await deps.worker.finish(row, {
      state: 'failed',
      code: 'job/not-queued',
      message: `The job could not be queued: ${error instanceof Error ? error.message : String(error)}`,
    });
    throw new ServiceError('job/not-queued', 'The job could not be queued (is the metadata database reachable?).');
  }
  deps.events.publish({ type: 'state', job: row });
  return row;
}
