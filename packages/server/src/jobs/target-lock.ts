import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';
import { EngineError } from '@pgbs/engine';

export type LockMode = 'shared' | 'exclusive';

/** Namespace of our advisory locks (first key), so they can't collide with an app's. */
const LOCK_NAMESPACE = 0x70676273; // "pgbs"

function targetKey(target: string): number {
  return createHash('sha256').update(target).digest().readInt32BE(0);
}

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Advisory locks in the metadata database, on a reserved connection held for the
 * job's lifetime: they work across processes (server and CLI) and vanish with a
 * crashed process's session. Restores lock exclusively, backups shared.
 */
export async function lockTarget(sql: Sql, target: string, mode: LockMode): Promise<HeldLock> {
  const connection = await sql.reserve();
  const key = targetKey(target);
  try {
    const [row] =
      mode === 'exclusive'
        ? await connection`SELECT pg_try_advisory_lock(${LOCK_NAMESPACE}, ${key}) AS ok`
        : await connection`SELECT pg_try_advisory_lock_shared(${LOCK_NAMESPACE}, ${key}) AS ok`;
    if (!row?.ok) {
      throw new EngineError(
        'job/busy',
        mode === 'exclusive'
          ? `Another backup or restore of ${target} is running; a restore needs the database to itself. Try again when it has finished.`
          : `A restore of ${target} is running; backups wait until it has finished.`,
      );
    }
  } catch (error) {
    connection.release();
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        if (mode === 'exclusive') await connection`SELECT pg_advisory_unlock(${LOCK_NAMESPACE}, ${key})`;
        else await connection`SELECT pg_advisory_unlock_shared(${LOCK_NAMESPACE}, ${key})`;
      } finally {
        connection.release();
      }
    },
  };
}
