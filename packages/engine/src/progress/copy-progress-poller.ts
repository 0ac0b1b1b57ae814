import type { Clock } from '../clock.js';
import { queryJson } from '../pg/catalog.js';
import type { PgTarget } from '../pg/connection.js';
import type { ProcessRunner } from '../pg/process.js';
import type { TableSize } from './weights.js';

export interface CopyProgressPollerOptions {
  runner: ProcessRunner;
  clock: Clock;
  /** Any psql works: the query only reads pg_stat_progress_copy (PostgreSQL 14+). */
  psql: string;
  target: PgTarget;
  /** The application_name of the tool's session, to find its COPY among others. */
  applicationName: string;
  tables: readonly TableSize[];
  onFraction: (fraction: number) => void;
  intervalMs?: number;
}

interface CopyRow {
  schema: string;
  name: string;
  bytes: number;
}

const QUERY = (applicationName: string) => `
SELECT coalesce((
  SELECT json_build_object('schema', n.nspname, 'name', c.relname, 'bytes', p.bytes_processed)
  FROM pg_stat_progress_copy p
  JOIN pg_stat_activity a ON a.pid = p.pid
  JOIN pg_class c ON c.oid = p.relid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE a.application_name = '${applicationName.replace(/'/g, "''")}'
  LIMIT 1), 'null');`;

/**
 * Inside one big table the verbose lines say nothing for minutes: the server's COPY progress
 * (bytes of COPY text against the table's size on disk, so approximate and capped) fills the gap.
 * Polling stops quietly on any error: progress is a nicety, never a reason to fail a job.
 */
export function pollCopyProgress(options: CopyProgressPollerOptions): { stop(): void } {
  const sizes = new Map(options.tables.map((t) => [`${t.schema}.${t.name}`, t.bytes]));
  let stopped = false;
  let timer: { cancel(): void } | null = null;
  const tick = async () => {
    try {
      const row = await queryJson<CopyRow | null>(
        options.runner,
        options.psql,
        options.target,
        QUERY(options.applicationName),
      );
      const size = row ? sizes.get(`${row.schema}.${row.name}`) : undefined;
      if (row && size && !stopped) options.onFraction(Math.min(row.bytes / size, 0.99));
    } catch {
      stopped = true;
    }
    if (!stopped) timer = options.clock.setTimeout(() => void tick(), options.intervalMs ?? 1000);
  };
  timer = options.clock.setTimeout(() => void tick(), options.intervalMs ?? 1000);
  return {
    stop() {
      stopped = true;
      timer?.cancel();
    },
  };
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
  tracker: { setCurrentTableFraction(fraction: number): void },
): { stop(): void } {
  return pollCopyProgress({
    runner: request.runner,
    clock: request.clock,
    psql: request.tools.psql,
    target: request.target,
    applicationName,
    tables: request.tables,
    onFraction: (fraction) => tracker.setCurrentTableFraction(fraction),
    intervalMs: request.copyPollIntervalMs,
  });
}
