import { type PgTarget, type ProcessRunner, queryJson } from '@pgbs/engine';

/**
 * What identifies the database server a target is on, for the job locks: its system_identifier
 * (two targets may name one server by different hosts), else host:port when the role may not read
 * pg_control_system() (it is granted to PUBLIC up to now, but a hardened server may revoke it).
 */
export async function readServerIdentity(runner: ProcessRunner, psql: string, target: PgTarget): Promise<string> {
  try {
    const id = await queryJson<string>(
      runner,
      psql,
      target,
      'SELECT pg_catalog.to_json(system_identifier::text) FROM pg_catalog.pg_control_system();',
    );
    return `sysid:${id}`;
  } catch {
    return `addr:${target.env.PGHOST ?? 'localhost'}:${target.env.PGPORT ?? '5432'}`;
  }
}
