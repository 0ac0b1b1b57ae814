import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import {
  ProgressTracker,
  type ProgressSnapshot,
  type ProgressTrackerOptions,
} from '../../../src/progress/progress-tracker.js';
import type { VerboseEvent } from '../../../src/progress/verbose-lines.js';
import { SCHEMA_SHARE } from '../../../src/progress/weights.js';

/** Time moves only when the test says so; timers fire in order while it does. */
class FakeClock implements Clock {
  time = 1_700_000_000_000;
  private timers: { at: number; fn: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const timer = { at: this.time + ms, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const next = this.timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = next.at;
      next.fn();
    }
    this.time = end;
  }

  pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }
}

const MB = 2 ** 20;

function setup(options: Partial<ProgressTrackerOptions> = {}) {
  const clock = new FakeClock();
  const emitted: ProgressSnapshot[] = [];
  const tracker = new ProgressTracker({
    tables: [],
    postDataItems: 0,
    clock,
    onSnapshot: (s) => emitted.push(s),
    minIntervalMs: 100,
    ...options,
  });
  return { clock, emitted, tracker };
}

const table = (qualified: string): VerboseEvent => {
  const [schema = '', name = ''] = qualified.split('.');
  return { type: 'table-data', schema, table: name, qualified };
};

describe('ProgressTracker', () => {
  it('starts at 0 and emits nothing until something happens', () => {
    const { tracker, emitted } = setup({ tables: [{ schema: 'public', name: 't', bytes: MB }] });
    expect(emitted).toEqual([]);
    expect(tracker.snapshot()).toMatchObject({
      phase: 'starting',
      percent: 0,
      currentTable: null,
      tablesDone: 0,
      tablesTotal: 1,
      etaSeconds: null,
    });
  });

  it('weighs tables by their bytes: a table with 90% of the bytes moves the bar ~90%', () => {
    const { tracker, clock } = setup({
      tables: [
        { schema: 'public', name: 'big', bytes: 900 * MB },
        { schema: 'public', name: 'small', bytes: 100 * MB },
      ],
    });
    tracker.handle(table('public.big'));
    expect(tracker.snapshot().percent).toBe(SCHEMA_SHARE * 100);
    clock.advance(1000);
    tracker.handle(table('public.small')); // big is done
    const { percent, tablesDone, currentTable, phase } = tracker.snapshot();
    expect(percent).toBeCloseTo(SCHEMA_SHARE * 100 + (1 - SCHEMA_SHARE) * 90, 0);
    expect({ tablesDone, currentTable, phase }).toEqual({ tablesDone: 1, currentTable: 'public.small', phase: 'data' });
  });

  it('moves for a thousand empty tables', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `t${i}`);
    const { tracker } = setup({
      tables: [...names.map((name) => ({ schema: 's', name, bytes: 0 })), { schema: 's', name: 'big', bytes: 10 * MB }],
    });
    names.slice(0, 501).forEach((name) => tracker.handle(table(`s.${name}`)));
    const { percent, tablesDone } = tracker.snapshot();
    expect(tablesDone).toBe(500);
    expect(percent).toBeGreaterThan(40);
    expect(percent).toBeLessThan(60);
  });

  it('counts a table missing from the size list with the minimum weight', () => {
    const { tracker } = setup({ tables: [{ schema: 'public', name: 't', bytes: 100 * MB }] });
    tracker.handle(table('public.new_table'));
    tracker.handle(table('public.t'));
    const { percent, tablesDone, tablesTotal } = tracker.snapshot();
    expect({ tablesDone, tablesTotal }).toEqual({ tablesDone: 1, tablesTotal: 2 });
    expect(percent).toBeLessThan(SCHEMA_SHARE * 100 + 1);
  });

  it('advances inside the current table with setCurrentTableFraction, never backwards', () => {
    const { tracker } = setup({ tables: [{ schema: 'public', name: 't', bytes: 100 * MB }] });
    tracker.handle(table('public.t'));
    tracker.setCurrentTableFraction(0.5);
    const half = tracker.snapshot().percent;
    expect(half).toBeCloseTo(SCHEMA_SHARE * 100 + (1 - SCHEMA_SHARE) * 50, 0);
    tracker.setCurrentTableFraction(0.2);
    expect(tracker.snapshot().percent).toBe(half);
    tracker.setCurrentTableFraction(7);
    expect(tracker.snapshot().percent).toBe(99.9);
  });

  it('never reaches 100 before finish(), and reaches exactly 100 then', () => {
    const { tracker, emitted, clock } = setup({ tables: [{ schema: 'public', name: 't', bytes: MB }] });
    tracker.handle(table('public.t'));
    tracker.handle({ type: 'large-objects-started' });
    tracker.handle({ type: 'large-objects-done', count: 3 });
    clock.advance(500);
    expect(tracker.snapshot().percent).toBe(99.9);
    tracker.finish();
    expect(emitted.at(-1)).toMatchObject({ phase: 'done', percent: 100, tablesDone: 1, etaSeconds: 0 });
    expect(emitted.filter((s) => s.percent === 100)).toHaveLength(1);
    tracker.finish();
    tracker.handle(table('public.u'));
    expect(emitted.filter((s) => s.percent === 100)).toHaveLength(1);
  });

  it('walks the phases: catalog, data, post-data, finishing, done', () => {
    const { tracker } = setup({ tables: [{ schema: 'app', name: 'orders', bytes: MB }], postDataItems: 2 });
    const phases = [tracker.snapshot().phase];
    const step = (event: VerboseEvent) => {
      tracker.handle(event);
      phases.push(tracker.snapshot().phase);
    };
    step({ type: 'catalog', message: 'reading schemas' });
    step({ type: 'object', kind: 'TABLE', name: 'app.orders' });
    step(table('app.orders'));
    step({ type: 'executing', kind: 'SEQUENCE SET', tag: 'orders_id_seq' });
    step({ type: 'object', kind: 'CONSTRAINT', name: 'app.orders orders_pkey' });
    step({ type: 'object', kind: 'INDEX', name: 'app.orders_idx' });
    tracker.beginFinishing();
    phases.push(tracker.snapshot().phase);
    tracker.finish();
    phases.push(tracker.snapshot().phase);
    expect([...new Set(phases)]).toEqual(['starting', 'schema', 'data', 'post-data', 'finishing', 'done']);
  });

  it('gives post-data steps their share: an index on a big table weighs more than a trigger', () => {
    const { tracker } = setup({
      tables: [{ schema: 'app', name: 'orders', bytes: 100 * MB }],
      postDataItems: [
        { kind: 'INDEX', name: 'app.orders_idx', bytes: 100 * MB },
        { kind: 'TRIGGER', name: 'app.orders touch', bytes: 0 },
      ],
    });
    tracker.handle(table('app.orders'));
    tracker.handle({ type: 'object', kind: 'INDEX', name: 'app.orders_idx' });
    const dataDone = tracker.snapshot().percent;
    tracker.handle({ type: 'object', kind: 'TRIGGER', name: 'app.orders touch' });
    const indexDone = tracker.snapshot().percent;
    expect(dataDone).toBeGreaterThan(60);
    expect(dataDone).toBeLessThan(75);
    expect(indexDone).toBe(99.9); // the trigger (last step) only ends with the job
    expect(indexDone - dataDone).toBeGreaterThan(20);
  });

  it('advances per post-data step when only their count is known', () => {
    const { tracker } = setup({ tables: [{ schema: 'app', name: 'orders', bytes: 100 * MB }], postDataItems: 4 });
    tracker.handle(table('app.orders'));
    const seen = [tracker.snapshot().percent];
    for (const name of ['a', 'b', 'c', 'd']) {
      tracker.handle({ type: 'object', kind: 'INDEX', name: `app.${name}` });
      seen.push(tracker.snapshot().percent);
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.at(-1)).toBeLessThan(99.9);
  });

  it('in parallel mode, ends a table on its "finished item" line, not when the next one starts', () => {
    const { tracker } = setup({
      parallel: true,
      tables: [
        { schema: 'app', name: 'orders', bytes: 100 * MB },
        { schema: 'app', name: 'events', bytes: 100 * MB },
      ],
    });
    tracker.handle(table('app.orders'));
    tracker.handle(table('app.events'));
    expect(tracker.snapshot()).toMatchObject({ tablesDone: 0, currentTable: 'app.events' });
    tracker.handle({ type: 'item-finished', dumpId: 12, kind: 'TABLE DATA', tag: 'events' });
    expect(tracker.snapshot()).toMatchObject({ tablesDone: 1, currentTable: 'app.orders' });
    tracker.handle({ type: 'item-finished', dumpId: 11, kind: 'TABLE DATA', tag: 'orders' });
    expect(tracker.snapshot()).toMatchObject({ tablesDone: 2, currentTable: null, percent: 99.9 });
  });

  describe('throttling', () => {
    it('emits at most once per interval and delivers the last state afterwards', () => {
      const { tracker, emitted, clock } = setup({ tables: [{ schema: 'public', name: 't', bytes: MB }] });
      tracker.handle(table('public.t'));
      for (let bytes = 1; bytes <= 50; bytes += 1) tracker.setBytes(bytes);
      expect(emitted).toHaveLength(1);
      clock.advance(99);
      expect(emitted).toHaveLength(1);
      clock.advance(1);
      expect(emitted).toHaveLength(2);
      expect(emitted[1]?.bytes).toBe(50);
      clock.advance(1000);
      expect(emitted).toHaveLength(2);
      expect(clock.pending()).toBe(0);
    });

    it('sends about ten snapshots a second under a steady stream of updates', () => {
      const { tracker, emitted, clock } = setup();
      for (let ms = 0; ms < 1000; ms += 5) {
        tracker.setBytes(ms);
        clock.advance(5);
      }
      expect(emitted.length).toBeGreaterThanOrEqual(9);
      expect(emitted.length).toBeLessThanOrEqual(11);
      const gaps = emitted.slice(1).map((s, i) => Date.parse(s.updatedAt) - Date.parse(emitted[i]?.updatedAt ?? ''));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
      expect(emitted.at(-1)?.bytes).toBe(995);
    });

    it('does not emit when nothing visible changed', () => {
      const { tracker, emitted, clock } = setup();
      tracker.setBytes(10);
      clock.advance(200);
      tracker.setBytes(10);
      tracker.handle({ type: 'warning', message: 'something' });
      clock.advance(200);
      expect(emitted).toHaveLength(1);
    });

    it('emits finish() at once even inside the interval, and drops the pending trailing snapshot', () => {
      const { tracker, emitted, clock } = setup();
      tracker.setBytes(1);
      tracker.setBytes(2);
      tracker.finish();
      expect(emitted.map((s) => [s.bytes, s.percent])).toEqual([
        [1, 0],
        [2, 100],
      ]);
      clock.advance(1000);
      expect(emitted).toHaveLength(2);
    });

    it('dispose() drops the pending trailing snapshot', () => {
      const { tracker, emitted, clock } = setup();
      tracker.setBytes(1);
      tracker.setBytes(2);
      tracker.dispose();
      clock.advance(1000);
      tracker.setBytes(3);
      tracker.finish();
      expect(emitted.map((s) => s.bytes)).toEqual([1]);
    });
  });

  describe('ETA', () => {
    it('is null before 1 s or 1%, then elapsed * (100 - p) / p', () => {
      const { tracker, clock } = setup({
        tables: [
          { schema: 'public', name: 'a', bytes: 50 * MB },
          { schema: 'public', name: 'b', bytes: 50 * MB },
        ],
      });
      tracker.handle(table('public.a'));
      tracker.handle(table('public.b'));
      expect(tracker.snapshot().etaSeconds).toBeNull(); // no time has passed
      clock.advance(10_000);
      const { percent, etaSeconds } = tracker.snapshot();
      expect(percent).toBeCloseTo(51.5, 0);
      expect(etaSeconds).toBe(Math.round((10 * (100 - percent)) / percent));
    });

    it('is null below 1%', () => {
      const { tracker, clock } = setup({ tables: [{ schema: 'public', name: 'a', bytes: 50 * MB }] });
      tracker.handle({ type: 'catalog', message: 'reading schemas' });
      clock.advance(5000);
      expect(tracker.snapshot().percent).toBeLessThan(1);
      expect(tracker.snapshot().etaSeconds).toBeNull();
    });
  });

  it('is monotone whatever the order of events', () => {
    const { tracker, emitted, clock } = setup({
      tables: [
        { schema: 'a', name: 'x', bytes: 5 * MB },
        { schema: 'a', name: 'y', bytes: 1 * MB },
      ],
      postDataItems: 3,
      minIntervalMs: 0,
    });
    const script: VerboseEvent[] = [
      table('a.x'),
      { type: 'object', kind: 'INDEX', name: 'a.i1' },
      { type: 'catalog', message: 'reading indexes' }, // late catalog line: ignored
      table('a.y'),
      table('a.unknown'), // grows the total
      { type: 'object', kind: 'INDEX', name: 'a.i2' },
      { type: 'object', kind: 'INDEX', name: 'a.i3' },
      { type: 'object', kind: 'INDEX', name: 'a.i4' }, // more steps than announced
      table('a.x'),
    ];
    for (const event of script) {
      tracker.handle(event);
      tracker.setCurrentTableFraction(0.5);
      clock.advance(10);
    }
    tracker.finish();
    const percents = emitted.map((s) => s.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.filter((p) => p === 100)).toHaveLength(1);
    expect(percents.at(-1)).toBe(100);
  });
});
