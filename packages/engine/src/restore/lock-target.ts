/**
 * Takes the restore's table locks before the reset, so that the application never queues behind a
 * long pending ACCESS EXCLUSIVE request. Every relation the reset will drop is locked in one LOCK
 * statement with a short lock_timeout (an application query waits at most that long behind it);
 * when it fails, the attempt's subtransaction lets go of what it took, the sessions holding locks
 * on those relations are noted (or terminated, when asked), and it tries again until the deadline.
 * Then it raises "pgbs:target-busy:<json>" naming them.
 */
export interface LockWait {
  /** How long to keep trying in all. */
  totalSeconds: number;
  /** How long one attempt may wait, i.e. how long an application query may queue behind it. */
  attemptMs: number;
  /** Terminate the sessions that hold the locks (needs pg_signal_backend) instead of waiting. */
  terminateBlockers: boolean;
}

export const TARGET_BUSY_MARKER = 'pgbs:target-busy:';
export const TERMINATED_MARKER = 'pgbs:terminated:';

export function lockTargetSql(wait: LockWait): string {
  return `SET standard_conforming_strings = on;
DO $pgbs_lock$
DECLARE
  deadline timestamptz := pg_catalog.clock_timestamp() + ${Math.max(1, Math.round(wait.totalSeconds))} * interval '1 second';
  attempt_end timestamptz;
  relations oid[];
  names text[];
  rel text;
  blockers jsonb;
BEGIN
  SELECT pg_catalog.array_agg(c.oid), pg_catalog.array_agg(c.oid::pg_catalog.regclass::text)
    INTO relations, names
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
    AND pg_catalog.has_table_privilege(c.oid, 'UPDATE, DELETE, TRUNCATE');
  IF relations IS NULL THEN
    RETURN;
  END IF;
  LOOP
    -- One lock at a time, each waiting only for what is left of the attempt: the locks already
    -- taken never keep the application waiting longer than one attempt.
    attempt_end := pg_catalog.clock_timestamp() + ${Math.max(50, Math.round(wait.attemptMs))} * interval '1 millisecond';
    BEGIN
      FOREACH rel IN ARRAY names LOOP
        PERFORM pg_catalog.set_config('lock_timeout',
          GREATEST(1, (pg_catalog.date_part('epoch', attempt_end - pg_catalog.clock_timestamp()) * 1000)::int)::text || 'ms', true);
        BEGIN
          EXECUTE 'LOCK TABLE ' || rel || ' IN ACCESS EXCLUSIVE MODE';
        EXCEPTION WHEN undefined_table OR insufficient_privilege THEN
          -- Dropped meanwhile, or a view over tables the owner may not lock: the reset takes those.
          NULL;
        END;
      END LOOP;
      PERFORM pg_catalog.set_config('lock_timeout', '0', true);
      RETURN;
    EXCEPTION WHEN lock_not_available THEN
      SELECT pg_catalog.jsonb_agg(DISTINCT pg_catalog.jsonb_build_object(
               'pid', a.pid, 'user', a.usename, 'application', a.application_name,
               'address', a.client_addr::text, 'state', a.state, 'since', a.xact_start))
        INTO blockers
      FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
      WHERE l.granted AND l.locktype = 'relation' AND l.relation = ANY (relations)
        AND l.pid <> pg_catalog.pg_backend_pid();
    END;
    IF ${wait.terminateBlockers ? 'true' : 'false'} AND blockers IS NOT NULL THEN
      PERFORM pg_catalog.pg_terminate_backend((b ->> 'pid')::int) FROM pg_catalog.jsonb_array_elements(blockers) b;
      RAISE WARNING '${TERMINATED_MARKER}%', blockers::text;
    END IF;
    IF pg_catalog.clock_timestamp() > deadline THEN
      RAISE EXCEPTION '${TARGET_BUSY_MARKER}%', coalesce(blockers, '[]'::jsonb)::text USING ERRCODE = 'lock_not_available';
    END IF;
    PERFORM pg_catalog.pg_sleep(0.2);
  END LOOP;
END
$pgbs_lock$;
`;
}

export interface BlockingSession {
  pid: number;
  user: string | null;
  application: string | null;
  address: string | null;
  state: string | null;
  since: string | null;
}

/** The sessions named by a marker line of psql's stderr, or null when the line has none. */
export function parseSessionsAfter(marker: string, line: string): BlockingSession[] | null {
  const at = line.indexOf(marker);
  if (at < 0) return null;
  try {
    return JSON.parse(line.slice(at + marker.length)) as BlockingSession[];
  } catch {
    return [];
  }
}
