import { type PgTarget, type ProcessRunner, readSystemIdentifier } from '@pgbs/engine';

/**
 * What identifies the database server a target is on, for the job locks: its system_identifier
 * (two targets may name one server by different hosts), else host:port when the role may not read
 * pg_control_system() (it is granted to PUBLIC up to now, but a hardened server may revoke it).
 */
export async function readServerIdentity(runner: ProcessRunner, psql: string, target: PgTarget): Promise<string> {
  const id = await readSystemIdentifier(runner, psql, target).catch(() => null);
  return id === null ? `addr:${target.env.PGHOST ?? 'localhost'}:${target.env.PGPORT ?? '5432'}` : `sysid:${id}`;
}
