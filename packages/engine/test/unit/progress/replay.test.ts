import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/clock.js';
import { ProgressTracker, type ProgressSnapshot } from '../../../src/progress/progress-tracker.js';
import { parseTocList } from '../../../src/progress/toc-list.js';
import {
  parseDumpVerboseLine,
  parseRestoreVerboseLine,
  parseScriptEchoLine,
  type VerboseEvent,
} from '../../../src/progress/verbose-lines.js';
import { postDataItemsFromToc, type PostDataItem } from '../../../src/progress/weights.js';
import { SHOP_MATVIEWS, SHOP_TABLES, fixtureLines, readFixture } from './fixtures.js';

/** A clock that only moves when told to; timers fire when it passes them. */
function fakeClock() {
  let time = 0;
  let timers: { at: number; fn: () => void }[] = [];
  const clock: Clock = {
    now: () => time,
    setTimeout(fn, ms) {
      const timer = { at: time + ms, fn };
      timers.push(timer);
      return { cancel: () => (timers = timers.filter((t) => t !== timer)) };
    },
  };
  const advance = (ms: number) => {
    time += ms;
    for (const timer of timers.filter((t) => t.at <= time)) {
      timers = timers.filter((t) => t !== timer);
      timer.fn();
    }
  };
  return { clock, advance };
}

interface Replay {
  fixture: string;
  parse: (line: string) => VerboseEvent | null;
  postDataItems: number | readonly PostDataItem[];
  parallel?: boolean;
}

/** Feeds a captured output line by line, 20 ms apart, and returns every snapshot delivered. */
function replay({ fixture, parse, postDataItems, parallel }: Replay) {
  const { clock, advance } = fakeClock();
  const emitted: ProgressSnapshot[] = [];
  const tracker = new ProgressTracker({
    tables: SHOP_TABLES,
    postDataItems,
    clock,
    onSnapshot: (s) => emitted.push(s),
    parallel,
  });
  for (const line of fixtureLines(fixture)) {
    const event = parse(line);
    if (event) tracker.handle(event);
    advance(20);
  }
  const beforeFinish = tracker.snapshot();
  tracker.finish();
  return { emitted, beforeFinish };
}

const verboseToc = parseTocList(readFixture('pg_restore-list-verbose.txt')).entries;

const replays: Replay[] = [
  { fixture: 'pg_dump-custom.txt', parse: parseDumpVerboseLine, postDataItems: 0 },
  { fixture: 'pg_dump-directory-j2.txt', parse: parseDumpVerboseLine, postDataItems: 0, parallel: true },
  { fixture: 'pg_dump-plain.txt', parse: parseDumpVerboseLine, postDataItems: 0 },
  { fixture: 'pg_restore-script.txt', parse: parseRestoreVerboseLine, postDataItems: 25 },
  {
    fixture: 'pg_restore-single-transaction.txt',
    parse: parseRestoreVerboseLine,
    postDataItems: postDataItemsFromToc(verboseToc, [...SHOP_TABLES, ...SHOP_MATVIEWS]),
  },
  {
    fixture: 'psql-echo-restore.txt',
    parse: parseScriptEchoLine,
    postDataItems: postDataItemsFromToc(verboseToc, [...SHOP_TABLES, ...SHOP_MATVIEWS]),
  },
];

describe.each(replays)('replaying $fixture through parser and tracker', (options) => {
  const { emitted, beforeFinish } = replay(options);
  const percents = emitted.map((s) => s.percent);

  it('yields monotone percentages ending at exactly 100', () => {
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)).toBe(100);
    expect(percents.filter((p) => p === 100)).toHaveLength(1);
    expect(emitted.at(-1)).toMatchObject({ phase: 'done', tablesDone: 8, tablesTotal: 8 });
  });

  it('matches every table of the output to the size list', () => {
    // An unmatched name would have been added as an extra table.
    expect(beforeFinish.tablesTotal).toBe(SHOP_TABLES.length);
    expect(beforeFinish.percent).toBeGreaterThan(50);
    expect(beforeFinish.percent).toBeLessThanOrEqual(99.9);
  });

  it('stays within about ten snapshots a second', () => {
    const times = emitted.slice(0, -1).map((s) => Date.parse(s.updatedAt));
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
  });
});

describe('replays in detail', () => {
  it('a custom-format dump: every table done once large objects start', () => {
    const { beforeFinish } = replay(replays[0] as Replay);
    expect(beforeFinish).toMatchObject({ phase: 'data', tablesDone: 8, currentTable: null });
  });

  it('a parallel dump: the last table runs until its "finished item"', () => {
    const lines = fixtureLines('pg_dump-directory-j2.txt');
    const { clock } = fakeClock();
    const tracker = new ProgressTracker({
      tables: SHOP_TABLES,
      postDataItems: 0,
      clock,
      onSnapshot: () => {},
      parallel: true,
    });
    for (const line of lines.slice(0, -1)) {
      const event = parseDumpVerboseLine(line);
      if (event) tracker.handle(event);
    }
    // app.orders started first and finishes last.
    expect(tracker.snapshot()).toMatchObject({ tablesDone: 7, currentTable: 'app.orders' });
  });

  it('a restore echoed by psql: post-data steps move the bar by their cost', () => {
    const { emitted } = replay(replays[5] as Replay);
    const postData = emitted.filter((s) => s.phase === 'post-data').map((s) => s.percent);
    expect(postData.length).toBeGreaterThan(1);
    expect((postData.at(-1) ?? 0) - (postData[0] ?? 0)).toBeGreaterThan(10);
  });
});
