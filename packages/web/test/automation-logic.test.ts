import { describe, expect, it } from 'vitest';
import { sparklinePoints, trendSummary } from '@/features/dashboard/sparkline';
import { formFromPolicy, keepsEverything, policyInput } from '@/features/retention/policy-form';
import { formatInZone, runOutcomeLabel, timeZoneChoices } from '@/features/schedules/time-zones';
import {
  addTargetInput,
  databaseList,
  targetOptionsInput,
  testFacts,
  urlProblem,
} from '@/features/targets/target-form';

const points = (text: string) => text.split(' ').map((pair) => pair.split(',').map(Number));

describe('sparkline', () => {
  it('puts the smallest size at the bottom, the largest at the top, oldest left', () => {
    expect(points(sparklinePoints([100, 300, 200], 100, 20, 2))).toEqual([
      [2, 18],
      [50, 2],
      [98, 10],
    ]);
  });

  it('draws a flat series and a single backup across the middle, and nothing without backups', () => {
    expect(points(sparklinePoints([5, 5, 5], 100, 20, 2)).map(([, y]) => y)).toEqual([10, 10, 10]);
    expect(points(sparklinePoints([42], 100, 20, 2))).toEqual([
      [2, 10],
      [98, 10],
    ]);
    expect(sparklinePoints([], 100, 20)).toBe('');
  });

  it('tells the trend in words', () => {
    const bytes = (n: number) => `${n} B`;
    expect(trendSummary([], bytes)).toBe('No backups yet');
    expect(trendSummary([7], bytes)).toBe('One backup of 7 B');
    expect(trendSummary([1, 3], bytes)).toBe('Over the last 2 backups the size grew from 1 B to 3 B');
    expect(trendSummary([3, 3], bytes)).toBe('Over the last 2 backups the size stayed at 3 B');
  });
});

describe('retention policy form', () => {
  it('starts from the server defaults without a policy, and from the policy with one', () => {
    expect(formFromPolicy(null)).toMatchObject({ keepLast: '', snapshotKeepDays: '7', failedRunsGuard: '3' });
    const form = formFromPolicy({
      keepLast: 2,
      keepHourly: null,
      keepDaily: 7,
      keepWeekly: null,
      keepMonthly: null,
      keepYearly: null,
      keepWithinDays: 5,
      snapshotKeepDays: null,
      uploadKeepDays: 30,
      failedRunsGuard: 0,
    });
    expect(form).toMatchObject({
      keepLast: '2',
      keepDaily: '7',
      keepWithinDays: '5',
      snapshotKeepDays: '',
      failedRunsGuard: '0',
    });
  });

  it('sends every field: numbers, and null for the empty ones', () => {
    const form = { ...formFromPolicy(null), keepLast: ' 2 ', uploadKeepDays: '' };
    expect(policyInput(form)).toEqual({
      input: {
        keepLast: 2,
        keepHourly: null,
        keepDaily: null,
        keepWeekly: null,
        keepMonthly: null,
        keepYearly: null,
        keepWithinDays: null,
        snapshotKeepDays: 7,
        uploadKeepDays: null,
        failedRunsGuard: 3,
      },
      problems: {},
    });
  });

  it('refuses what is not a whole number from 0, and an empty guard', () => {
    const { problems } = policyInput({
      ...formFromPolicy(null),
      keepLast: '-1',
      keepDaily: '1.5',
      keepWeekly: 'x',
      keepYearly: '100001',
      failedRunsGuard: '',
    });
    expect(Object.keys(problems).sort()).toEqual([
      'failedRunsGuard',
      'keepDaily',
      'keepLast',
      'keepWeekly',
      'keepYearly',
    ]);
  });

  it('knows when no count rule is set', () => {
    expect(keepsEverything(formFromPolicy(null))).toBe(true);
    expect(keepsEverything({ ...formFromPolicy(null), keepMonthly: '6' })).toBe(false);
  });
});

describe('schedules', () => {
  it('offers every IANA zone, UTC and the saved one', () => {
    const zones = timeZoneChoices('Etc/GMT+5');
    expect(zones).toContain('Europe/Berlin');
    expect(zones).toContain('UTC');
    expect(zones).toContain('Etc/GMT+5');
    expect(new Set(zones).size).toBe(zones.length);
  });

  it('shows a slot on the wall clock of the schedule’s zone', () => {
    expect(formatInZone('2026-03-29T00:30:00.000Z', 'Europe/Berlin')).toMatch(/1:30|01:30/);
    expect(formatInZone('2026-03-29T00:30:00.000Z', 'Asia/Tokyo')).toMatch(/9:30|09:30/);
  });

  it('says what happened to a slot', () => {
    expect(runOutcomeLabel({ outcome: 'ran', jobState: 'failed' })).toBe('Ran · failed');
    expect(runOutcomeLabel({ outcome: 'skipped-overlap', jobState: null })).toContain('still running');
    expect(runOutcomeLabel({ outcome: 'missed' })).toContain('Missed');
  });
});

describe('target form', () => {
  it('keeps the password out of the URL and in the input only when typed', () => {
    expect(urlProblem('postgres://backup:secret@db/shop')).toContain('Password field');
    expect(urlProblem('mysql://db/shop')).toContain('postgres://');
    expect(urlProblem('postgres://backup@db:5432/shop')).toBeNull();
    expect(urlProblem('')).toBeNull();
    const options = { excludeDatabases: 'scratch', keepGlobals: false, globalsWithPasswords: true };
    expect(
      addTargetInput({ name: ' shop ', url: ' postgres://b@db/shop ', password: '', kind: 'database', ...options }),
    ).toEqual({
      name: 'shop',
      url: 'postgres://b@db/shop',
      kind: 'database',
      keepGlobals: false,
      // Role passwords are never kept without the roles; exclusions are for whole servers only.
      globalsWithPasswords: false,
    });
    expect(
      addTargetInput({ name: 's', url: 'postgres://b@db/s', password: 'pw', kind: 'server', ...options }).password,
    ).toBe('pw');
  });

  it('reads the databases to leave out as a list, and keeps role passwords only with the roles', () => {
    expect(databaseList(' a, b  c,,a ')).toEqual(['a', 'b', 'c']);
    expect(
      targetOptionsInput({ excludeDatabases: 'x,y', keepGlobals: true, globalsWithPasswords: true }, 'server'),
    ).toEqual({
      keepGlobals: true,
      globalsWithPasswords: true,
      excludeDatabases: ['x', 'y'],
    });
    expect(
      targetOptionsInput({ excludeDatabases: '', keepGlobals: true, globalsWithPasswords: false }, 'server'),
    ).toEqual({
      keepGlobals: true,
      globalsWithPasswords: false,
      excludeDatabases: [],
    });
  });

  it('lists what a test found, or the coded message of a failure', () => {
    const base = {
      at: '2026-01-01T00:00:00Z',
      serverVersion: '17.2',
      clientVersion: '17.2',
      role: 'backup',
      superuser: false,
      owner: 'shop_owner',
      restore: 'owner',
      sizeBytes: 2048,
      syncedDatabases: null,
      errorCode: null,
    };
    expect(testFacts({ ...base, ok: true })).toEqual([
      { label: 'PostgreSQL', value: '17.2' },
      { label: 'Client tools', value: '17.2' },
      { label: 'Connects as', value: 'backup' },
      { label: 'Owner', value: 'shop_owner' },
      { label: 'Size', value: '2 KiB' },
    ]);
    expect(testFacts({ ...base, ok: false, errorCode: 'pg/connection-failed' })).toEqual([
      { label: 'Error', value: 'The server cannot connect to the database.' },
    ]);
  });
});
