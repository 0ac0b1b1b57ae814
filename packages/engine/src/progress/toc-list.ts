/**
 * `pg_restore --list` output: a `;`-commented header, then one line per TOC entry:
 *
 *   3416; 0 16435 TABLE DATA MixedCase Weird "Table" postgres
 *   3422; 0 0 BLOBS - BLOBS <empty owner>
 *   ;	depends on: 225          (only with --verbose, after its entry)
 *
 * i.e. `<dumpId>; <catalog oid> <oid> <description> <schema or -> <tag> <owner>` with raw names
 * separated by single spaces. Descriptions have several words and names may contain spaces, so the
 * split uses the known descriptions, the schema names the archive itself defines (SCHEMA entries)
 * and the owner as the last word. The list does not print sections: they are inferred from the
 * description, as pg_restore does. Without --verbose, pg_restore lists only the entries it would
 * restore with the same options (e.g. no ACL entries with --no-privileges), and no dependencies.
 */
import { sectionOfDescription, splitDescription, type TocSection } from './toc-descriptions.js';

export interface TocEntry {
  dumpId: number;
  section: TocSection;
  description: string;
  /** Null for objects outside a schema (printed as "-"). */
  schema: string | null;
  /** The TOC tag: a name, "table constraint" for constraints, "TABLE orders" for an ACL/COMMENT. */
  name: string;
  /** Null when empty (BLOBS, COMMENT ON EXTENSION). */
  owner: string | null;
  /** Dump ids this entry depends on: only `pg_restore --list --verbose` prints them. */
  dependencies: number[];
}

/** Header fields as printed; pg_dump 16+ prints the compression method instead of a level. */
export interface TocHeader {
  /** e.g. "2026-11-23 22:00:59 UTC", in the dumping machine's time zone abbreviation. */
  createdAt: string | null;
  databaseName: string | null;
  tocEntries: number | null;
  compression: string | null;
  /** Archive format version, e.g. "1.14-0". */
  archiveVersion: string | null;
  /** CUSTOM, DIRECTORY or TAR. */
  format: string | null;
  serverVersion: string | null;
  pgDumpVersion: string | null;
}

const HEADER_FIELDS: [keyof TocHeader, RegExp][] = [
  ['createdAt', /^; Archive created at (.*)$/],
  ['databaseName', /^;\s+dbname: (.*)$/],
  ['tocEntries', /^;\s+TOC Entries: (\d+)$/],
  ['compression', /^;\s+Compression: (.*)$/],
  ['archiveVersion', /^;\s+Dump Version: (.*)$/],
  ['format', /^;\s+Format: (.*)$/],
  ['serverVersion', /^;\s+Dumped from database version: (.*)$/],
  ['pgDumpVersion', /^;\s+Dumped by pg_dump version: (.*)$/],
];

export interface TocList {
  header: TocHeader;
  entries: TocEntry[];
}

export function parseTocList(text: string): TocList {
  return { header: parseTocHeader(text), entries: parseTocEntries(text) };
}

function parseTocHeader(text: string): TocHeader {
  const header: TocHeader = {
    createdAt: null,
    databaseName: null,
    tocEntries: null,
    compression: null,
    archiveVersion: null,
    format: null,
    serverVersion: null,
    pgDumpVersion: null,
  };
  for (const line of lines(text)) {
    for (const [field, pattern] of HEADER_FIELDS) {
      const value = pattern.exec(line)?.[1];
      if (value === undefined) continue;
      if (field === 'tocEntries') header.tocEntries = Number(value);
      else header[field] = value;
    }
  }
  return header;
}

const ENTRY = /^(\d+); \d+ \d+ (.*)$/;
const DEPENDS = /^;\tdepends on:((?: \d+)*)$/;

interface RawEntry {
  dumpId: number;
  description: string;
  rest: string;
  dependencies: number[];
}

function parseTocEntries(text: string): TocEntry[] {
  const raw: RawEntry[] = [];
  for (const line of lines(text)) {
    const entry = ENTRY.exec(line);
    if (entry) {
      raw.push({ dumpId: Number(entry[1]), ...splitDescription(entry[2] ?? ''), dependencies: [] });
      continue;
    }
    const depends = DEPENDS.exec(line);
    const last = raw.at(-1);
    if (depends && last) last.dependencies = (depends[1] ?? '').trim().split(' ').map(Number);
  }

  // A schema's own entry has no schema ("-"), so its name splits unambiguously; knowing the
  // schema names then lets "my schema t owner" split right for the entries inside it.
  const schemas = raw
    .filter((r) => r.description === 'SCHEMA')
    .map((r) => splitNames(r.rest, []).name)
    .sort((a, b) => b.length - a.length);

  let section: TocSection = 'pre-data';
  return raw.map((r) => {
    // COMMENT / SECURITY LABEL carry no section: they belong where the previous entry is.
    section = sectionOfDescription(r.description) ?? section;
    return {
      dumpId: r.dumpId,
      section,
      description: r.description,
      ...splitNames(r.rest, schemas),
      dependencies: r.dependencies,
    };
  });
}

function splitNames(rest: string, schemas: string[]): { schema: string | null; name: string; owner: string | null } {
  const ownerAt = rest.lastIndexOf(' ');
  const owner = ownerAt < 0 ? '' : rest.slice(ownerAt + 1);
  const names = ownerAt < 0 ? rest : rest.slice(0, ownerAt);
  const schema = names.startsWith('- ')
    ? '-'
    : (schemas.find((s) => names.startsWith(`${s} `)) ?? names.split(' ', 1)[0] ?? '');
  return {
    schema: schema === '-' ? null : schema,
    name: names.slice(schema.length + 1),
    owner: owner === '' ? null : owner,
  };
}

export function tocSectionCounts(entries: readonly TocEntry[]): Record<TocSection, number> {
  const counts: Record<TocSection, number> = { 'pre-data': 0, data: 0, 'post-data': 0 };
  for (const entry of entries) counts[entry.section] += 1;
  return counts;
}

function lines(text: string): string[] {
  return text.split('\n').map((line) => line.replace(/\r$/, ''));
}
