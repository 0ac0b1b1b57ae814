import { and, desc, eq, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import { ServiceError } from '../errors/service-error.js';
import type { MetadataDb } from '../db/client.js';
import { type BackupRow, type JobRow, jobs } from '../db/schema.js';
import { isUuid } from '../ids.js';
import { ACTIVE_STATES, type JobProgress, type JobState } from './job-types.js';

export type NewJob = Pick<typeof jobs.$inferInsert, 'id' | 'kind' | 'targetId' | 'lockKey' | 'backupId' | 'params'> &
  Pick<typeof jobs.$inferInsert, 'requestedBy' | 'instanceId' | 'scheduleRunId' | 'attempt'>;

export interface JobEnd {
  state: 'succeeded' | 'failed' | 'cancelled';
  errorCode: string | null;
  errorMessage: string | null;
  errorEntry: string | null;
  finishedAt: Date;
  progress?: JobProgress | null;
}

/** What else a job's end writes, in the transaction that ends it. */
export type JobEndHook = (tx: Pick<MetadataDb, 'update' | 'select' | 'insert'>, ended: JobRow) => Promise<void>;

/** The jobs table: the record of every job that the API shows. */
export function jobsRepository(db: MetadataDb) {
  const one = async (rows: Promise<JobRow[]>) => (await rows)[0] ?? null;
  return {
    async get(id: string): Promise<JobRow> {
      const row = isUuid(id) ? await one(db.select().from(jobs).where(eq(jobs.id, id))) : null;
      if (!row) throw new ServiceError('job/not-found', `No job ${id}.`);
      return row;
    },
    find: (id: string) => one(db.select().from(jobs).where(eq(jobs.id, id))),
    /** Newest first; with targetId, only that target's jobs. */
    list: (options: { limit: number; offset: number; targetId?: string | null }) =>
      db
        .select()
        .from(jobs)
        .where(
          options.targetId ? (isUuid(options.targetId) ? eq(jobs.targetId, options.targetId) : sql`false`) : undefined,
        )
        .orderBy(desc(jobs.createdAt))
        .limit(options.limit)
        .offset(options.offset),
    /** In the caller's transaction (enqueue checks conflicts and inserts under one lock). */
    insertQueued: async (tx: Pick<MetadataDb, 'insert'>, job: NewJob): Promise<JobRow> =>
      (
        await tx
          .insert(jobs)
          .values({ ...job, state: 'queued' })
          .returning()
      )[0]!,
    /** Queued → running for this instance; null if it is no longer queued (cancelled, or taken). */
    claim: (id: string, instanceId: string, now: Date) =>
      one(
        db
          .update(jobs)
          .set({ state: 'running', instanceId, startedAt: now, activityAt: now })
          .where(and(eq(jobs.id, id), eq(jobs.state, 'queued')))
          .returning(),
      ),
    setPartialRef: async (id: string, ref: string | null) => {
      await db.update(jobs).set({ partialRef: ref }).where(eq(jobs.id, id));
    },
    addParams: async (id: string, values: Record<string, unknown>) => {
      await db
        .update(jobs)
        .set({ params: sql`${jobs.params} || ${JSON.stringify(values)}::jsonb` })
        .where(eq(jobs.id, id));
    },
    /** Appends to params.warnings: what went wrong without failing the job. */
    addWarning: async (id: string, warning: string) => {
      await db
        .update(jobs)
        .set({
          params: sql`jsonb_set(${jobs.params}, '{warnings}', coalesce(${jobs.params}->'warnings', '[]'::jsonb) || to_jsonb(${warning}::text))`,
        })
        .where(eq(jobs.id, id));
    },
    /** The backup a backup job made; its file is complete, so no longer partial. */
    setBackupId: async (id: string, backupId: string) => {
      await db.update(jobs).set({ backupId, partialRef: null }).where(eq(jobs.id, id));
    },
    /**
     * Persists the latest progress (if any) and the last activity; answers what other processes
     * asked meanwhile: cancel, or another instance's verdict (the state is no longer running).
     */
    heartbeat: (id: string, values: { progress?: JobProgress; activityAt?: Date }) =>
      one(
        db
          .update(jobs)
          .set({
            progress: values.progress ?? sql`${jobs.progress}`,
            ...(values.activityAt ? { activityAt: values.activityAt } : {}),
          })
          .where(eq(jobs.id, id))
          .returning(),
      ),
    /**
     * The one terminal write; only an active job ends (a job another instance ended stays so).
     * `then` runs in the same transaction with the ended row (a failed scheduled backup's retry).
     */
    finish: (id: string, end: JobEnd, from: JobState[] = ACTIVE_STATES, then?: JobEndHook) =>
      db.transaction(async (tx) => {
        const row = await one(
          tx
            .update(jobs)
            .set({ ...end, partialRef: null, progress: end.progress ?? sql`${jobs.progress}` })
            .where(and(eq(jobs.id, id), inArray(jobs.state, from)))
            .returning(),
        );
        if (row && then) await then(tx, row);
        return row;
      }),
    requestCancel: async (id: string) => {
      await db
        .update(jobs)
        .set({ cancelRequested: true })
        .where(and(eq(jobs.id, id), inArray(jobs.state, ACTIVE_STATES)));
    },
    /** Active jobs of one kind on a target (a schedule's backup is skipped while one runs), in the enqueue transaction. */
    activeOfTarget: (tx: Pick<MetadataDb, 'select'>, targetId: string, kind: string) =>
      tx
        .select({ id: jobs.id })
        .from(jobs)
        .where(and(eq(jobs.targetId, targetId), eq(jobs.kind, kind), inArray(jobs.state, ACTIVE_STATES)))
        .limit(1),
    /** Active jobs that hold (or will hold) a database, in the enqueue transaction. */
    activeOnLock: (tx: Pick<MetadataDb, 'select'>, lockKey: string) =>
      tx
        .select({ id: jobs.id, kind: jobs.kind, state: jobs.state })
        .from(jobs)
        .where(and(eq(jobs.lockKey, lockKey), inArray(jobs.state, ACTIVE_STATES))),
    activeUsingBackup: (backupId: string) =>
      one(
        db
          .select()
          .from(jobs)
          .where(and(eq(jobs.backupId, backupId), inArray(jobs.state, ACTIVE_STATES))),
      ),
    /** Active jobs bound to an instance: those it runs, and those only it can run (queued there). */
    activeOnInstances: (exceptInstanceId: string) =>
      db
        .select()
        .from(jobs)
        .where(
          and(inArray(jobs.state, ACTIVE_STATES), isNotNull(jobs.instanceId), ne(jobs.instanceId, exceptInstanceId)),
        ),
    /** The first stage's rows: their processes are gone, and no queue knows them. */
    activeWithoutInstance: () =>
      db
        .select()
        .from(jobs)
        .where(and(eq(jobs.state, 'running'), sql`${jobs.instanceId} IS NULL`)),
    isActive: async (jobIdHex: string) =>
      (await one(
        db
          .select()
          .from(jobs)
          .where(and(eq(sql`replace(${jobs.id}::text, '-', '')`, jobIdHex), inArray(jobs.state, ACTIVE_STATES))),
      )) !== null,
    /** The job that wrote a backup: its backup job, or the restore it is the safety snapshot of. */
    madeBy: (backup: BackupRow) =>
      one(
        db
          .select()
          .from(jobs)
          .where(
            backup.origin === 'pre-restore-snapshot'
              ? sql`${jobs.params}->>'safetySnapshotId' = ${backup.id}`
              : and(eq(jobs.kind, 'backup'), eq(jobs.backupId, backup.id)),
          )
          .limit(1),
      ),
  };
}

export type JobsRepository = ReturnType<typeof jobsRepository>;
