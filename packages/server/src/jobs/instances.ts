import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { eq, lt, sql as rawSql } from 'drizzle-orm';
import type { Clock } from '@pgbs/engine';
import type { MetadataDb } from '../db/client.js';
import { instances } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { repeatUntilStopped } from '../repeat.js';
import { LOCK_NAMESPACE, type LockConnector, lockKeyOf } from './target-lock.js';

export type InstanceRole = 'server' | 'worker' | 'cli';

/** How often a live instance writes seen_at and checks its lock. */
const BEAT_MS = 5_000;
/** An instance not seen for this long is gone even if its lock looks held (a stuck process). */
export const INSTANCE_GONE_AFTER_MS = 45_000;

/**
 * A row not seen for this long is deleted by the recovery loop: its process is long gone, and the
 * jobs it left were failed within a minute (a missing row counts as gone, see isInstanceGone).
 */
export const INSTANCE_PRUNE_AFTER_MS = 24 * 3600_000;

export interface Instance {
  readonly id: string;
  readonly role: InstanceRole;
  stop(): Promise<void>;
}

/**
 * This process in the instances table, with an advisory lock held on a connection of its own:
 * the lock goes when the process dies (kill -9 closes its sockets), which is how another instance
 * knows at once; seen_at catches a process that hangs.
 */
export async function registerInstance(deps: {
  db: MetadataDb;
  connect: LockConnector;
  clock: Clock;
  logger: Logger;
  role: InstanceRole;
}): Promise<Instance> {
  const id = randomUUID();
  const key = lockKeyOf(id);
  const sql = deps.connect();
  const hold = async () => {
    await sql`SELECT pg_advisory_lock(${LOCK_NAMESPACE.instance}, ${key})`;
    return (await sql`SELECT pg_backend_pid() AS pid`)[0]?.pid as number;
  };
  let session = await hold();
  await deps.db.insert(instances).values({ id, hostname: hostname(), pid: process.pid, role: deps.role });
  const beat = async () => {
    try {
      const [row] = await sql`SELECT pg_backend_pid() AS pid`;
      if (row?.pid !== session) session = await hold(); // the metadata database restarted
      await deps.db
        .insert(instances)
        .values({ id, hostname: hostname(), pid: process.pid, role: deps.role })
        .onConflictDoUpdate({ target: instances.id, set: { seenAt: rawSql`now()` } });
    } catch (error) {
      deps.logger.warn('could not record that this instance is alive', { error: String(error) });
    }
  };
  const heartbeat = repeatUntilStopped(deps.clock, beat, { firstDelayMs: BEAT_MS, nextDelayMs: () => BEAT_MS });
  return {
    id,
    role: deps.role,
    async stop() {
      await heartbeat.stop();
      await deps.db
        .delete(instances)
        .where(eq(instances.id, id))
        .catch(() => {});
      await sql.end({ timeout: 5 });
    },
  };
}

/**
 * Whether the instance's process is gone: not seen for a while, or its lock is free although it
 * held it on this run of the metadata database (seen since the server started: it takes its lock
 * before it writes seen_at). Right after a restart every lock is free until its instance beats
 * again: then only silence counts.
 */
export async function isInstanceGone(db: MetadataDb, instanceId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select({
        stale: rawSql<boolean>`${instances.seenAt} < now() - ${`${INSTANCE_GONE_AFTER_MS} milliseconds`}::interval`,
        sinceStart: rawSql<boolean>`${instances.seenAt} > pg_postmaster_start_time()`,
      })
      .from(instances)
      .where(eq(instances.id, instanceId));
    if (!row || row.stale) return true;
    if (!row.sinceStart) return false;
    // A transaction-level try: released at commit, it never keeps the lock it finds free.
    const [probe] = await tx.execute<{ free: boolean }>(
      rawSql`SELECT pg_try_advisory_xact_lock(${LOCK_NAMESPACE.instance}, ${lockKeyOf(instanceId)}) AS free`,
    );
    return probe?.free === true;
  });
}

/** Deletes the rows of instances not seen for `olderThanMs` (by the database's clock, which writes seen_at); their ids. */
export async function pruneGoneInstances(db: MetadataDb, olderThanMs = INSTANCE_PRUNE_AFTER_MS): Promise<string[]> {
  const pruned = await db
    .delete(instances)
    .where(lt(instances.seenAt, rawSql`now() - ${`${olderThanMs} milliseconds`}::interval`))
    .returning({ id: instances.id });
  return pruned.map((row) => row.id);
}
