/**
 * A role that may create objects in a schema on the search_path can shadow any unqualified function
 * the service calls (pg_table_size, format, json_build_object...), which then runs with the
 * service's rights. Every session the service opens to a target starts with this search_path, as a
 * libpq startup option so that it holds before the first statement; the service's SQL also
 * qualifies every name.
 */
const SEARCH_PATH_OPTION = '-c search_path=pg_catalog,pg_temp';

export function safeSessionEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return { ...env, PGOPTIONS: env.PGOPTIONS ? `${env.PGOPTIONS} ${SEARCH_PATH_OPTION}` : SEARCH_PATH_OPTION };
}
