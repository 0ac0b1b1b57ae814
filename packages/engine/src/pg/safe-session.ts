/**
 * Settings every session the service opens to a target starts with, as libpq startup options so that
 * they hold before the first statement and override what the database's owner may have set for the
 * database (ALTER DATABASE ... SET):
 *  - search_path: a role that may create objects in a schema on the path could shadow any
 *    unqualified function the service calls (pg_table_size, format...), which would then run with
 *    the service's rights; the service's SQL also qualifies every name;
 *  - role=none: `SET role` on the database would make even a superuser's session act as the owner,
 *    so that a superuser connection looked like an owner connection;
 *  - default_transaction_read_only=off, statement_timeout=0: the owner must not be able to make the
 *    service's own work (dropping a short-lived restore role) fail.
 */
const SAFE_OPTIONS =
  '-c search_path=pg_catalog,pg_temp -c role=none -c default_transaction_read_only=off -c statement_timeout=0';

export function safeSessionEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return { ...env, PGOPTIONS: env.PGOPTIONS ? `${env.PGOPTIONS} ${SAFE_OPTIONS}` : SAFE_OPTIONS };
}
