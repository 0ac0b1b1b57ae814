import { describe, expect, it } from 'vitest';
import { sectionOfDescription } from '../../../src/progress/toc-descriptions.js';
import { parseTocList, tocSectionCounts } from '../../../src/progress/toc-list.js';
import { parseRestoreVerboseLine } from '../../../src/progress/verbose-lines.js';
import { fixtureLines, readFixture } from './fixtures.js';

describe('parseTocList on captured pg_restore --list output', () => {
  const { header, entries } = parseTocList(readFixture('pg_restore-list.txt'));

  it('reads the header fields', () => {
    expect(header).toEqual({
      createdAt: '2026-11-23 22:00:59 UTC',
      databaseName: 'shop',
      tocEntries: 70,
      compression: '-1',
      archiveVersion: '1.14-0',
      format: 'CUSTOM',
      serverVersion: '15.18 (Debian 15.18-0+deb12u1)',
      pgDumpVersion: '15.18 (Debian 15.18-0+deb12u1)',
    });
  });

  it('reads every listed entry and infers its section', () => {
    expect(entries).toHaveLength(66);
    expect(tocSectionCounts(entries)).toEqual({ 'pre-data': 27, data: 14, 'post-data': 25 });
  });

  it('counts exactly the post-data items pg_restore then reports creating', () => {
    const postData = fixtureLines('pg_restore-script.txt')
      .map(parseRestoreVerboseLine)
      .filter((e) => e?.type === 'object' && sectionOfDescription(e.kind) === 'post-data');
    expect(postData).toHaveLength(tocSectionCounts(entries)['post-data']);
  });

  it('splits names with spaces, quotes and dots', () => {
    expect(entries).toContainEqual({
      dumpId: 3526,
      section: 'data',
      description: 'TABLE DATA',
      schema: 'MixedCase',
      name: 'Weird "Table"',
      owner: 'postgres',
      dependencies: [],
    });
    expect(entries.find((e) => e.dumpId === 3527)).toMatchObject({ schema: 'dot.schema', name: 'a.b' });
    expect(entries.find((e) => e.dumpId === 3363)).toMatchObject({
      section: 'post-data',
      description: 'CONSTRAINT',
      schema: 'MixedCase',
      name: 'Weird "Table" Weird "Table"_pkey',
    });
    expect(entries.find((e) => e.dumpId === 3371)).toMatchObject({
      description: 'FK CONSTRAINT',
      name: 'Child Child_Id_fkey',
    });
  });

  it('handles entries without schema or owner', () => {
    expect(entries.find((e) => e.description === 'BLOBS')).toMatchObject({
      section: 'data',
      schema: null,
      name: 'BLOBS',
      owner: null,
    });
    expect(entries.find((e) => e.description === 'COMMENT' && e.schema === null)).toMatchObject({
      section: 'pre-data',
      name: 'EXTENSION citext',
      owner: null,
    });
    expect(entries.find((e) => e.dumpId === 3540)).toMatchObject({
      section: 'post-data',
      description: 'ACL',
      schema: null,
      name: 'SCHEMA app',
    });
  });

  it('treats BLOB and SEQUENCE SET as data, MATERIALIZED VIEW DATA and INDEX ATTACH as post-data', () => {
    const sectionOf = (description: string) => entries.find((e) => e.description === description)?.section;
    expect(sectionOf('BLOB')).toBe('data');
    expect(sectionOf('SEQUENCE SET')).toBe('data');
    expect(sectionOf('MATERIALIZED VIEW DATA')).toBe('post-data');
    expect(sectionOf('INDEX ATTACH')).toBe('post-data');
    expect(sectionOf('MATERIALIZED VIEW')).toBe('pre-data');
    expect(sectionOf('TABLE ATTACH')).toBe('pre-data');
  });
});

describe('parseTocList on pg_restore --list --verbose output', () => {
  const { header, entries } = parseTocList(readFixture('pg_restore-list-verbose.txt'));

  it('lists every entry, with dependencies', () => {
    expect(entries).toHaveLength(header.tocEntries ?? -1);
    expect(entries.find((e) => e.dumpId === 3350)).toMatchObject({
      description: 'INDEX',
      schema: 'app',
      name: 'orders_customer_idx',
      dependencies: [221],
    });
    expect(entries.find((e) => e.dumpId === 3370)?.dependencies).toEqual([219, 221, 3349]);
    expect(entries.find((e) => e.description === 'ENCODING')).toMatchObject({ schema: null, owner: null });
  });
});

describe('parseTocList on hand-written lines', () => {
  it('uses the schemas the archive defines to split names with spaces', () => {
    const { entries } = parseTocList(
      ['5; 2615 16390 SCHEMA - my schema alice', '210; 1259 16400 TABLE my schema big table alice'].join('\n'),
    );
    expect(entries[1]).toMatchObject({ schema: 'my schema', name: 'big table', owner: 'alice' });
  });

  it('ignores comment lines and a missing header', () => {
    const { header, entries } = parseTocList(';210; 1259 16400 TABLE public t alice\n\n');
    expect(entries).toEqual([]);
    expect(header.format).toBeNull();
  });
});
