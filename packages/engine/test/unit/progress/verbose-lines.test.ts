import { describe, expect, it } from 'vitest';
import {
  parseDumpVerboseLine,
  parseRestoreVerboseLine,
  parseScriptEchoLine,
  type VerboseEvent,
} from '../../../src/progress/verbose-lines.js';
import { SHOP_QUALIFIED, fixtureLines } from './fixtures.js';

function events(name: string, parse: (line: string) => VerboseEvent | null): VerboseEvent[] {
  return fixtureLines(name)
    .map(parse)
    .filter((event) => event !== null);
}

function ofType<T extends VerboseEvent['type']>(list: VerboseEvent[], type: T) {
  return list.filter((event): event is Extract<VerboseEvent, { type: T }> => event.type === type);
}

describe('parseDumpVerboseLine on captured pg_dump output', () => {
  it('sees every table of a custom-format dump, with raw (unquoted) names', () => {
    const parsed = events('pg_dump-custom.txt', parseDumpVerboseLine);
    const tables = ofType(parsed, 'table-data');
    expect(tables.map((t) => t.qualified).sort()).toEqual([...SHOP_QUALIFIED].sort());
    expect(tables).toContainEqual({
      type: 'table-data',
      schema: 'MixedCase',
      table: 'Weird "Table"',
      qualified: 'MixedCase.Weird "Table"',
    });
    // A dot in the schema name cannot be told from one in the table name: the split guesses.
    expect(tables).toContainEqual({
      type: 'table-data',
      schema: 'dot',
      table: 'schema.a.b',
      qualified: 'dot.schema.a.b',
    });
    expect(parsed.at(-1)).toEqual({ type: 'large-objects-started' });
    expect(ofType(parsed, 'catalog').length).toBeGreaterThan(40);
    expect(ofType(parsed, 'error')).toEqual([]);
  });

  it('has an event for every line of a custom-format dump', () => {
    expect(fixtureLines('pg_dump-custom.txt').filter((line) => parseDumpVerboseLine(line) === null)).toEqual([]);
  });

  it('reports the fsync failure of -f /dev/null as an error', () => {
    const parsed = events('pg_dump-custom-devnull.txt', parseDumpVerboseLine);
    expect(parsed.at(-1)).toEqual({ type: 'error', message: 'could not fsync file "/dev/null": Invalid argument' });
  });

  it('parses the archiver lines a plain-format dump prints too', () => {
    const parsed = events('pg_dump-plain.txt', parseDumpVerboseLine);
    // "processing data for table" and "dumping contents of table" for each table.
    expect(ofType(parsed, 'table-data')).toHaveLength(2 * SHOP_QUALIFIED.length);
    expect(ofType(parsed, 'object')).toContainEqual({
      type: 'object',
      kind: 'CONSTRAINT',
      name: 'MixedCase.Weird "Table" Weird "Table"_pkey',
    });
    expect(ofType(parsed, 'object')).toContainEqual({ type: 'object', kind: 'SCHEMA', name: 'dot.schema' });
    expect(ofType(parsed, 'executing')).toEqual([
      { type: 'executing', kind: 'SEQUENCE SET', tag: 'invoice_no' },
      { type: 'executing', kind: 'SEQUENCE SET', tag: 'orders_id_seq' },
      { type: 'executing', kind: 'SEQUENCE SET', tag: 'customers_id_seq' },
    ]);
    expect(ofType(parsed, 'large-object')).toEqual([
      { type: 'large-object', oid: 16464, step: 'create' },
      { type: 'large-object', oid: 16465, step: 'create' },
    ]);
  });

  it('pairs each started table with a "finished item" in a parallel dump', () => {
    const parsed = events('pg_dump-directory-j2.txt', parseDumpVerboseLine);
    const finished = ofType(parsed, 'item-finished');
    expect(finished).toContainEqual({ type: 'item-finished', dumpId: 3526, kind: 'TABLE DATA', tag: 'Weird "Table"' });
    expect(finished).toContainEqual({ type: 'item-finished', dumpId: 3527, kind: 'TABLE DATA', tag: 'a.b' });
    expect(finished).toContainEqual({ type: 'item-finished', dumpId: 3533, kind: 'BLOBS', tag: 'BLOBS' });
    const tags = finished.filter((f) => f.kind === 'TABLE DATA').map((f) => f.tag);
    expect(tags.sort()).toEqual(
      ['Child', 'Weird "Table"', 'a.b', 'customers', 'empty_table', 'events_2024', 'events_2025', 'orders'].sort(),
    );
    expect(ofType(parsed, 'table-data')).toHaveLength(SHOP_QUALIFIED.length);
  });

  it('reports a connection failure', () => {
    expect(events('pg_dump-connection-error.txt', parseDumpVerboseLine)).toEqual([
      {
        type: 'error',
        message:
          'connection to server on socket "/tmp/.s.PGSQL.55432" failed: FATAL:  database "nosuchdb" does not exist',
      },
    ]);
  });
});

describe('parseRestoreVerboseLine on captured pg_restore output', () => {
  it('sees every table, object and large object of a script-mode restore', () => {
    const parsed = events('pg_restore-script.txt', parseRestoreVerboseLine);
    expect(parsed).toHaveLength(fixtureLines('pg_restore-script.txt').length);
    expect(ofType(parsed, 'table-data').map((t) => t.qualified)).toEqual(SHOP_QUALIFIED);
    expect(ofType(parsed, 'object')).toContainEqual({ type: 'object', kind: 'INDEX', name: 'MixedCase.Child_Id_idx' });
    expect(ofType(parsed, 'object')).toContainEqual({ type: 'object', kind: 'ACL', name: 'app.TABLE orders' });
    expect(ofType(parsed, 'object')).toContainEqual({
      type: 'object',
      kind: 'MATERIALIZED VIEW DATA',
      name: 'app.order_totals',
    });
    expect(ofType(parsed, 'large-object')).toEqual([
      { type: 'large-object', oid: 16464, step: 'create' },
      { type: 'large-object', oid: 16465, step: 'create' },
      { type: 'large-object', oid: 16464, step: 'restore' },
      { type: 'large-object', oid: 16465, step: 'restore' },
    ]);
    expect(ofType(parsed, 'large-objects-started')).toHaveLength(1);
    expect(ofType(parsed, 'large-objects-done')).toEqual([{ type: 'large-objects-done', count: 2 }]);
  });

  it('prints the same lines with --single-transaction', () => {
    expect(events('pg_restore-single-transaction.txt', parseRestoreVerboseLine)).toEqual(
      events('pg_restore-script.txt', parseRestoreVerboseLine),
    );
  });

  it('keeps errors and warnings, and drops their context and continuation lines', () => {
    const parsed = events('pg_restore-errors.txt', parseRestoreVerboseLine);
    const errors = ofType(parsed, 'error');
    expect(errors).toHaveLength(5);
    expect(errors[0]?.message).toBe('could not execute query: ERROR:  relation "Weird "Table"" already exists');
    expect(ofType(parsed, 'warning')).toEqual([{ type: 'warning', message: 'errors ignored on restore: 5' }]);
    for (const line of ['Command was: ALTER TABLE ONLY app.orders', 'pg_restore: while PROCESSING TOC:']) {
      expect(parseRestoreVerboseLine(line)).toBeNull();
    }
    expect(parseRestoreVerboseLine('pg_restore: from TOC entry 221; 1259 16399 TABLE orders postgres')).toBeNull();
    expect(parseRestoreVerboseLine('pg_restore: connecting to database for restore')).toBeNull();
  });

  it('reports a truncated archive as an error after the tables it got to', () => {
    const parsed = events('pg_restore-truncated-data.txt', parseRestoreVerboseLine);
    expect(parsed.at(-1)).toEqual({ type: 'error', message: 'could not read from input file: end of file' });
    expect(ofType(parsed, 'table-data').map((t) => t.table)).toEqual([
      'Child',
      'Weird "Table"',
      'empty_table',
      'events_2024',
    ]);
  });

  it('ignores the other program and unprefixed lines', () => {
    expect(parseRestoreVerboseLine('pg_dump: dumping contents of table "public.t"')).toBeNull();
    expect(parseDumpVerboseLine('\tIs the server running locally?')).toBeNull();
  });

  it('parses the level lines pg_dump 15 and older versions print', () => {
    expect(parseDumpVerboseLine('pg_dump: detail: server version: 16.2; pg_dump version: 15.18')).toEqual({
      type: 'detail',
      message: 'server version: 16.2; pg_dump version: 15.18',
    });
    expect(parseDumpVerboseLine('pg_dump: hint: Try "pg_dump --help" for more information.')).toEqual({
      type: 'hint',
      message: 'Try "pg_dump --help" for more information.',
    });
    expect(parseDumpVerboseLine('pg_dump: fatal: could not open output file')).toEqual({
      type: 'error',
      message: 'could not open output file',
    });
    expect(parseRestoreVerboseLine('pg_restore: restored 1 large object\r')).toEqual({
      type: 'large-objects-done',
      count: 1,
    });
  });
});

describe('parseScriptEchoLine on psql -a output of a restore script', () => {
  const echo = events('psql-echo-restore.txt', parseScriptEchoLine);

  it('names schema and table separately, so dotted names are exact', () => {
    expect(ofType(echo, 'table-data')).toContainEqual({
      type: 'table-data',
      schema: 'dot.schema',
      table: 'a.b',
      qualified: 'dot.schema.a.b',
    });
    expect(ofType(echo, 'table-data').map((t) => t.qualified)).toEqual(SHOP_QUALIFIED);
  });

  it('yields the same items, in the same order, as pg_restore --verbose', () => {
    const restore = events('pg_restore-script.txt', parseRestoreVerboseLine);
    // Only the split of "dot.schema.a.b" differs: the echo knows it, stderr guesses.
    const items = (list: VerboseEvent[]) =>
      list
        .filter(
          (e) =>
            e.type === 'object' ||
            e.type === 'table-data' ||
            e.type === 'executing' ||
            e.type === 'large-objects-started' ||
            (e.type === 'large-object' && e.step === 'create'),
        )
        .map((e) => (e.type === 'table-data' ? e.qualified : e));
    expect(items(echo)).toEqual(items(restore));
  });

  it('ignores the echoed SQL', () => {
    expect(parseScriptEchoLine('CREATE INDEX t_v_idx ON public.t USING btree (v);')).toBeNull();
    expect(parseScriptEchoLine('-- PostgreSQL database dump')).toBeNull();
  });
});
