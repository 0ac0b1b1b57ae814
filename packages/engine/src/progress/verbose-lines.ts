/**
 * Parsers for the progress-relevant lines of pg_dump / pg_restore `--verbose` stderr (PostgreSQL 15,
 * spawned with LC_ALL=C so the messages are not translated) and of the psql `-a` echo of a restore
 * script. Captured real output lives in test/fixtures/verbose/.
 *
 * Names are NOT quoted the SQL way. The tools print `"<namespace>.<tag>"` with the raw names, so
 * `"MixedCase"."Weird ""Table"""` appears as `"MixedCase.Weird "Table""` and `"dot.schema"."a.b"` as
 * `"dot.schema.a.b"`. The outer quotes are the first and last character, so embedded quotes are
 * harmless; a dot in a schema name is genuinely ambiguous, which is why table events carry the
 * printed `qualified` string (compare it with `${schema}.${name}` of known tables) besides a
 * first-dot split.
 */
import { splitDescription } from './toc-descriptions.js';

// The TOC listing (`pg_restore --list`) has its own module; exported here too as the one place
// for the tools' output formats.
export { parseTocList, type TocEntry, type TocHeader, type TocList } from './toc-list.js';

export type VerboseEvent =
  /** pg_dump reading the catalogs before anything is written ("reading indexes", "saving encoding = UTF8"). */
  | { type: 'catalog'; message: string }
  /** Data of one table starts ("dumping contents of table", "processing data for table"). */
  | { type: 'table-data'; schema: string; table: string; qualified: string }
  /** An item is being created ("creating INDEX ..."); `name` is "<namespace>.<tag>", or the tag alone. */
  | { type: 'object'; kind: string; name: string }
  /** A data item without a data stream, e.g. "executing SEQUENCE SET invoice_no" (tag, no schema). */
  | { type: 'executing'; kind: string; tag: string }
  /** The large objects' contents start ("processing BLOBS", "saving large objects"). */
  | { type: 'large-objects-started' }
  /** One large object: created ("executing BLOB 16464") or its contents restored. */
  | { type: 'large-object'; oid: number; step: 'create' | 'restore' }
  | { type: 'large-objects-done'; count: number }
  /** Parallel mode (-j): the leader reports each item when its worker is done. */
  | { type: 'item-finished'; dumpId: number; kind: string; tag: string }
  /** Tool messages by level ("pg_dump: error: ..."); a detail or hint adds to the error before it. */
  | { type: 'error'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'detail'; message: string }
  | { type: 'hint'; message: string };

/** `pg_dump -Fc/-Fd/-Fp --verbose` stderr. -Fp also prints pg_restore's messages (it runs the archiver). */
export function parseDumpVerboseLine(line: string): VerboseEvent | null {
  return parsePrefixed('pg_dump: ', line);
}

/** `pg_restore --verbose` stderr (script mode `-f -` and direct mode print the same lines). */
export function parseRestoreVerboseLine(line: string): VerboseEvent | null {
  return parsePrefixed('pg_restore: ', line);
}

function parsePrefixed(prefix: string, line: string): VerboseEvent | null {
  // Lines without the prefix continue the previous message ("Command was: ...", the SQL of a
  // failed statement, "DETAIL:" from the server, a tab-indented connection hint): not events. The
  // caller keeps the raw stderr tail for error messages.
  if (!line.startsWith(prefix)) return null;
  return parseMessage(line.slice(prefix.length).replace(/\r$/, ''));
}

const LEVEL = /^(error|fatal|warning|detail|hint): (.*)$/;
/** "fatal" is what PostgreSQL 12-14 printed where 15 prints "error". */
const LEVELS = new Map<string, 'error' | 'warning' | 'detail' | 'hint'>([
  ['error', 'error'],
  ['fatal', 'error'],
  ['warning', 'warning'],
  ['detail', 'detail'],
  ['hint', 'hint'],
]);
const CATALOG = /^(?:last built-in OID is|reading |identifying |finding |flagging |saving )/;
const TABLE_DATA = /^(?:dumping contents of table|processing data for table) "(.*)"$/;
const CREATING = /^creating (.+?) "(.*)"$/;
const FINISHED = /^finished item (\d+) (.*)$/;
const RESTORING_LO = /^restoring large object with OID (\d+)$/;
const RESTORED_LOS = /^restored (\d+) large objects?$/;

function parseMessage(message: string): VerboseEvent | null {
  const level = LEVEL.exec(message);
  if (level) return { type: LEVELS.get(level[1] ?? '') ?? 'error', message: level[2] ?? '' };

  const table = TABLE_DATA.exec(message);
  if (table) return tableData(table[1] ?? '');

  const creating = CREATING.exec(message);
  if (creating) return { type: 'object', kind: creating[1] ?? '', name: creating[2] ?? '' };

  if (message.startsWith('executing ')) {
    const { description, rest } = splitDescription(message.slice('executing '.length));
    return description === 'BLOB'
      ? { type: 'large-object', oid: Number(rest), step: 'create' }
      : { type: 'executing', kind: description, tag: rest };
  }

  if (message === 'processing BLOBS' || message === 'saving large objects') {
    return { type: 'large-objects-started' };
  }
  const restoring = RESTORING_LO.exec(message);
  if (restoring) return { type: 'large-object', oid: Number(restoring[1]), step: 'restore' };
  const restored = RESTORED_LOS.exec(message);
  if (restored) return { type: 'large-objects-done', count: Number(restored[1]) };

  const finished = FINISHED.exec(message);
  if (finished) {
    const { description, rest } = splitDescription(finished[2] ?? '');
    return { type: 'item-finished', dumpId: Number(finished[1]), kind: description, tag: rest };
  }

  // After the large-object check: "saving large objects" is data, the other "saving" lines are setup.
  if (CATALOG.test(message)) return { type: 'catalog', message };

  // Deliberately ignored: "connecting to database for restore", "implied data-only restore",
  // "dropping <kind> <tag>" (--clean), "launching item N ..." (parallel restore: the matching
  // "processing data" line follows), and "while PROCESSING TOC:" / "from TOC entry N; ..." which
  // only give context to the error line after them.
  return null;
}

/** Splits at the first dot: exact unless the schema name itself contains a dot. */
function tableData(qualified: string): VerboseEvent {
  const dot = qualified.indexOf('.');
  return {
    type: 'table-data',
    schema: dot < 0 ? '' : qualified.slice(0, dot),
    table: qualified.slice(dot + 1),
    qualified,
  };
}

const ECHO_HEADER = /^-- (Data for )?Name: (.*?); Type: ([A-Z ]+); Schema: (.*?); Owner: /;

/**
 * psql `-a` (ECHO=all) output while it executes a script from pg_restore / pg_dump -Fp. psql
 * echoes each input line as it reads it, just before executing the statement, but never echoes
 * COPY data. pg_restore's own stderr is useless for timing post-data in script mode: its stdout
 * is a pipe and the CREATE INDEX statements are tiny, so it prints every "creating INDEX" line and
 * exits while psql is still building the first index (measured: pg_restore exited at 1.3 s, psql
 * finished at 3.9 s). The script's TOC comment headers are exact instead, and they name the
 * schema separately:
 *
 *   -- Name: orders orders_pkey; Type: CONSTRAINT; Schema: app; Owner: postgres
 *   -- Data for Name: Weird "Table"; Type: TABLE DATA; Schema: MixedCase; Owner: postgres
 *
 * Every other echoed line (the SQL itself) is null.
 */
export function parseScriptEchoLine(line: string): VerboseEvent | null {
  const header = ECHO_HEADER.exec(line);
  if (!header) return null;
  const [, dataFor, tag = '', kind = '', schema = ''] = header;
  if (dataFor && kind === 'TABLE DATA') {
    return { type: 'table-data', schema, table: tag, qualified: `${schema}.${tag}` };
  }
  if (kind === 'BLOBS') return { type: 'large-objects-started' };
  if (kind === 'BLOB') return { type: 'large-object', oid: Number(tag), step: 'create' };
  if (kind === 'SEQUENCE SET') return { type: 'executing', kind, tag };
  return { type: 'object', kind, name: schema === '-' ? tag : `${schema}.${tag}` };
}
