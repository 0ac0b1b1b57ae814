import { type PeriodUnit, periodOf } from './periods.js';

export interface RetentionBackup {
  id: string;
  createdAt: Date;
  /** manual | scheduled | upload | pre-restore-snapshot */
  origin: string;
  pinned: boolean;
  /** ok | failed | null (never verified): a failed verification is no successful backup. */
  verifyStatus: string | null;
  sizeBytes: number;
}

export interface RetentionRules {
  keepLast: number | null;
  keepHourly: number | null;
  keepDaily: number | null;
  keepWeekly: number | null;
  keepMonthly: number | null;
  keepYearly: number | null;
  /** Every successful backup younger than this many days ("7 days locally", restic's --keep-within). */
  keepWithinDays: number | null;
  /** Safety snapshots and uploads: deleted once older than this many days; null: kept. */
  snapshotKeepDays: number | null;
  uploadKeepDays: number | null;
}

/** The rules that count backups (and keep-within-days): what a destination's own policy sets. */
export const COUNT_FIELDS = [
  'keepLast',
  'keepHourly',
  'keepDaily',
  'keepWeekly',
  'keepMonthly',
  'keepYearly',
  'keepWithinDays',
] as const;

export type CountRules = Record<(typeof COUNT_FIELDS)[number], number | null>;

export type RetentionDecision =
  | { backup: RetentionBackup; action: 'keep'; reasons: string[] }
  | { backup: RetentionBackup; action: 'delete'; rule: string };

const PERIOD_RULES: { unit: PeriodUnit; field: keyof RetentionRules; flag: string }[] = [
  { unit: 'hourly', field: 'keepHourly', flag: 'keep-hourly' },
  { unit: 'daily', field: 'keepDaily', flag: 'keep-daily' },
  { unit: 'weekly', field: 'keepWeekly', flag: 'keep-weekly' },
  { unit: 'monthly', field: 'keepMonthly', flag: 'keep-monthly' },
  { unit: 'yearly', field: 'keepYearly', flag: 'keep-yearly' },
];

/** Backups the GFS rules count: the ones a person or a schedule asked for. */
const COUNTED_ORIGINS = new Set(['manual', 'scheduled']);
const DAY_MS = 86_400_000;

const successful = (backup: RetentionBackup) => backup.verifyStatus !== 'failed';

/** Why a destination's newest successful backup is kept there, whatever the rules. */
export const NEWEST_SUCCESSFUL = 'newest successful';

/** "keep-last 3, keep-daily 7": the policy's rules as the CLI spells them, for audit and preview. */
export function describeRules(rules: RetentionRules): string {
  const parts = [
    ...(rules.keepLast !== null ? [`keep-last ${rules.keepLast}`] : []),
    ...PERIOD_RULES.filter(({ field }) => rules[field] !== null).map(({ field, flag }) => `${flag} ${rules[field]}`),
    ...(rules.keepWithinDays !== null ? [`keep-within-days ${rules.keepWithinDays}`] : []),
  ];
  return parts.join(', ');
}

export const hasCountRule = (rules: RetentionRules) => describeRules(rules) !== '';

/**
 * What a policy keeps and deletes of one target's backups now. Pure: the same input gives the
 * same answer, so the preview is exactly what a prune does.
 *
 * As restic's `forget`: walking the successful manual and scheduled backups newest first,
 * keep-last keeps the first N, and each period rule keeps the newest backup of each distinct
 * calendar period (in `timeZone`) until it has kept N periods; a backup is kept if any rule keeps
 * it. A period without a successful backup does not count; keep-within-days keeps every one younger
 * than that many days. Beyond restic: pinned backups and the
 * target's newest successful backup are always kept; a policy without a count rule keeps every
 * manual and scheduled backup; safety snapshots and uploads are not counted and are kept for
 * their own number of days.
 */
export function planRetention(input: {
  backups: readonly RetentionBackup[];
  rules: RetentionRules;
  timeZone: string;
  now: Date;
}): RetentionDecision[] {
  const { rules, timeZone, now } = input;
  const newestFirst = [...input.backups].sort(
    (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id.localeCompare(a.id),
  );
  const reasons = new Map<string, string[]>(newestFirst.map((backup) => [backup.id, []]));
  const keep = (backup: RetentionBackup, reason: string) => reasons.get(backup.id)!.push(reason);

  const counted = newestFirst.filter((backup) => COUNTED_ORIGINS.has(backup.origin));
  const countable = counted.filter(successful);
  if (countable[0]) keep(countable[0], NEWEST_SUCCESSFUL);
  for (const backup of newestFirst) if (backup.pinned) keep(backup, 'pinned');

  if (rules.keepLast !== null) for (const backup of countable.slice(0, rules.keepLast)) keep(backup, 'last');
  for (const { unit, field } of PERIOD_RULES) {
    let remaining = rules[field];
    if (remaining === null) continue;
    let lastPeriod: string | null = null;
    for (const backup of countable) {
      if (remaining <= 0) break;
      const period = periodOf(backup.createdAt, unit, timeZone);
      if (period === lastPeriod) continue;
      keep(backup, `${unit} ${period}`);
      lastPeriod = period;
      remaining--;
    }
  }
  if (rules.keepWithinDays !== null) {
    for (const backup of countable) {
      if (now.getTime() - backup.createdAt.getTime() < rules.keepWithinDays * DAY_MS) {
        keep(backup, `within ${rules.keepWithinDays} days`);
      }
    }
  }
  const policy = describeRules(rules);
  if (!policy) for (const backup of counted) keep(backup, 'no count rule');

  const ageRule = (backup: RetentionBackup): string | null => {
    const days = backup.origin === 'upload' ? rules.uploadKeepDays : rules.snapshotKeepDays;
    const flag = backup.origin === 'upload' ? 'upload-keep-days' : 'snapshot-keep-days';
    if (days === null) {
      keep(backup, `${flag} unset`);
      return null;
    }
    if (now.getTime() - backup.createdAt.getTime() < days * DAY_MS) {
      keep(backup, `${flag} ${days}`);
      return null;
    }
    return `${flag} ${days}`;
  };

  return newestFirst.map((backup): RetentionDecision => {
    const own = COUNTED_ORIGINS.has(backup.origin) ? policy : ageRule(backup);
    const why = reasons.get(backup.id)!;
    return why.length > 0 || own === null
      ? { backup, action: 'keep', reasons: why }
      : { backup, action: 'delete', rule: own };
  });
}
