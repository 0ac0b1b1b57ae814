import { PgBoss } from 'pg-boss';
import type { Logger } from '../logger.js';

/** Jobs any instance may run. */
export const SHARED_QUEUE = 'pgbs-jobs';
/** Jobs only one instance can run: a restore of a file it spooled, a CLI's own job. */
export const instanceQueue = (instanceId: string) => `pgbs-jobs-${instanceId}`;

/** Thrown by a handler whose job cannot start yet (no free slot, its database is taken): it stays queued. */
export class NotYet extends Error {
  override readonly name = 'NotYet';
}

export interface JobQueue {
  /** Puts a job (by our jobs row's id) on a queue. */
  /** startAfterSeconds: not run before then (a copy's retry backoff). */
  send(queue: string, jobId: string, options?: { startAfterSeconds?: number }): Promise<void>;
  /** Runs `handle` for each job of the queue, at most `concurrency` at once in this process. */
  work(queue: string, concurrency: number, handle: (jobId: string) => Promise<void>): Promise<void>;
  /** Removes the queue of an instance that is gone (its jobs were failed already). */
  drop(queue: string): Promise<void>;
  /** Stops fetching; waits for the handlers running now (they end promptly: see JobWorker.stop). */
  stop(): Promise<void>;
}

export interface QueueOptions {
  url: string;
  logger: Logger;
  /** The longest a job may run (JOB_TIMEOUT_SECONDS): the queue's expiry is only a backstop behind it. */
  jobTimeoutSeconds: number;
  /** Run pg-boss's maintenance (expiry, retention) in this process: not in a short-lived CLI. */
  supervise: boolean;
  pollingIntervalSeconds?: number;
}

/** How long a job's row says "queued" while it waits for a slot before it is tried again. */
const RETRY_DELAY_SECONDS = 2;
/** pg-boss refuses an expiry above 24 hours. */
const MAX_EXPIRY_SECONDS = 24 * 3600;
/** A worker that stops beating (killed) has its queue entry failed, then retried, after this. */
const HEARTBEAT_SECONDS = 30;

/**
 * pg-boss in schema "pgboss" of the metadata database. It only carries job ids: our jobs row is the
 * record (state, progress, errors). A job ends in pg-boss as completed whatever our outcome; a
 * retry there is either a wait for a slot (NotYet) or the entry of a worker that died, which the
 * handler sees is no longer queued and drops.
 */
export async function startJobQueue(options: QueueOptions): Promise<JobQueue> {
  const boss = new PgBoss({
    connectionString: options.url,
    schema: 'pgboss',
    max: 4,
    application_name: 'pgbs-queue',
    supervise: options.supervise,
    schedule: false,
  });
  // Without a listener an 'error' event (the metadata database restarting) would end the process.
  boss.on('error', (error) => options.logger.warn('job queue', { error: String(error) }));
  await boss.start();
  const queueOptions = {
    // Waits for slots are retries: bounded by the retention below, not by a count.
    retryLimit: 1_000_000,
    retryDelay: RETRY_DELAY_SECONDS,
    heartbeatSeconds: HEARTBEAT_SECONDS,
    expireInSeconds: Math.min(options.jobTimeoutSeconds + 600, MAX_EXPIRY_SECONDS),
    deleteAfterSeconds: 24 * 3600,
  };
  const created = new Set<string>();
  const ensureQueue = async (name: string) => {
    if (created.has(name)) return;
    if (!(await boss.getQueue(name))) await boss.createQueue(name, queueOptions);
    created.add(name);
  };
  const workers: string[] = [];
  return {
    async send(queue, jobId, sendOptions = {}) {
      await ensureQueue(queue);
      const { startAfterSeconds } = sendOptions;
      await boss.send(queue, { jobId }, { id: jobId, ...(startAfterSeconds ? { startAfter: startAfterSeconds } : {}) });
      for (const worker of workers) boss.notifyWorker(worker);
    },
    async work(queue, concurrency, handle) {
      await ensureQueue(queue);
      const id = await boss.work<{ jobId: string }>(
        queue,
        { localConcurrency: concurrency, pollingIntervalSeconds: options.pollingIntervalSeconds ?? 1 },
        async ([job]) => {
          if (job) await handle(job.data.jobId);
        },
      );
      workers.push(id);
    },
    async drop(queue) {
      await boss.deleteQueue(queue).catch(() => {});
    },
    async stop() {
      await boss.stop({ graceful: true, close: true, timeout: 30_000 });
    },
  };
}
