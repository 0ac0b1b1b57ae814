/**
 * How much of the progress bar each step is worth, in "bytes of table data" units. Figures were
 * measured on this machine (PostgreSQL 15, 2 cores): pg_restore loads table data at ~100 MB/s, and
 * building an index or validating a foreign key costs 0.3-0.55 s per 100 MB of the tables involved.
 */
import type { TableSize } from '../pg/catalog.js';
import type { TocEntry } from './toc-list.js';

/** A post-data step as the verbose / echo lines name it ("app.orders orders_pkey"). */
export interface PostDataItem {
  kind: string;
  name: string;
  /** Bytes of the relations the step reads; 0 for catalog-only steps; null when unknown. */
  bytes: number | null;
}

/**
 * Floor for any step: one COPY round-trip (~1 ms) at ~100 MB/s, so that a thousand empty tables
 * still move the bar.
 */
export const MIN_WEIGHT = 128 * 1024;

/** Catalog reading (pg_dump) or pre-data DDL (restore): cheap next to the data, but not free. */
export const SCHEMA_SHARE = 0.03;

/** Index build / FK validation / matview refresh, per byte of the relations it reads. */
export const POST_DATA_COST_PER_BYTE = 0.4;

/**
 * A post-data step of unknown cost is worth 2% of the data, and all of them together at most half
 * of it: measured index builds took from half to nearly twice the time of loading the data.
 */
export const UNKNOWN_STEP_SHARE = 0.02;
export const UNKNOWN_STEPS_MAX_SHARE = 0.5;

/** Large objects are weighed as this relation when the caller lists its size; else MIN_WEIGHT. */
export const LARGE_OBJECTS_TABLE = { schema: 'pg_catalog', name: 'pg_largeobject' } as const;

/** The steps whose cost grows with the tables they read. */
const HEAVY_STEPS = new Set(['INDEX', 'CONSTRAINT', 'CHECK CONSTRAINT', 'FK CONSTRAINT', 'MATERIALIZED VIEW DATA']);
const RELATIONS = new Set(['TABLE', 'MATERIALIZED VIEW']);

/** "<schema>.<name>", the form pg_dump and pg_restore print. */
export function qualifiedName(schema: string | null, name: string): string {
  return schema === null ? name : `${schema}.${name}`;
}

/**
 * What a row costs beyond its bytes, in bytes, measured on this machine (PostgreSQL 15, 2 cores)
 * with `pnpm bench`'s tables: pg_dump -Fc took 50 ms per MB of a narrow table (68 bytes a row) and
 * 28 ms per MB of a table of 4 KB documents, i.e. ~28 ms/MB plus ~1.4 µs a row, ~50 bytes' worth;
 * loading them took ~18 ms/MB plus ~0.2 µs a row, ~12 bytes' worth. Without it the bar crawls
 * through narrow tables and races through wide ones, and the ETA with it.
 */
export const ROW_COST_BYTES = { dump: 50, restore: 12 } as const;

export function tableWeight(table: Pick<TableSize, 'bytes' | 'rows'>, rowCostBytes = 0): number {
  const bytes = Number.isFinite(table.bytes) ? table.bytes : 0;
  const rows = typeof table.rows === 'number' && Number.isFinite(table.rows) && table.rows > 0 ? table.rows : 0;
  return Math.max(bytes + rows * rowCostBytes, MIN_WEIGHT);
}

export function schemaWeight(workWeight: number): number {
  return workWeight > 0 ? (workWeight * SCHEMA_SHARE) / (1 - SCHEMA_SHARE) : MIN_WEIGHT;
}

export function postDataWeights(items: readonly PostDataItem[], dataWeight: number): number[] {
  const unknown = items.filter((item) => item.bytes === null).length;
  const unknownShare = Math.min(UNKNOWN_STEP_SHARE, UNKNOWN_STEPS_MAX_SHARE / Math.max(unknown, 1));
  const unknownWeight = Math.max(dataWeight * unknownShare, MIN_WEIGHT);
  return items.map((item) =>
    item.bytes === null ? unknownWeight : Math.max(item.bytes * POST_DATA_COST_PER_BYTE, MIN_WEIGHT),
  );
}

/**
 * The archive's post-data steps with the bytes each one reads: an index, constraint or matview
 * refresh reads the TABLE / MATERIALIZED VIEW entries it depends on (a foreign key both of its
 * tables). Needs `pg_restore --list --verbose` for the dependencies; without them, or when a
 * relation is missing from `sizes`, the step's cost is unknown (null). `sizes` may include
 * materialized views, which are not table data but are refreshed in post-data.
 */
export function postDataItemsFromToc(entries: readonly TocEntry[], sizes: readonly TableSize[]): PostDataItem[] {
  const byId = new Map(entries.map((entry) => [entry.dumpId, entry]));
  const bytesByName = new Map(sizes.map((s) => [qualifiedName(s.schema, s.name), s.heapBytes ?? s.bytes]));
  return entries
    .filter((entry) => entry.section === 'post-data')
    .map((entry) => ({
      kind: entry.description,
      name: qualifiedName(entry.schema, entry.name),
      bytes: HEAVY_STEPS.has(entry.description) ? bytesRead(entry, byId, bytesByName) : 0,
    }));
}

function bytesRead(
  entry: TocEntry,
  byId: ReadonlyMap<number, TocEntry>,
  bytesByName: ReadonlyMap<string, number>,
): number | null {
  const relations = new Set(
    entry.dependencies
      .map((id) => byId.get(id))
      .filter((dep): dep is TocEntry => dep !== undefined && RELATIONS.has(dep.description))
      .map((dep) => qualifiedName(dep.schema, dep.name)),
  );
  let total = 0;
  for (const relation of relations) {
    const bytes = bytesByName.get(relation);
    if (bytes === undefined) return null;
    total += bytes;
  }
  return relations.size > 0 ? total : null;
}
