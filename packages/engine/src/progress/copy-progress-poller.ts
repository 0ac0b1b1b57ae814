import type { Clock } from '../clock.js';
import type { PgTarget } from '../pg/connection.js';
import type { ProcessRunner } from '../pg/process.js';
import { type PsqlSession, openPsqlSession } from '../pg/psql-session.js';
import type { TableSize } from '../pg/catalog.js';

export interface CopyProgressPollerOptions {
  runner: ProcessRunner;
  clock: Clock;
  /** Any psql works: the query only reads pg_stat_progress_copy (PostgreSQL 14+). */
  psql: string;
  target: PgTarget;
  /** The application_name of the tool's session, to find its COPY among others. */
  applicationName: string;
  tables: readonly TableSize[];
  /** The table the tool's output says is being copied: the server can't name one it can't see. */
  currentTable: () => string | null;
  onFraction: (fraction: number) => void;
  intervalMs?: number;
}

interface CopyRow {
  /** Null when the table is invisible to this session: created by the restore's open transaction. */
  schema: string | null;
  name: string | null;
  bytes: number;
  tuples: number;
}

/** Often enough for a smooth bar; one query on an open session costs next to nothing. */
const DEFAULT_INTERVAL_MS = 250;

const QUERY = (applicationName: string) => `
SELECT coalesce((
  SELECT pg_catalog.json_build_object('schema', n.nspname, 'name', c.relname, 'bytes', p.bytes_processed,
                                      'tuples', p.tuples_processed)
  FROM pg_catalog.pg_stat_progress_copy p
  JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid
  LEFT JOIN pg_catalog.pg_class c ON c.oid = p.relid
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE a.application_name = '${applicationName.replace(/'/g, "''")}'
  LIMIT 1), 'null');`;

/**
 * Inside one big table the verbose lines say nothing for minutes: the server's COPY progress fills
 * the gap. Rows copied against the table's row count when it is known; otherwise bytes of COPY
 * text against its size on disk, which is only a proxy (the text of a narrow table is a third
 * smaller than the table, so the bar lagged, then jumped at its end). Capped below 1: the verbose
 * lines say when a table is done. Polling stops quietly on any error: progress is a nicety, never
 * a reason to fail a job.
 */
export function pollCopyProgress(options: CopyProgressPollerOptions): { stop(): void } {
  const sizes = new Map(options.tables.map((t) => [`${t.schema}.${t.name}`, t]));
  const interval = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  // Opened at the first poll: a job that is done by then (most small ones) never starts a psql.
  let session: PsqlSession | null = null;
  let stopped = false;
  let timer: { cancel(): void } | null = null;
  const tick = async () => {
    session ??= openPsqlSession({ ...options, applicationName: `${options.applicationName}-progress` });
    // A reading is for the table being copied when it was asked for, and only while it still is.
    const asked = options.currentTable();
    const line = await session.queryLine(QUERY(options.applicationName));
    if (line === null || stopped) return;
    try {
      const row = JSON.parse(line) as CopyRow | null;
      const table = row && (row.name === null ? asked : `${row.schema}.${row.name}`);
      const size = table !== null && table === asked && table === options.currentTable() ? sizes.get(table) : undefined;
      if (row && size) options.onFraction(Math.min(copiedFraction(row, size), 0.99));
    } catch {
      return;
    }
    timer = options.clock.setTimeout(() => void tick(), interval);
  };
  timer = options.clock.setTimeout(() => void tick(), interval);
  return {
    stop() {
      stopped = true;
      timer?.cancel();
      session?.close();
    },
  };
}

function copiedFraction(copied: CopyRow, table: TableSize): number {
  if (typeof table.rows === 'number' && table.rows > 0) return copied.tuples / table.rows;
  return table.bytes > 0 ? copied.bytes / table.bytes : 0;
}

/** What backup and restore requests share, to poll for their tool's session. */
export interface CopyPollingRequest {
  runner: ProcessRunner;
  clock: Clock;
  tools: { psql: string };
  target: PgTarget;
  tables: readonly TableSize[];
  copyPollIntervalMs?: number;
}

export function pollCopyProgressInto(
  request: CopyPollingRequest,
  applicationName: string,
  tracker: { setCurrentTableFraction(fraction: number): void; readonly currentTable: string | null },
): { stop(): void } {
  return pollCopyProgress({
    runner: request.runner,
    clock: request.clock,
    psql: request.tools.psql,
    target: request.target,
    applicationName,
    tables: request.tables,
    currentTable: () => tracker.currentTable,
    onFraction: (fraction) => tracker.setCurrentTableFraction(fraction),
    intervalMs: request.copyPollIntervalMs,
  });
}
