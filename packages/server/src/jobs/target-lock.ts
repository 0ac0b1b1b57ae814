import { createHash } from 'node:crypto';
import type { Sql } from 'postgres';

export type LockMode = 'shared' | 'exclusive';

/** Namespaces of our advisory locks (first key), so they can't collide with an app's or each other. */
export const LOCK_NAMESPACE = {
  /** A database's lock: restores exclusive, backups shared. */
  database: 0x70676273, // "pgbs"
  /** Serialises enqueues on one database, so two requests cannot both pass the conflict check. */
  enqueue: 0x70676265,
  /** Slots of MAX_CONCURRENT_JOBS, across instances. */
  globalSlot: 0x70676267,
  /** Slots of MAX_JOBS_PER_SERVER, per database server. */
  serverSlot: 0x70676276,
  /** Held by each live instance: free once its process is gone. */
  instance: 0x70676269,
} as const;

/** A 32-bit key for a name (the second key of a two-key advisory lock). */
export function lockKeyOf(name: string): number {
  return createHash('sha256').update(name).digest().readInt32BE(0);
}

/** "<server identity>/<database>": the database key of a job; the server is what comes before the last "/". */
export function databaseLockKey(serverIdentity: string, database: string): string {
  return `${serverIdentity}/${database}`;
}

export function serverOfLockKey(lockKey: string): string {
  return lockKey.slice(0, lockKey.lastIndexOf('/'));
}

/** Opens a client of one connection to the metadata database, for one lock's lifetime. */
export type LockConnector = () => Sql;

/** Where a job's lock session comes from, and where it goes when the job is done with it. */
export interface LockSessions {
  open(): Sql;
  /** Frees every lock the session holds. */
  close(sql: Sql): Promise<void>;
  /** Closes the sessions kept for later (when the process stops). */
  end(): Promise<void>;
}

/** A new connection per job, closed after it. */
export function freshLockSessions(connect: LockConnector): LockSessions {
  return { open: connect, close: (sql) => sql.end({ timeout: 5 }), end: async () => {} };
}

/**
 * Up to `spares` sessions kept for later jobs: connecting (TCP, authentication, a backend) was
 * most of the cost of a job's locks, and a burst of queued jobs makes several attempts per job
 * that find no free slot. A session is kept only once pg_advisory_unlock_all() answered on it, so
 * a spare holds no lock; one that fails is closed (which frees its locks too).
 */
export function reusedLockSessions(connect: LockConnector, spares: number): LockSessions {
  const idle: Sql[] = [];
  return {
    open: () => idle.pop() ?? connect(),
    async close(sql) {
      if (idle.length < spares) {
        try {
          await sql`SELECT pg_advisory_unlock_all()`;
          idle.push(sql);
          return;
        } catch {
          // Closing it below frees its locks.
        }
      }
      await sql.end({ timeout: 5 });
    },
    async end() {
      await Promise.all(idle.splice(0).map((sql) => sql.end({ timeout: 5 })));
    },
  };
}

export interface JobLockRequest {
  /** The job's database and how it holds it; null for jobs that touch none. */
  database: { key: string; mode: LockMode } | null;
  /** How many jobs may run at once: in all, and per database server (0: no limit). */
  slots: { global: number; perServer: number };
}

export interface HeldLock {
  /**
   * Takes the locks again if their session was lost (the metadata database restarted): called
   * every second while the job runs. Never throws; says whether the locks are held now.
   */
  keep(): Promise<boolean>;
  release(): Promise<void>;
}

type Key = readonly [number, number];

/**
 * Advisory locks in the metadata database, each job's on a connection of its own held for the
 * job's lifetime: they work across processes (instances, the CLI) and vanish with a crashed
 * process's session. Not a pooled connection: after a restart of the database a pooled one could
 * come back as another job's session, whose lock an unlock would then release.
 *
 * Null when something is taken: the database (a restore holds it, or backups while a restore
 * asks) or every slot. The job then stays queued.
 */
export async function takeJobLocks(sessions: LockSessions, request: JobLockRequest): Promise<HeldLock | null> {
  const sql = sessions.open();
  const tryLock = async ([ns, key]: Key, mode: LockMode) => {
    const [row] =
      mode === 'exclusive'
        ? await sql`SELECT pg_try_advisory_lock(${ns}, ${key}) AS ok`
        : await sql`SELECT pg_try_advisory_lock_shared(${ns}, ${key}) AS ok`;
    return row?.ok === true;
  };
  const firstFree = async (keys: Key[]): Promise<Key | null> => {
    for (const key of keys) if (await tryLock(key, 'exclusive')) return key;
    return null;
  };
  const slotKeys = (count: number, make: (i: number) => Key) => Array.from({ length: count }, (_, i) => make(i));
  const server = request.database ? serverOfLockKey(request.database.key) : null;
  const held: { key: Key; mode: LockMode }[] = [];
  const takeAll = async (): Promise<boolean> => {
    if (request.database) {
      const key: Key = [LOCK_NAMESPACE.database, lockKeyOf(request.database.key)];
      if (!(await tryLock(key, request.database.mode))) return false;
      held.push({ key, mode: request.database.mode });
    }
    if (request.slots.global > 0) {
      const slot = await firstFree(slotKeys(request.slots.global, (i) => [LOCK_NAMESPACE.globalSlot, i]));
      if (!slot) return false;
      held.push({ key: slot, mode: 'exclusive' });
    }
    if (server !== null && request.slots.perServer > 0) {
      const slot = await firstFree(
        slotKeys(request.slots.perServer, (i) => [LOCK_NAMESPACE.serverSlot, lockKeyOf(`${server}#${i}`)]),
      );
      if (!slot) return false;
      held.push({ key: slot, mode: 'exclusive' });
    }
    return true;
  };
  let session: number | null;
  try {
    if (!(await takeAll())) {
      await sessions.close(sql);
      return null;
    }
    session = ((await sql`SELECT pg_backend_pid() AS pid`)[0]?.pid as number | undefined) ?? null;
  } catch (error) {
    await sql.end({ timeout: 5 });
    throw error;
  }
  let released = false;
  return {
    async keep() {
      try {
        const [row] = await sql`SELECT pg_backend_pid() AS pid`;
        // Same session: the locks are still ours. A new one (reconnected): take the same ones again.
        if (row?.pid !== session) {
          let all = true;
          for (const lock of held) all = (await tryLock(lock.key, lock.mode)) && all;
          session = all ? (row?.pid as number) : null;
        }
      } catch {
        session = null; // unreachable for now: try again at the next call
      }
      return session !== null;
    },
    async release() {
      if (released) return;
      released = true;
      await sessions.close(sql);
    },
  };
}
