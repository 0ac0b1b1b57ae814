/**
 * Archive item descriptions ("TABLE DATA", "FK CONSTRAINT", ...) as pg_dump 15 writes them into the
 * TOC, and the restore section each one belongs to.
 *
 * The description appears unquoted in front of the names in `pg_restore --list` lines and in
 * `finished item N <description> <tag>` lines, and several descriptions are more than one word, so
 * splitting those lines needs the list of known descriptions.
 */

export type TocSection = 'pre-data' | 'data' | 'post-data';

/**
 * Restored in the data pass. BLOB entries sit in the TOC's pre-data section but pg_restore treats
 * "anything to do with BLOBs" and SEQUENCE SET as data (`_tocEntryRequired`), and prints them as
 * "executing ..." among the table data.
 */
const DATA = ['TABLE DATA', 'SEQUENCE SET', 'BLOB', 'BLOBS'];

/**
 * Restored after the data. ACL and DEFAULT ACL entries are listed next to their object but
 * pg_restore applies them in a separate pass after the post-data items (only MATERIALIZED VIEW DATA
 * comes later), so for progress they are post-data too.
 */
const POST_DATA = [
  'INDEX',
  'INDEX ATTACH',
  'CONSTRAINT',
  'CHECK CONSTRAINT',
  'FK CONSTRAINT',
  'TRIGGER',
  'EVENT TRIGGER',
  'RULE',
  'POLICY',
  'ROW SECURITY',
  'STATISTICS',
  'PUBLICATION',
  'PUBLICATION TABLE',
  'PUBLICATION TABLES IN SCHEMA',
  'SUBSCRIPTION',
  'MATERIALIZED VIEW DATA',
  'ACL',
  'DEFAULT ACL',
];

/** No section of their own: restored right after the object they describe. */
const FOLLOWS_OBJECT = ['COMMENT', 'SECURITY LABEL'];

const PRE_DATA = [
  'ACCESS METHOD',
  'AGGREGATE',
  'CAST',
  'COLLATION',
  'CONVERSION',
  'DATABASE',
  'DATABASE PROPERTIES',
  'DEFAULT',
  'DOMAIN',
  'ENCODING',
  'EXTENSION',
  'FOREIGN DATA WRAPPER',
  'FOREIGN TABLE',
  'FUNCTION',
  'MATERIALIZED VIEW',
  'OPERATOR',
  'OPERATOR CLASS',
  'OPERATOR FAMILY',
  'PROCEDURAL LANGUAGE',
  'PROCEDURE',
  'SCHEMA',
  'SEARCHPATH',
  'SEQUENCE',
  'SEQUENCE OWNED BY',
  'SERVER',
  'SHELL TYPE',
  'STDSTRINGS',
  'TABLE',
  'TABLE ATTACH',
  'TEXT SEARCH CONFIGURATION',
  'TEXT SEARCH DICTIONARY',
  'TEXT SEARCH PARSER',
  'TEXT SEARCH TEMPLATE',
  'TRANSFORM',
  'TYPE',
  'USER MAPPING',
  'VIEW',
];

/** Longest first, so "TABLE DATA" wins over "TABLE". */
const KNOWN = [...DATA, ...POST_DATA, ...FOLLOWS_OBJECT, ...PRE_DATA].sort((a, b) => b.length - a.length);

const SECTIONS = new Map<string, TocSection>([
  ...DATA.map((d) => [d, 'data'] as const),
  ...POST_DATA.map((d) => [d, 'post-data'] as const),
]);

/**
 * The section an item of this description is restored in; null for COMMENT and SECURITY LABEL,
 * which follow their object. Unknown descriptions count as pre-data, where pg_dump puts most
 * object definitions.
 */
export function sectionOfDescription(description: string): TocSection | null {
  if (FOLLOWS_OBJECT.includes(description)) return null;
  return SECTIONS.get(description) ?? 'pre-data';
}

/**
 * Splits `<description> <rest>`. A description this list does not know (a newer pg_dump) is taken
 * to be the first word.
 */
export function splitDescription(text: string): { description: string; rest: string } {
  const known = KNOWN.find((d) => text.startsWith(`${d} `));
  const description = known ?? text.split(' ', 1)[0] ?? text;
  return { description, rest: text.slice(description.length + 1) };
}
