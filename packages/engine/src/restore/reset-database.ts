/**
 * SQL that empties the target inside the restore's transaction, so the archive
 * is applied to a blank database and objects created after the backup vanish.
 * It runs as the database's owner: what only a superuser or another role may drop (event
 * triggers, others' extensions, publications, wrappers, languages) is left in place, as the
 * pre-flight said (preflight.ts); schemas and large objects of others make the pre-flight refuse.
 * `pg_restore --clean` is not enough (it fails on partitioned tables and keeps
 * newer objects): see DESIGN.md. Database-level state (roles, ALTER DATABASE
 * settings, the database's own comment/ACL) is outside a database's content and
 * is neither dropped nor restored.
 */
export function resetDatabaseSql(lockTimeoutMs: number, serverMajor: number): string {
  return `SET client_min_messages = warning;
SET lock_timeout = '${Math.max(50, Math.round(lockTimeoutMs))}ms';
DO $pgbs_reset$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT p.pubname FROM pg_catalog.pg_publication p WHERE pg_catalog.pg_has_role(p.pubowner, 'USAGE') LOOP
    EXECUTE pg_catalog.format('DROP PUBLICATION %I', r.pubname);
  END LOOP;
  FOR r IN SELECT x.extname FROM pg_catalog.pg_extension x
           WHERE x.extname <> 'plpgsql' AND pg_catalog.pg_has_role(x.extowner, 'USAGE')
  LOOP
    EXECUTE pg_catalog.format('DROP EXTENSION %I CASCADE', r.extname);
  END LOOP;
  -- Not extension members: those went with DROP EXTENSION above.
  FOR r IN SELECT w.fdwname FROM pg_catalog.pg_foreign_data_wrapper w
           WHERE pg_catalog.pg_has_role(w.fdwowner, 'USAGE')
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                             WHERE d.classid = 'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass
                               AND d.objid = w.oid AND d.deptype = 'e')
  LOOP
    EXECUTE pg_catalog.format('DROP FOREIGN DATA WRAPPER %I CASCADE', r.fdwname);
  END LOOP;
  FOR r IN SELECT nspname FROM pg_catalog.pg_namespace
           WHERE nspname NOT IN ('pg_catalog', 'information_schema')
             AND nspname NOT LIKE 'pg\\_toast%'
             AND nspname NOT LIKE 'pg\\_temp\\_%'
  LOOP
    EXECUTE pg_catalog.format('DROP SCHEMA %I CASCADE', r.nspname);
  END LOOP;
  PERFORM pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata;
  -- Procedural languages other than the built-in ones and extension members.
  FOR r IN SELECT l.lanname FROM pg_catalog.pg_language l
           WHERE l.lanname NOT IN ('internal', 'c', 'sql', 'plpgsql') AND pg_catalog.pg_has_role(l.lanowner, 'USAGE')
             AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                             WHERE d.classid = 'pg_catalog.pg_language'::pg_catalog.regclass AND d.objid = l.oid AND d.deptype = 'e')
  LOOP
    EXECUTE pg_catalog.format('DROP LANGUAGE %I CASCADE', r.lanname);
  END LOOP;
END
$pgbs_reset$;
-- pg_dump does not create "public" (it exists in every new database): recreate it as template1 has it.
${serverMajor >= 15 ? PUBLIC_SCHEMA_15 : PUBLIC_SCHEMA_OLD}
COMMENT ON SCHEMA public IS 'standard public schema';
RESET client_min_messages;
`;
}

const PUBLIC_SCHEMA_15 = `CREATE SCHEMA public AUTHORIZATION pg_database_owner;
GRANT USAGE ON SCHEMA public TO PUBLIC;`;

// Before 15, public belonged to the bootstrap superuser and everyone could create in it.
const PUBLIC_SCHEMA_OLD = `CREATE SCHEMA public;
GRANT ALL ON SCHEMA public TO PUBLIC;`;
