import { type PgTarget, type ProcessRunner, queryJson, quoteLiteral } from '@pgbs/engine';
import type { TargetSession } from './stall-detector.js';

/**
 * The job's sessions on its target, read through psql (the engine's safe session: search_path
 * pg_catalog, pg_temp). pg_stat_activity shows the state of the connecting role's own sessions
 * (the job's) to a role without pg_read_all_stats.
 */
export function targetActivityProbe(runner: ProcessRunner, psql: string, target: PgTarget) {
  return (applicationName: string) =>
    queryJson<TargetSession[]>(
      runner,
      psql,
      target,
      `SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_object(
                'state', a.state, 'waitEventType', a.wait_event_type,
                'buildingIndex', EXISTS (SELECT 1 FROM pg_catalog.pg_stat_progress_create_index p WHERE p.pid = a.pid))), '[]')
         FROM pg_catalog.pg_stat_activity a
        WHERE a.application_name = ${quoteLiteral(applicationName)};`,
    );
}
