import { describe, expect, it } from 'vitest';
import { nextRuns, slotsBetween, validCron, validTimeZone } from '../../../src/modules/schedules/cron.js';
import { dueSlots } from '../../../src/modules/schedules/due-slots.js';

const iso = (dates: Date[]) => dates.map((date) => date.toISOString());
const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

describe('validCron', () => {
  it.each(['*/5 * * * *', '30 2 * * *', '0 3 * * 1-5', '@daily', '@HOURLY', '  0   4 * * 0 '])('takes %s', (cron) => {
    expect(() => validCron(cron, 'UTC')).not.toThrow();
  });

  it('normalises the spacing', () => {
    expect(validCron('  0   4 * * 0 ', 'UTC')).toBe('0 4 * * 0');
  });

  it.each([
    ['61 * * * *', 'a minute out of range'],
    ['* * * *', 'four fields (cron-parser would take them)'],
    ['*/5 * * * * *', 'a seconds field'],
    ['0 0 31 2 *', 'a day that never comes'],
    ['@reboot', 'an alias without slots'],
    ['hello', 'words'],
    ['', 'nothing'],
  ])('refuses %s (%s) with schedule/invalid-cron', (cron) => {
    expect(codeOf(() => validCron(cron, 'UTC'))).toBe('schedule/invalid-cron');
  });

  it.each(['Mars/Base', '+02:00', '', 'Europe/Berlinn'])('refuses the time zone "%s"', (zone) => {
    expect(codeOf(() => validTimeZone(zone))).toBe('schedule/invalid-time-zone');
    expect(codeOf(() => validCron('0 * * * *', zone))).toBe('schedule/invalid-cron');
  });

  it('takes IANA zones', () => {
    expect(validTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(validTimeZone('America/New_York')).toBe('America/New_York');
  });
});

describe('slots in a time zone', () => {
  it('reads the wall clock of the zone', () => {
    expect(iso(nextRuns('0 3 * * *', 'Europe/Berlin', new Date('2026-01-10T12:00:00Z'), 2))).toEqual([
      '2026-01-11T02:00:00.000Z',
      '2026-01-12T02:00:00.000Z',
    ]);
  });

  // Documented in docs/operations.md, "Daylight-saving changes".
  it('runs 02:30 once, at 03:30, on the spring-forward day in Europe/Berlin (02:30 does not exist)', () => {
    expect(iso(nextRuns('30 2 * * *', 'Europe/Berlin', new Date('2026-03-27T12:00:00Z'), 3))).toEqual([
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-29T01:30:00.000Z', // 03:30 CEST: the hour 02:00-03:00 is skipped by the clocks
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('runs 02:30 once, at its first occurrence, on the fall-back day in Europe/Berlin (02:30 happens twice)', () => {
    expect(iso(nextRuns('30 2 * * *', 'Europe/Berlin', new Date('2026-10-23T12:00:00Z'), 3))).toEqual([
      '2026-10-24T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, the first of the two; not again at 02:30 CET
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('keeps the real spacing of interval schedules across the fall-back hour', () => {
    const slots = slotsBetween(
      '*/30 * * * *',
      'Europe/Berlin',
      new Date('2026-10-25T00:00:00Z'),
      new Date('2026-10-25T02:00:00Z'),
    );
    expect(iso(slots)).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:30:00.000Z',
      '2026-10-25T02:00:00.000Z',
    ]);
  });

  it('gives the slots after (exclusive) and up to (inclusive), with a limit', () => {
    const after = new Date('2026-05-01T10:00:00Z');
    const until = new Date('2026-05-01T10:05:00Z');
    expect(slotsBetween('* * * * *', 'UTC', after, until)).toHaveLength(5);
    expect(iso(slotsBetween('* * * * *', 'UTC', after, until, 2))).toEqual([
      '2026-05-01T10:01:00.000Z',
      '2026-05-01T10:02:00.000Z',
    ]);
    expect(slotsBetween('* * * * *', 'UTC', until, after)).toEqual([]);
  });
});

describe('dueSlots', () => {
  const base = { cron: '0 * * * *', timeZone: 'UTC', missedPolicy: 'run-once' as const };
  const at = (time: string) => new Date(`2026-05-01T${time}Z`);

  it('has nothing due before the next slot', () => {
    expect(dueSlots({ ...base, lastSlotAt: at('10:00:00'), now: at('10:59:59') })).toEqual({
      run: null,
      missed: [],
      through: null,
    });
  });

  it('runs an on-time slot under either policy', () => {
    for (const missedPolicy of ['run-once', 'skip'] as const) {
      expect(dueSlots({ ...base, missedPolicy, lastSlotAt: at('10:00:00'), now: at('11:00:05') })).toEqual({
        run: at('11:00:00'),
        missed: [],
        through: at('11:00:00'),
      });
    }
  });

  it('under run-once, runs the newest of the slots missed during an outage and records the older ones missed', () => {
    const due = dueSlots({ ...base, lastSlotAt: at('06:00:00'), now: at('10:20:00') });
    expect(due.run).toEqual(at('10:00:00'));
    expect(iso(due.missed)).toEqual(iso([at('07:00:00'), at('08:00:00'), at('09:00:00')]));
    expect(due.through).toEqual(at('10:00:00'));
  });

  it('under skip, records every late slot missed and runs none', () => {
    const due = dueSlots({ ...base, missedPolicy: 'skip', lastSlotAt: at('06:00:00'), now: at('10:20:00') });
    expect(due.run).toBeNull();
    expect(iso(due.missed)).toEqual(iso([at('07:00:00'), at('08:00:00'), at('09:00:00'), at('10:00:00')]));
    expect(due.through).toEqual(at('10:00:00'));
  });

  it('under skip, still runs the newest slot when it is on time', () => {
    const due = dueSlots({ ...base, missedPolicy: 'skip', lastSlotAt: at('06:00:00'), now: at('10:01:00') });
    expect(due.run).toEqual(at('10:00:00'));
    expect(due.missed).toHaveLength(3);
  });

  it('records a long outage in batches: all missed, then the newest runs', () => {
    const first = dueSlots({ ...base, cron: '* * * * *', lastSlotAt: at('00:00:00'), now: at('10:00:30'), limit: 500 });
    expect(first.run).toBeNull();
    expect(first.missed).toHaveLength(500);
    expect(first.through).toEqual(first.missed.at(-1));
    const second = dueSlots({
      ...base,
      cron: '* * * * *',
      lastSlotAt: first.through!,
      now: at('10:00:30'),
      limit: 500,
    });
    expect(second.run).toEqual(at('10:00:00'));
    expect(second.missed).toHaveLength(99);
  });
});
