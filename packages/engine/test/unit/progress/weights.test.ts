import { describe, expect, it } from 'vitest';
import { parseTocList } from '../../../src/progress/toc-list.js';
import {
  MIN_WEIGHT,
  POST_DATA_COST_PER_BYTE,
  UNKNOWN_STEPS_MAX_SHARE,
  UNKNOWN_STEP_SHARE,
  postDataItemsFromToc,
  postDataWeights,
  tableWeight,
} from '../../../src/progress/weights.js';
import { SHOP_MATVIEWS, SHOP_TABLES, readFixture } from './fixtures.js';

const bytesOf = (schema: string, name: string) =>
  [...SHOP_TABLES, ...SHOP_MATVIEWS].find((t) => t.schema === schema && t.name === name)?.bytes ?? NaN;

describe('postDataItemsFromToc', () => {
  const verbose = parseTocList(readFixture('pg_restore-list-verbose.txt')).entries;
  const items = postDataItemsFromToc(verbose, [...SHOP_TABLES, ...SHOP_MATVIEWS]);
  const item = (kind: string, name: string) => items.find((i) => i.kind === kind && i.name === name);

  it('gives index builds, constraints and refreshes the bytes of the relations they read', () => {
    expect(items).toHaveLength(25);
    expect(item('INDEX', 'app.orders_customer_idx')?.bytes).toBe(bytesOf('app', 'orders'));
    expect(item('INDEX', 'app.events_2024_happened_at_idx')?.bytes).toBe(bytesOf('app', 'events_2024'));
    expect(item('CONSTRAINT', 'MixedCase.Weird "Table" Weird "Table"_pkey')?.bytes).toBe(
      bytesOf('MixedCase', 'Weird "Table"'),
    );
    // A foreign key check reads both tables.
    expect(item('FK CONSTRAINT', 'app.orders orders_customer_id_fkey')?.bytes).toBe(
      bytesOf('app', 'orders') + bytesOf('public', 'customers'),
    );
    expect(item('MATERIALIZED VIEW DATA', 'app.order_totals')?.bytes).toBe(bytesOf('app', 'order_totals'));
  });

  it('counts only the main fork of a table when it is known: an index build does not read TOAST', () => {
    const withHeap = [...SHOP_TABLES, ...SHOP_MATVIEWS].map((t) =>
      t.name === 'orders' ? { ...t, heapBytes: 4096 } : t,
    );
    const heapItems = postDataItemsFromToc(verbose, withHeap);
    expect(heapItems.find((i) => i.kind === 'INDEX' && i.name === 'app.orders_customer_idx')?.bytes).toBe(4096);
  });

  it('gives catalog-only steps no bytes', () => {
    expect(item('TRIGGER', 'app.orders orders_touch')?.bytes).toBe(0);
    expect(item('INDEX ATTACH', 'app.events_2024_pkey')?.bytes).toBe(0);
    expect(item('ACL', 'SCHEMA app')?.bytes).toBe(0);
  });

  it('does not know the cost without dependencies (a list without --verbose) or sizes', () => {
    const plain = parseTocList(readFixture('pg_restore-list.txt')).entries;
    expect(postDataItemsFromToc(plain, SHOP_TABLES).find((i) => i.kind === 'INDEX')?.bytes).toBeNull();
    expect(postDataItemsFromToc(verbose, []).find((i) => i.kind === 'INDEX')?.bytes).toBeNull();
  });
});

describe('tableWeight', () => {
  it('adds the per-row cost when the row count is known, never below the minimum', () => {
    expect(tableWeight({ bytes: 10_000_000, rows: 100_000 }, 50)).toBe(15_000_000);
    expect(tableWeight({ bytes: 10_000_000, rows: null }, 50)).toBe(10_000_000);
    expect(tableWeight({ bytes: 10_000_000 })).toBe(10_000_000);
    expect(tableWeight({ bytes: 0, rows: 0 }, 50)).toBe(MIN_WEIGHT);
  });
});

describe('postDataWeights', () => {
  it('weighs known steps by the bytes they read, never below the minimum', () => {
    const weights = postDataWeights(
      [
        { kind: 'INDEX', name: 'a', bytes: 100 * 2 ** 20 },
        { kind: 'TRIGGER', name: 'b', bytes: 0 },
      ],
      1e9,
    );
    expect(weights).toEqual([100 * 2 ** 20 * POST_DATA_COST_PER_BYTE, MIN_WEIGHT]);
  });

  it('gives unknown steps a share of the data, bounded in total', () => {
    const unknown = (n: number) => Array.from({ length: n }, () => ({ kind: 'INDEX', name: 'x', bytes: null }));
    expect(postDataWeights(unknown(3), 1e9)).toEqual(Array(3).fill(1e9 * UNKNOWN_STEP_SHARE));
    const many = postDataWeights(unknown(1000), 1e9);
    expect(many.reduce((a, b) => a + b, 0)).toBeCloseTo(1e9 * UNKNOWN_STEPS_MAX_SHARE);
  });
});
