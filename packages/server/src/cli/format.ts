import type { BackupRow, JobRow } from '../db/schema.js';
import type { RetentionPlan } from '../modules/retention/plan-for-target.js';
import type { RetentionGuard } from '../modules/retention/retention-guard.js';
import { type CountRules, describeRules } from '../modules/retention/plan-retention.js';
import { DEFAULTS } from '../modules/retention/policy-input.js';
import type { PolicyValues } from '../modules/retention/retention-repository.js';
import type { JobAttempts } from '../modules/schedules/job-attempts.js';
import type { ScheduleView } from '../modules/schedules/schedule-view.js';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s} s`;
}

const utc = (date: Date) => date.toISOString().replace('T', ' ').slice(0, 19);

/**
 * Columns padded to their widest cell (the last one is not padded). `style` may colour a cell:
 * widths are measured before, so escape codes do not shift the columns.
 */
function formatTable(header: string[], rows: string[][], style: (cell: string, column: number) => string): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], paint: (cell: string, column: number) => string) =>
    cells.map((c, i) => paint(i === cells.length - 1 ? c : c.padEnd(widths[i]!), i)).join('  ');
  return [line(header, (cell) => cell), ...rows.map((row) => line(row, style))].join('\n');
}

/** Target names by id (removed targets too), for the tables' TARGET column. */
export type TargetNames = ReadonlyMap<string, { name: string; removed: boolean }>;

const targetCell = (names: TargetNames, targetId: string | null) => {
  const target = targetId ? names.get(targetId) : undefined;
  return target ? `${target.name}${target.removed ? ' (removed)' : ''}` : '-';
};

/** Complete and all copies of each backup (missing: one local copy, a backup from before destinations). */
export type CopyCounts = ReadonlyMap<string, { complete: number; total: number }>;

export function formatBackupTable(
  rows: readonly BackupRow[],
  names: TargetNames = new Map(),
  copies: CopyCounts = new Map(),
): string {
  if (rows.length === 0) return 'No backups yet. Create one with: pnpm cli backup create';
  const copiesCell = (id: string) => {
    const counts = copies.get(id) ?? { complete: 1, total: 1 };
    return `${counts.complete}/${counts.total}`;
  };
  return formatTable(
    ['ID', 'CREATED (UTC)', 'TARGET', 'FORMAT', 'SIZE', 'COPIES', 'ORIGIN', 'VERIFIED', 'DESCRIPTION'],
    rows.map((row) => [
      row.id,
      utc(row.createdAt),
      targetCell(names, row.targetId),
      row.format,
      formatBytes(row.sizeBytes),
      copiesCell(row.id),
      row.origin,
      row.verifyStatus ?? '-',
      row.description,
    ]),
    (cell) => cell,
  );
}

/** How long a job ran, or has been running. */
export function jobDuration(job: JobRow, now: number): string {
  if (!job.startedAt) return '-';
  return formatDuration((job.finishedAt?.getTime() ?? now) - job.startedAt.getTime());
}

export function formatJobTable(
  rows: readonly JobRow[],
  now: number,
  paintState: (state: string) => string,
  names: TargetNames = new Map(),
  attempts: ReadonlyMap<string, JobAttempts | null> = new Map(),
): string {
  if (rows.length === 0) return 'No jobs yet.';
  const STATE = 2;
  return formatTable(
    ['ID', 'KIND', 'STATE', 'ATTEMPT', 'TARGET', 'STARTED (UTC)', 'DURATION', 'WHO'],
    rows.map((job) => [
      job.id,
      job.kind,
      job.state,
      formatAttempt(attempts.get(job.id) ?? null),
      job.targetId && names.has(job.targetId)
        ? targetCell(names, job.targetId)
        : typeof job.params.target === 'string'
          ? job.params.target
          : '-',
      job.startedAt ? utc(job.startedAt) : '-',
      jobDuration(job, now),
      job.requestedBy ?? '-',
    ]),
    (cell, column) => (column === STATE ? cell.replace(cell.trimEnd(), paintState(cell.trimEnd())) : cell),
  );
}

/** "2 of 3", "1 of 2, retry 10:05:00" for a scheduled backup; "-" for any other job. */
export function formatAttempt(attempts: JobAttempts | null): string {
  if (!attempts) return '-';
  const of = attempts.maxAttempts === null ? `${attempts.attempt}` : `${attempts.attempt} of ${attempts.maxAttempts}`;
  return attempts.nextRetryAt ? `${of}, retry ${utc(attempts.nextRetryAt)}` : of;
}

export function formatScheduleTable(rows: readonly ScheduleView[]): string {
  if (rows.length === 0) return 'No schedules yet. Set one with: pnpm cli schedule set <target> --cron "<expr>"';
  return formatTable(
    ['TARGET', 'CRON', 'TIME ZONE', 'MISSED', 'RETRIES', 'STATE', 'NEXT RUNS (UTC)'],
    rows.map((row) => [
      row.targetName,
      row.cron,
      row.timeZone,
      row.missedPolicy,
      String(row.retryLimit),
      row.paused ? 'paused' : 'active',
      row.nextRuns.map(utc).join(', ') || '-',
    ]),
    (cell) => cell,
  );
}

const RULE_LABELS: [keyof PolicyValues, string][] = [
  ['keepLast', 'keep-last'],
  ['keepHourly', 'keep-hourly'],
  ['keepDaily', 'keep-daily'],
  ['keepWeekly', 'keep-weekly'],
  ['keepMonthly', 'keep-monthly'],
  ['keepYearly', 'keep-yearly'],
  ['keepWithinDays', 'keep-within-days'],
  ['snapshotKeepDays', 'snapshot-keep-days'],
  ['uploadKeepDays', 'upload-keep-days'],
  ['failedRunsGuard', 'failed-runs-guard'],
];

/** A target's policy, or a destination's own count rules (the fields it has). */
export function formatPolicy(policy: Partial<PolicyValues>): string {
  return RULE_LABELS.filter(([field]) => field in policy)
    .map(([field, label]) => `${`${label}:`.padEnd(20)}${policy[field] ?? '-'}`)
    .join('\n');
}

export function formatPolicies(shown: {
  policy: PolicyValues | null;
  destinations: { destination: string; rules: CountRules }[];
}): string {
  const lines = [shown.policy ? formatPolicy(shown.policy) : 'No policy of its own or its server: nothing is pruned.'];
  for (const { destination, rules } of shown.destinations) {
    const described = describeRules({ ...DEFAULTS, ...rules });
    lines.push('', `On ${destination}: ${described || 'no count rule (every copy kept)'}`);
  }
  if (shown.destinations.length === 0) lines.push('', "Every destination follows the target's policy.");
  return lines.join('\n');
}

export function formatRetentionPreview(preview: RetentionPlan & { guard: RetentionGuard; hasPolicy: boolean }): string {
  const lines: string[] = [];
  if (!preview.hasPolicy) lines.push('No retention policy: nothing is pruned.');
  if (preview.guard.blocked) {
    lines.push(
      `Pruning is held back: the last ${preview.guard.failedRuns} scheduled runs failed (failed-runs guard ${preview.guard.threshold}).`,
    );
  }
  const deleted = preview.decisions.filter((d) => d.action === 'delete');
  lines.push(
    `${deleted.length} of ${preview.decisions.length} backups would be deleted (${formatBytes(preview.freedBytes)}); periods in ${preview.timeZone}.`,
  );
  for (const plan of preview.destinations) {
    const deletes = plan.decisions.filter((d) => d.action === 'delete').length;
    const whose = { destination: 'its own rules', target: "the target's policy", none: 'no policy' }[plan.source];
    lines.push(
      `  ${plan.destination.name} (${whose}${plan.rules ? `: ${plan.rules}` : ''}): ${deletes} of ${plan.decisions.length} copies deleted (${formatBytes(plan.freedBytes)}).`,
    );
  }
  // A backup kept elsewhere may still lose the copies some destinations' rules delete.
  const action = (d: RetentionPlan['decisions'][number]) => {
    if (d.action === 'delete') return 'delete';
    const on = preview.destinations.filter((plan) =>
      plan.decisions.some((c) => c.backup.id === d.backup.id && c.action === 'delete'),
    );
    return on.length === 0 ? 'keep' : `keep, delete on ${on.map((plan) => plan.destination.name).join(', ')}`;
  };
  if (preview.decisions.length > 0) {
    lines.push(
      '',
      formatTable(
        ['ID', 'CREATED (UTC)', 'ORIGIN', 'ACTION', 'WHY'],
        preview.decisions.map((d) => [
          d.backup.id.slice(0, 8),
          utc(d.backup.createdAt),
          d.backup.origin,
          action(d),
          d.action === 'keep' ? d.reasons.join('; ') : d.rule,
        ]),
        (cell) => cell,
      ),
    );
  }
  return lines.join('\n');
}
