// What hostile content left inside the restored database itself: things that stay there for the
// attacker to use later. A restore that is not a superuser session leaves none of them.
import { withSql } from '../databases.js';

export interface TargetPlants {
  /** Routes whose payload stored a server file in hostile.loot. */
  loot: string[];
  eventTriggers: string[];
  /** Schemas, relations, routines, extensions and large objects owned by a superuser. */
  superuserOwned: string[];
  /** Default privileges set for a role other than the database's owner. */
  foreignDefaultAcls: string[];
}

export async function plantsInTarget(url: string): Promise<TargetPlants> {
  return withSql(url, async (sql) => {
    const [table] = await sql<{ exists: boolean }[]>`SELECT to_regclass('hostile.loot') IS NOT NULL AS exists`;
    const loot = table!.exists
      ? await sql<{ route: string }[]>`
          SELECT DISTINCT route FROM hostile.loot WHERE content IS NOT NULL ORDER BY route`
      : [];
    const eventTriggers = await sql<{ name: string }[]>`SELECT evtname AS name FROM pg_event_trigger ORDER BY 1`;
    const superuserOwned = await sql<{ object: string }[]>`
      WITH owned (catalog, oid, owner) AS (
        SELECT 'pg_namespace'::regclass, oid, nspowner FROM pg_namespace
          WHERE nspname !~ '^(pg_|information_schema$)' AND oid >= 16384
        UNION ALL SELECT 'pg_class', oid, relowner FROM pg_class WHERE oid >= 16384
        UNION ALL SELECT 'pg_proc', oid, proowner FROM pg_proc WHERE oid >= 16384
        UNION ALL SELECT 'pg_extension', oid, extowner FROM pg_extension WHERE extname <> 'plpgsql'
        UNION ALL SELECT 'pg_largeobject', oid, lomowner FROM pg_largeobject_metadata)
      SELECT pg_describe_object(o.catalog, o.oid, 0) AS object
      FROM owned o JOIN pg_roles r ON r.oid = o.owner
      WHERE r.rolsuper
        AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = o.catalog AND d.objid = o.oid AND d.deptype = 'e')
      ORDER BY 1`;
    const foreignDefaultAcls = await sql<{ line: string }[]>`
      SELECT a.defaclrole::regrole::text || ': ' || a.defaclacl::text AS line
      FROM pg_default_acl a, pg_database d
      WHERE d.datname = current_database() AND a.defaclrole <> d.datdba ORDER BY 1`;
    return {
      loot: loot.map((row) => row.route),
      eventTriggers: eventTriggers.map((row) => row.name),
      superuserOwned: superuserOwned.map((row) => row.object),
      foreignDefaultAcls: foreignDefaultAcls.map((row) => row.line),
    };
  });
}
