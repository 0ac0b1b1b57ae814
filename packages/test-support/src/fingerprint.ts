// A deterministic, JSON-serialisable description of a database's user content.
// Objects are identified by name, never by OID (OIDs change across a restore), except large
// objects, whose OIDs pg_dump preserves. With search_path = '' every name that catalog functions
// print (regclass, format_type, pg_get_*def) is schema-qualified, so names are unambiguous.
import type postgres from 'postgres';
import { withSql } from './databases.js';

export interface TableFingerprint {
  kind: 'table' | 'partitioned table' | 'materialized view';
  persistence: string;
  parents: string | null;
  partitionKey: string | null;
  partitionBound: string | null;
  rowSecurity: boolean;
  forceRowSecurity: boolean;
  columns: Record<string, ColumnFingerprint>;
  /** Null for partitioned tables (their rows are in the partitions) and unpopulated matviews. */
  rows: number | null;
  md5: string | null;
}

export interface ColumnFingerprint {
  position: number;
  type: string;
  notNull: boolean;
  default: string | null;
  identity: string;
  generated: string;
  collation: string | null;
}

export interface SequenceFingerprint {
  type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  ownedBy: string | null;
  lastValue: string;
  isCalled: boolean;
}

export interface PolicyFingerprint {
  permissive: string;
  roles: string;
  command: string;
  using: string | null;
  withCheck: string | null;
}

export interface Fingerprint {
  schemas: Record<string, true>;
  extensions: Record<string, { version: string; schema: string }>;
  tables: Record<string, TableFingerprint>;
  sequences: Record<string, SequenceFingerprint>;
  largeObjects: Record<string, { size: number; md5: string; comment: string | null }>;
  types: Record<string, { kind: string; definition: string | null }>;
  constraints: Record<string, { definition: string }>;
  indexes: Record<string, { table: string; definition: string; parent: string | null }>;
  views: Record<string, { definition: string }>;
  functions: Record<string, { definition: string | null }>;
  triggers: Record<string, { definition: string; enabled: string }>;
  policies: Record<string, PolicyFingerprint>;
  comments: Record<string, string>;
}

const userNamespace = (alias: string) => `
  ${alias}.nspname <> 'information_schema' AND ${alias}.nspname NOT LIKE 'pg\\_%'`;

// Objects created by CREATE EXTENSION are covered by the extension's name and version.
const notExtensionMember = (catalog: string, oid: string) => `
  NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = '${catalog}'::regclass
    AND dep.objid = ${oid} AND dep.deptype = 'e')`;

export async function fingerprint(url: string): Promise<Fingerprint> {
  return withSql(url, async (sql) => {
    // Fixed output formats so row text does not depend on server or client defaults; row
    // security off so a policy makes the read fail instead of silently hiding rows.
    await sql.unsafe(`
      SET search_path = '';
      SET TimeZone = 'UTC';
      SET DateStyle = 'ISO, YMD';
      SET IntervalStyle = 'postgres';
      SET extra_float_digits = 3;
      SET bytea_output = 'hex';
      SET row_security = off;`);
    return {
      schemas: keyed(await sql.unsafe(schemasQuery), () => true as const),
      extensions: keyed(await sql.unsafe(extensionsQuery)),
      tables: await tables(sql),
      sequences: await sequences(sql),
      largeObjects: keyed(await sql.unsafe(largeObjectsQuery)),
      types: keyed(await sql.unsafe(typesQuery)),
      constraints: keyed(await sql.unsafe(constraintsQuery)),
      indexes: keyed(await sql.unsafe(indexesQuery)),
      views: keyed(await sql.unsafe(viewsQuery)),
      functions: keyed(await sql.unsafe(functionsQuery)),
      triggers: keyed(await sql.unsafe(triggersQuery)),
      policies: keyed(await sql.unsafe(policiesQuery)),
      comments: keyed(await sql.unsafe(commentsQuery), (row) => row['description'] as string),
    } as Fingerprint;
  });
}

/** Human-readable differences between two fingerprints, for test failure messages. */
export function diffFingerprints(a: Fingerprint, b: Fingerprint): string[] {
  const differences: string[] = [];
  diffValues(a, b, [], differences);
  return differences;
}

function diffValues(a: unknown, b: unknown, path: string[], out: string[]): void {
  if (isRecord(a) && isRecord(b)) {
    for (const key of sortedKeys(new Set([...Object.keys(a), ...Object.keys(b)]))) {
      const at = [...path, key];
      if (!(key in b)) out.push(`${at.join(' › ')}: only in a`);
      else if (!(key in a)) out.push(`${at.join(' › ')}: only in b`);
      else diffValues(a[key], b[key], at, out);
    }
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push(`${path.join(' › ')}: ${show(a)} → ${show(b)}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function sortedKeys(keys: Iterable<string>): string[] {
  // Code unit order: independent of the locale the tests run in.
  return [...keys].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}

type Row = Record<string, unknown>;

/** Turns rows with a `key` column into a record sorted by key; by default the value is the rest. */
function keyed<T = Row>(rows: readonly Row[], value = (row: Row) => omit(row, 'key') as T) {
  const entries = new Map<string, T>();
  for (const row of rows) {
    const key = String(row['key']);
    if (entries.has(key)) throw new Error(`fingerprint: duplicate key ${key}`);
    entries.set(key, value(row));
  }
  return Object.fromEntries(sortedKeys(entries.keys()).map((key) => [key, entries.get(key) as T]));
}

function omit(row: Row, ...names: string[]): Row {
  return Object.fromEntries(Object.entries(row).filter(([name]) => !names.includes(name)));
}

async function tables(sql: postgres.Sql): Promise<Record<string, TableFingerprint>> {
  const columns = await sql.unsafe(columnsQuery);
  const rows: Row[] = [];
  for (const table of await sql.unsafe(tablesQuery)) {
    const hasRows = table['kind'] !== 'partitioned table' && table['populated'] === true;
    // ONLY: a plain inheritance parent's rows are counted once, in the child they live in.
    const [data] = hasRows
      ? await sql.unsafe(`
          SELECT count(*)::int AS rows, md5(string_agg(r, E'\\n' ORDER BY r COLLATE "C")) AS md5
          FROM (SELECT ROW(t.*)::text AS r FROM ONLY ${String(table['key'])} t) s`)
      : [];
    const own = columns.filter((column) => column['table'] === table['key']);
    rows.push({
      ...omit(table, 'populated'),
      columns: keyed(own.map((column) => omit(column, 'table'))),
      rows: data?.['rows'] ?? null,
      md5: data?.['md5'] ?? null,
    });
  }
  return keyed(rows) as Record<string, TableFingerprint>;
}

async function sequences(sql: postgres.Sql): Promise<Fingerprint['sequences']> {
  const rows = await sql.unsafe(sequencesQuery);
  for (const row of rows) {
    const [state] = await sql.unsafe(
      `SELECT last_value::text AS "lastValue", is_called AS "isCalled" FROM ${String(row['key'])}`,
    );
    Object.assign(row, state);
  }
  return keyed(rows);
}

const schemasQuery = `
  SELECT n.oid::regnamespace::text AS key FROM pg_namespace n
  WHERE ${userNamespace('n')}`;

const extensionsQuery = `
  SELECT e.extname AS key, e.extversion AS version, e.extnamespace::regnamespace::text AS schema
  FROM pg_extension e`;

const tablesQuery = `
  SELECT c.oid::regclass::text AS key,
    CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
      ELSE 'materialized view' END AS kind,
    c.relpersistence::text AS persistence,
    c.relispopulated AS populated,
    (SELECT string_agg(i.inhparent::regclass::text, ', ' ORDER BY i.inhseqno)
      FROM pg_inherits i WHERE i.inhrelid = c.oid) AS parents,
    CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS "partitionKey",
    pg_get_expr(c.relpartbound, c.oid) AS "partitionBound",
    c.relrowsecurity AS "rowSecurity",
    c.relforcerowsecurity AS "forceRowSecurity"
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'm') AND ${userNamespace('n')}
    AND ${notExtensionMember('pg_class', 'c.oid')}`;

// Positions count live columns only: a restore renumbers around dropped columns.
const columnsQuery = `
  SELECT c.oid::regclass::text AS table, a.attname AS key,
    row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum)::int AS position,
    format_type(a.atttypid, a.atttypmod) AS type,
    a.attnotnull AS "notNull",
    pg_get_expr(d.adbin, d.adrelid) AS default,
    a.attidentity::text AS identity,
    a.attgenerated::text AS generated,
    CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END
      AS collation
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'm')
    AND ${userNamespace('n')}`;

const sequencesQuery = `
  SELECT c.oid::regclass::text AS key,
    format_type(s.seqtypid, NULL) AS type,
    s.seqstart::text AS start, s.seqincrement::text AS increment,
    s.seqmin::text AS min, s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle,
    (SELECT format('%s.%I', d.refobjid::regclass, a.attname)
      FROM pg_depend d
      JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
        AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')) AS "ownedBy"
  FROM pg_sequence s
  JOIN pg_class c ON c.oid = s.seqrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE ${userNamespace('n')} AND ${notExtensionMember('pg_class', 'c.oid')}`;

const largeObjectsQuery = `
  SELECT m.oid::text AS key, length(lo_get(m.oid))::int AS size, md5(lo_get(m.oid)) AS md5,
    obj_description(m.oid, 'pg_largeobject') AS comment
  FROM pg_largeobject_metadata m`;

// Standalone composite types only: every table also has a row type.
const typesQuery = `
  SELECT t.oid::regtype::text AS key,
    CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' WHEN 'c' THEN 'composite'
      WHEN 'r' THEN 'range' ELSE t.typtype::text END AS kind,
    CASE t.typtype
      WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
        FROM pg_enum e WHERE e.enumtypid = t.oid)
      WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod)
        || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
        || coalesce(' DEFAULT ' || pg_get_expr(t.typdefaultbin, 0), '')
      WHEN 'c' THEN (SELECT string_agg(format('%I %s', a.attname,
          format_type(a.atttypid, a.atttypmod)), ', ' ORDER BY a.attnum)
        FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
      WHEN 'r' THEN (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r
        WHERE r.rngtypid = t.oid)
    END AS definition
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE ${userNamespace('n')} AND ${notExtensionMember('pg_type', 't.oid')}
    AND (t.typtype IN ('e', 'd', 'r')
      OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c'))`;

const constraintsQuery = `
  SELECT CASE WHEN con.conrelid <> 0 THEN con.conrelid::regclass::text
      ELSE con.contypid::regtype::text END || ' ' || quote_ident(con.conname) AS key,
    pg_get_constraintdef(con.oid) AS definition
  FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
  WHERE ${userNamespace('n')}`;

const indexesQuery = `
  SELECT i.indexrelid::regclass::text AS key, i.indrelid::regclass::text AS table,
    pg_get_indexdef(i.indexrelid) AS definition,
    (SELECT h.inhparent::regclass::text FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
      AS parent
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE ${userNamespace('n')}`;

const viewsQuery = `
  SELECT c.oid::regclass::text AS key, pg_get_viewdef(c.oid, true) AS definition
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('v', 'm') AND ${userNamespace('n')}
    AND ${notExtensionMember('pg_class', 'c.oid')}`;

// pg_get_functiondef rejects aggregates; their signature (the key) still shows up.
const functionsQuery = `
  SELECT p.oid::regprocedure::text AS key,
    CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE ${userNamespace('n')} AND ${notExtensionMember('pg_proc', 'p.oid')}`;

const triggersQuery = `
  SELECT t.tgrelid::regclass::text || ' ' || quote_ident(t.tgname) AS key,
    pg_get_triggerdef(t.oid) AS definition, t.tgenabled::text AS enabled
  FROM pg_trigger t
  JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE NOT t.tgisinternal AND ${userNamespace('n')}`;

const policiesQuery = `
  SELECT format('%I.%I %I', schemaname, tablename, policyname) AS key,
    permissive, roles::text AS roles, cmd AS command, qual AS using, with_check AS "withCheck"
  FROM pg_policies`;

// Large object comments are part of largeObjects; the rest are described by name. 16384 is
// FirstNormalObjectId: built-in objects are skipped, except the public schema, which a restore
// may recreate (then with a new OID), so its comment is compared by name.
const commentsQuery = `
  SELECT pg_describe_object(d.classoid, d.objoid, d.objsubid) AS key, d.description
  FROM pg_description d
  WHERE (d.objoid >= 16384 OR (d.classoid = 'pg_namespace'::regclass AND d.objoid = 'public'::regnamespace))
    AND d.classoid <> 'pg_largeobject'::regclass
    AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = d.classoid
      AND dep.objid = d.objoid AND dep.deptype = 'e')`;
