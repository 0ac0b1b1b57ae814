import { readFileSync } from 'node:fs';
import type { TableSize } from '../../../src/pg/catalog.js';

export function readFixture(name: string): string {
  return readFileSync(new URL(`../../fixtures/verbose/${name}`, import.meta.url), 'utf8');
}

export function fixtureLines(name: string): string[] {
  return readFixture(name)
    .split('\n')
    .filter((line) => line !== '');
}

/** pg_table_size of the captured database's tables with data (relkind 'r'), read from the server. */
export const SHOP_TABLES: TableSize[] = [
  { schema: 'MixedCase', name: 'Child', bytes: 16384 },
  { schema: 'MixedCase', name: 'Weird "Table"', bytes: 16384 },
  { schema: 'app', name: 'empty_table', bytes: 0 },
  { schema: 'app', name: 'events_2024', bytes: 614400 },
  { schema: 'app', name: 'events_2025', bytes: 409600 },
  { schema: 'app', name: 'orders', bytes: 1253376 },
  { schema: 'dot.schema', name: 'a.b', bytes: 8192 },
  { schema: 'public', name: 'customers', bytes: 147456 },
];

/** The materialized view, refreshed in post-data. */
export const SHOP_MATVIEWS: TableSize[] = [{ schema: 'app', name: 'order_totals', bytes: 147456 }];

export const SHOP_QUALIFIED = SHOP_TABLES.map((t) => `${t.schema}.${t.name}`);
