import { describe, expect, it } from 'vitest';
import { periodOf } from '../../../src/modules/retention/periods.js';
import {
  type RetentionBackup,
  type RetentionRules,
  describeRules,
  planRetention,
} from '../../../src/modules/retention/plan-retention.js';

const NONE: RetentionRules = {
  keepLast: null,
  keepHourly: null,
  keepDaily: null,
  keepWeekly: null,
  keepMonthly: null,
  keepYearly: null,
  keepWithinDays: null,
  snapshotKeepDays: 7,
  uploadKeepDays: 7,
};

let counter = 0;
function backup(createdAt: string, extra: Partial<RetentionBackup> = {}): RetentionBackup {
  counter++;
  return {
    id: extra.id ?? `b${String(counter).padStart(3, '0')}`,
    createdAt: new Date(createdAt),
    origin: 'scheduled',
    pinned: false,
    verifyStatus: null,
    sizeBytes: 100,
    ...extra,
  };
}

function plan(
  backups: RetentionBackup[],
  rules: Partial<RetentionRules>,
  timeZone = 'UTC',
  now = '2026-12-31T23:00:00Z',
) {
  return planRetention({ backups, rules: { ...NONE, ...rules }, timeZone, now: new Date(now) });
}

const kept = (decisions: ReturnType<typeof plan>) =>
  decisions
    .filter((d) => d.action === 'keep')
    .map((d) => d.backup.createdAt.toISOString())
    .sort();

describe('periodOf', () => {
  it.each([
    // [instant, unit, zone, period]
    ['2026-03-29T00:59:00Z', 'hourly', 'Europe/Berlin', '2026-03-29T01'],
    ['2026-03-29T01:00:00Z', 'hourly', 'Europe/Berlin', '2026-03-29T03'], // spring forward: 02 never happens
    ['2026-10-25T00:30:00Z', 'hourly', 'Europe/Berlin', '2026-10-25T02'],
    ['2026-10-25T01:30:00Z', 'hourly', 'Europe/Berlin', '2026-10-25T02'], // fall back: the repeated hour is one period
    ['2026-05-31T22:30:00Z', 'daily', 'Europe/Berlin', '2026-06-01'],
    ['2026-05-31T22:30:00Z', 'daily', 'UTC', '2026-05-31'],
    ['2026-06-01T03:00:00Z', 'daily', 'America/New_York', '2026-05-31'],
    ['2026-12-31T23:30:00Z', 'yearly', 'Europe/Berlin', '2027'],
    ['2026-12-31T23:30:00Z', 'monthly', 'UTC', '2026-12'],
    ['2027-01-01T12:00:00Z', 'weekly', 'UTC', '2026-W53'], // a Friday in the last ISO week of 2026
    ['2027-01-04T12:00:00Z', 'weekly', 'UTC', '2027-W01'], // Monday: a new week
    ['2027-01-03T23:30:00Z', 'weekly', 'UTC', '2026-W53'], // Sunday night, UTC
    ['2027-01-03T23:30:00Z', 'weekly', 'Europe/Berlin', '2027-W01'], // already Monday in Berlin
    ['2025-12-29T00:00:00Z', 'weekly', 'UTC', '2026-W01'], // a Monday of December in week 1 of the next year
  ] as const)('%s %s in %s is %s', (instant, unit, zone, period) => {
    expect(periodOf(new Date(instant), unit, zone)).toBe(period);
  });
});

describe('planRetention', () => {
  it('keeps everything when no count rule is set', () => {
    const backups = [backup('2026-01-01T00:00:00Z'), backup('2026-01-02T00:00:00Z', { origin: 'manual' })];
    expect(plan(backups, {}).every((d) => d.action === 'keep')).toBe(true);
  });

  it('keep-last keeps the newest N', () => {
    const backups = ['01', '02', '03', '04', '05'].map((day) => backup(`2026-01-${day}T00:00:00Z`));
    const decisions = plan(backups, { keepLast: 2 });
    expect(kept(decisions)).toEqual(['2026-01-04T00:00:00.000Z', '2026-01-05T00:00:00.000Z']);
    const deleted = decisions.filter((d) => d.action === 'delete');
    expect(deleted).toHaveLength(3);
    expect(deleted.every((d) => d.action === 'delete' && d.rule === 'keep-last 2')).toBe(true);
  });

  it('keep-daily keeps the newest of each day until it has N days; days without a backup do not count', () => {
    const backups = [
      backup('2026-01-01T08:00:00Z'),
      backup('2026-01-01T20:00:00Z'),
      // 2 Jan: none
      backup('2026-01-03T06:00:00Z'),
      backup('2026-01-03T07:00:00Z'),
      backup('2026-01-04T09:00:00Z'),
    ];
    expect(kept(plan(backups, { keepDaily: 3 }))).toEqual([
      '2026-01-01T20:00:00.000Z',
      '2026-01-03T07:00:00.000Z',
      '2026-01-04T09:00:00.000Z',
    ]);
  });

  it('counts days in the time zone', () => {
    // 22:30 UTC on 31 May is 1 June in Berlin: the two are the same Berlin day.
    const backups = [backup('2026-05-31T22:30:00Z'), backup('2026-06-01T05:00:00Z'), backup('2026-05-31T12:00:00Z')];
    expect(kept(plan(backups, { keepDaily: 2 }, 'Europe/Berlin'))).toEqual([
      '2026-05-31T12:00:00.000Z',
      '2026-06-01T05:00:00.000Z',
    ]);
    expect(kept(plan(backups, { keepDaily: 2 }, 'UTC'))).toEqual([
      '2026-05-31T22:30:00.000Z',
      '2026-06-01T05:00:00.000Z',
    ]);
  });

  it('keep-hourly on the fall-back day counts the repeated hour once', () => {
    const backups = [
      backup('2026-10-25T00:15:00Z'), // 02:15 CEST
      backup('2026-10-25T01:15:00Z'), // 02:15 CET: same wall-clock hour
      backup('2026-10-25T02:15:00Z'), // 03:15 CET
    ];
    expect(kept(plan(backups, { keepHourly: 3 }, 'Europe/Berlin'))).toEqual([
      '2026-10-25T01:15:00.000Z',
      '2026-10-25T02:15:00.000Z',
    ]);
    expect(kept(plan(backups, { keepHourly: 3 }, 'UTC'))).toHaveLength(3);
  });

  it('keep-weekly uses ISO weeks starting Monday, across a year boundary', () => {
    const backups = [
      backup('2026-12-28T10:00:00Z'), // Mon, 2026-W53
      backup('2027-01-03T10:00:00Z'), // Sun, 2026-W53 (newest of that week)
      backup('2027-01-04T10:00:00Z'), // Mon, 2027-W01
      backup('2026-12-27T10:00:00Z'), // Sun, 2026-W52
      backup('2026-12-20T10:00:00Z'), // Sun, 2026-W51
    ];
    expect(kept(plan(backups, { keepWeekly: 3 }, 'UTC', '2027-01-05T00:00:00Z'))).toEqual([
      '2026-12-27T10:00:00.000Z',
      '2027-01-03T10:00:00.000Z',
      '2027-01-04T10:00:00.000Z',
    ]);
  });

  it('monthly and yearly, and a backup kept by any rule is kept', () => {
    const backups = [
      backup('2024-06-01T00:00:00Z'),
      backup('2025-03-01T00:00:00Z'),
      backup('2025-12-15T00:00:00Z'),
      backup('2026-01-10T00:00:00Z'),
      backup('2026-01-20T00:00:00Z'),
      backup('2026-02-01T00:00:00Z'),
    ];
    const decisions = plan(backups, { keepMonthly: 2, keepYearly: 3 });
    expect(kept(decisions)).toEqual([
      '2024-06-01T00:00:00.000Z', // yearly 2024
      '2025-12-15T00:00:00.000Z', // yearly 2025
      '2026-01-20T00:00:00.000Z', // monthly 2026-01
      '2026-02-01T00:00:00.000Z', // monthly 2026-02, yearly 2026, newest
    ]);
    const newest = decisions.find((d) => d.backup.createdAt.toISOString() === '2026-02-01T00:00:00.000Z')!;
    expect(newest.action === 'keep' && newest.reasons).toEqual(['newest successful', 'monthly 2026-02', 'yearly 2026']);
    const deleted = decisions.find((d) => d.action === 'delete');
    expect(deleted?.action === 'delete' && deleted.rule).toBe('keep-monthly 2, keep-yearly 3');
  });

  it('counts scheduled and manual backups alike', () => {
    const backups = [backup('2026-01-01T00:00:00Z', { origin: 'manual' }), backup('2026-01-02T00:00:00Z')];
    expect(kept(plan(backups, { keepLast: 1 }))).toEqual(['2026-01-02T00:00:00.000Z']);
    const manualNewer = [backup('2026-01-01T00:00:00Z'), backup('2026-01-02T00:00:00Z', { origin: 'manual' })];
    expect(kept(plan(manualNewer, { keepLast: 1 }))).toEqual(['2026-01-02T00:00:00.000Z']);
  });

  it('keeps pinned backups forever, whatever the rules', () => {
    const backups = [backup('2020-01-01T00:00:00Z', { pinned: true }), backup('2026-01-01T00:00:00Z')];
    const decisions = plan(backups, { keepLast: 0 });
    expect(kept(decisions)).toEqual(['2020-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
  });

  it('keep-within-days keeps every successful backup younger than N days, however many', () => {
    const backups = [
      backup('2026-12-31T01:00:00Z'),
      backup('2026-12-30T01:00:00Z'),
      backup('2026-12-25T00:00:00Z'),
      backup('2026-12-24T22:00:00Z'),
      backup('2026-11-01T00:00:00Z'),
      backup('2026-12-29T00:00:00Z', { verifyStatus: 'failed' }),
    ];
    const decisions = plan(backups, { keepWithinDays: 7 });
    expect(kept(decisions)).toEqual([
      '2026-12-25T00:00:00.000Z',
      '2026-12-30T01:00:00.000Z',
      '2026-12-31T01:00:00.000Z',
    ]);
    expect(decisions.find((d) => d.action === 'delete')).toMatchObject({ rule: 'keep-within-days 7' });
    expect(decisions.find((d) => d.backup.createdAt.toISOString() === '2026-12-25T00:00:00.000Z')).toMatchObject({
      reasons: ['within 7 days'],
    });
  });

  it('always keeps the newest successful backup, even with keep-last 0', () => {
    const backups = [backup('2026-01-01T00:00:00Z'), backup('2026-01-02T00:00:00Z')];
    const decisions = plan(backups, { keepLast: 0 });
    expect(kept(decisions)).toEqual(['2026-01-02T00:00:00.000Z']);
  });

  it('does not count a backup whose verification failed: its day does not hold a successful backup', () => {
    const backups = [
      backup('2026-01-01T00:00:00Z'),
      backup('2026-01-02T00:00:00Z'),
      backup('2026-01-03T00:00:00Z', { verifyStatus: 'failed' }),
    ];
    const decisions = plan(backups, { keepDaily: 2 });
    expect(kept(decisions)).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z']);
    const newestKept = decisions.find((d) => d.backup.createdAt.toISOString() === '2026-01-02T00:00:00.000Z')!;
    expect(newestKept.action === 'keep' && newestKept.reasons).toContain('newest successful');
  });

  it('gives safety snapshots and uploads their own age rule, outside the count rules', () => {
    const now = '2026-06-10T00:00:00Z';
    const backups = [
      backup('2026-06-09T00:00:00Z', { origin: 'pre-restore-snapshot' }),
      backup('2026-06-01T00:00:00Z', { origin: 'pre-restore-snapshot' }),
      backup('2026-06-05T00:00:00Z', { origin: 'upload' }),
      backup('2026-05-01T00:00:00Z', { origin: 'upload' }),
      backup('2026-06-08T00:00:00Z'),
    ];
    const decisions = plan(backups, { keepLast: 1, uploadKeepDays: 30 }, 'UTC', now);
    expect(
      decisions.map((d) => [
        d.backup.origin,
        d.backup.createdAt.toISOString().slice(0, 10),
        d.action === 'delete' ? d.rule : 'keep',
      ]),
    ).toEqual([
      ['pre-restore-snapshot', '2026-06-09', 'keep'],
      ['scheduled', '2026-06-08', 'keep'],
      ['upload', '2026-06-05', 'keep'],
      ['pre-restore-snapshot', '2026-06-01', 'snapshot-keep-days 7'],
      ['upload', '2026-05-01', 'upload-keep-days 30'],
    ]);
  });

  it('keeps snapshots and uploads when their rule is unset, and counts none of them as the newest', () => {
    const backups = [
      backup('2020-01-01T00:00:00Z', { origin: 'upload' }),
      backup('2026-01-01T00:00:00Z', { origin: 'pre-restore-snapshot' }),
    ];
    const decisions = plan(backups, { keepLast: 1, snapshotKeepDays: null, uploadKeepDays: null });
    expect(decisions.every((d) => d.action === 'keep')).toBe(true);
    expect(decisions.flatMap((d) => (d.action === 'keep' ? d.reasons : []))).not.toContain('newest successful');
  });

  it('gives the worked example of docs/operations.md', () => {
    // Daily at 02:30 Europe/Berlin (01:30 UTC in winter) from 1 to 20 January 2027, and a manual one at 15:00 on the 20th.
    const daily = Array.from({ length: 20 }, (_, i) => backup(`2027-01-${String(i + 1).padStart(2, '0')}T01:30:00Z`));
    const manual = backup('2027-01-20T14:00:00Z', { origin: 'manual' });
    const decisions = plan(
      [...daily, manual],
      { keepLast: 2, keepDaily: 3, keepWeekly: 2 },
      'Europe/Berlin',
      '2027-01-20T16:00:00Z',
    );
    expect(kept(decisions)).toEqual([
      '2027-01-17T01:30:00.000Z',
      '2027-01-18T01:30:00.000Z',
      '2027-01-19T01:30:00.000Z',
      '2027-01-20T01:30:00.000Z',
      '2027-01-20T14:00:00.000Z',
    ]);
    const rules = new Set(decisions.flatMap((d) => (d.action === 'delete' ? [d.rule] : [])));
    expect([...rules]).toEqual(['keep-last 2, keep-daily 3, keep-weekly 2']);
  });

  it('describes its rules as the CLI spells them', () => {
    expect(describeRules({ ...NONE, keepLast: 3, keepDaily: 7, keepYearly: 0 })).toBe(
      'keep-last 3, keep-daily 7, keep-yearly 0',
    );
  });
});
