import { EngineError } from '../errors.js';
import type { PgTarget } from './connection.js';
import type { ProcessRunner } from './process.js';
import { ToolFailure, runTool } from './run-tool.js';
import { safeSessionEnv } from './safe-session.js';
import { type PgVersion, versionFromNum } from './tools.js';

/** What the engine needs to read from a server; psql does it so the engine needs no driver. */
export interface CatalogReader {
  serverVersion(target: PgTarget): Promise<PgVersion>;
  tableSizes(target: PgTarget): Promise<TableSize[]>;
  /** Both in one psql run (each run is a process and a connection: a backup's fixed cost). */
  serverVersionAndTableSizes(target: PgTarget): Promise<{ serverVersion: PgVersion; tables: TableSize[] }>;
}

/** A table's size as the catalog reports it: what progress weighs a job's steps by. */
export interface TableSize {
  schema: string;
  name: string;
  /** pg_table_size, read before the job: what its data costs to copy (TOAST included). */
  bytes: number;
  /**
   * pg_relation_size: the main fork alone, what an index build or a constraint check reads (a
   * primary key on a table of TOASTed documents reads none of the documents). Absent in manifests
   * written before it was recorded; `bytes` stands in then.
   */
  heapBytes?: number;
  /**
   * pg_class.reltuples: the planner's row count (kept current by autovacuum and ANALYZE); absent
   * when the table was never analyzed, or in older manifests.
   */
  rows?: number | null;
}

const CONNECTION_FAILURE =
  /could not connect|connection to server|no pg_hba\.conf|password authentication failed|does not exist|could not translate host name|timeout expired/i;

/** Turns a psql failure into a coded error without leaking anything but libpq's message. */
export function connectionError(target: PgTarget, error: unknown): EngineError {
  if (error instanceof ToolFailure) {
    const message = error.stderr.find((line) => /error:/i.test(line)) ?? error.stderr.filter(Boolean).at(-1) ?? '';
    const reason = message.replace(/^psql:\s*(error:\s*)?/, '').trim();
    if (CONNECTION_FAILURE.test(reason)) {
      return new EngineError('pg/connection-failed', `Cannot connect to ${target.display}: ${reason}`, {
        target: target.display,
      });
    }
    return new EngineError('pg/tool-failed', `A catalog query on ${target.display} failed: ${reason}`);
  }
  if (error instanceof EngineError) return error;
  return new EngineError('pg/tool-failed', `A catalog query on ${target.display} failed: ${String(error)}`);
}

/** Runs SQL through psql (stdin, never argv) on a session with a safe search_path; returns its output. */
export async function querySql(runner: ProcessRunner, psql: string, target: PgTarget, sql: string): Promise<string> {
  try {
    const { stdout } = await runTool(runner, psql, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-f', '-'], {
      env: safeSessionEnv({ ...target.env, PGCONNECT_TIMEOUT: target.env.PGCONNECT_TIMEOUT ?? '10' }),
      input: sql,
    });
    return stdout;
  } catch (error) {
    throw connectionError(target, error);
  }
}

/** Runs one query whose single value is JSON. */
export async function queryJson<T>(runner: ProcessRunner, psql: string, target: PgTarget, sql: string): Promise<T> {
  return JSON.parse((await querySql(runner, psql, target, sql)).trim()) as T;
}

/** SQL quoting for names and values the service puts into its own statements. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const quoteLiteral = (value: string): string => `'${value.replace(/'/g, "''")}'`;

const TABLE_SIZES_SELECT = `
SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object('schema', n.nspname, 'name', c.relname,
                                          'bytes', pg_catalog.pg_table_size(c.oid),
                                          'heapBytes', pg_catalog.pg_relation_size(c.oid),
                                          -- As the planner estimates it: the last count scaled to the pages the table
                                          -- has now (reltuples lags a bulk load); none (-1) until first analyzed.
                                          'rows', CASE WHEN c.reltuples > 0 AND c.relpages > 0
                                                       THEN (c.reltuples / c.relpages
                                                             * (pg_catalog.pg_relation_size(c.oid)
                                                                / pg_catalog.current_setting('block_size')::int))::bigint
                                                  END)
                ORDER BY n.nspname, c.relname), '[]')
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
  AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')`;

const SERVER_VERSION_FIELDS = `'num', pg_catalog.current_setting('server_version_num')::int,
                               'text', pg_catalog.current_setting('server_version')`;

/**
 * Reads through any psql: catalog queries work across versions, so the psql
 * used here need not match the server (the dump tools are checked separately).
 */
export function psqlCatalogReader(runner: ProcessRunner, psql: string): CatalogReader {
  return {
    async serverVersion(target) {
      const row = await queryJson<{ num: number; text: string }>(
        runner,
        psql,
        target,
        `SELECT pg_catalog.json_build_object(${SERVER_VERSION_FIELDS});`,
      );
      return versionFromNum(row.num, row.text);
    },
    tableSizes: (target) => queryJson<TableSize[]>(runner, psql, target, `${TABLE_SIZES_SELECT};`),
    async serverVersionAndTableSizes(target) {
      const row = await queryJson<{ num: number; text: string; tables: TableSize[] }>(
        runner,
        psql,
        target,
        `SELECT pg_catalog.json_build_object(${SERVER_VERSION_FIELDS}, 'tables', (${TABLE_SIZES_SELECT}));`,
      );
      return { serverVersion: versionFromNum(row.num, row.text), tables: row.tables };
    },
  };
}
