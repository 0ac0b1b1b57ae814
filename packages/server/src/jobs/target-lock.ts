import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { EngineError } from '@pgbs/engine';

export type LockMode = 'shared' | 'exclusive';

/** Namespace of our advisory locks (first key), so they can't collide with an app's. */
const LOCK_NAMESPACE = 0x70676273; // "pgbs"

function targetKey(target: string): number {
  return createHash('sha256').update(target).digest().readInt32BE(0);
}

/** Opens a client of one connection to the metadata database, for one lock's lifetime. */
export type LockConnector = () => Sql;

export interface HeldLock {
  /**
   * Takes the lock again if its session was lost (the metadata database restarted): called
   * every second while the job runs. Never throws; says whether the lock is held now.
   */
  keep(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Advisory locks in the metadata database, each on a connection of its own held for the job's
 * lifetime: they work across processes (server and CLI) and vanish with a crashed process's
 * session. Restores lock exclusively, backups shared. Not a pooled connection: after a restart of
 * the database a pooled one could come back as another job's session, whose lock an unlock would
 * then release.
 */
export async function lockTarget(connect: LockConnector, target: string, mode: LockMode): Promise<HeldLock> {
  const sql = connect();
  const key = targetKey(target);
  const take = async (): Promise<number | null> => {
    const [row] =
      mode === 'exclusive'
        ? await sql`SELECT pg_try_advisory_lock(${LOCK_NAMESPACE}, ${key}) AS ok, pg_backend_pid() AS pid`
        : await sql`SELECT pg_try_advisory_lock_shared(${LOCK_NAMESPACE}, ${key}) AS ok, pg_backend_pid() AS pid`;
    return row?.ok ? (row.pid as number) : null;
  };
  let session: number | null;
  try {
    session = await take();
    if (session === null) {
      throw new EngineError(
        'job/busy',
        mode === 'exclusive'
          ? `Another backup or restore of ${target} is running; a restore needs the database to itself. Try again when it has finished.`
          : `A restore of ${target} is running; backups wait until it has finished.`,
      );
    }
  } catch (error) {
    await sql.end({ timeout: 5 });
    throw error;
  }
  let released = false;
  return {
    async keep() {
      try {
        const [row] = await sql`SELECT pg_backend_pid() AS pid`;
        // Same session: the lock is still ours. A new one (reconnected): take it again.
        if (row?.pid !== session) session = await take();
      } catch {
        session = null; // unreachable for now: try again at the next call
      }
      return session !== null;
    },
    async release() {
      if (released) return;
      released = true;
      // Closing the session releases its locks; an explicit unlock first keeps it prompt.
      try {
        const [row] = await sql`SELECT pg_backend_pid() AS pid`;
        if (row?.pid === session) {
          if (mode === 'exclusive') await sql`SELECT pg_advisory_unlock(${LOCK_NAMESPACE}, ${key})`;
          else await sql`SELECT pg_advisory_unlock_shared(${LOCK_NAMESPACE}, ${key})`;
        }
      } finally {
        await sql.end({ timeout: 5 });
      }
    },
  };
}
