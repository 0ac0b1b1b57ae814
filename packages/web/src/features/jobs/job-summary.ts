import { formatCompactDateTime, formatDuration } from '@/format/format';
import type { Job } from '../backups/useJobList';

const STATES: Record<string, string> = {
  queued: 'Waiting',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export const stateLabel = (state: string) => STATES[state] ?? state;

/** From start to end (or to now while it runs); '—' before it started. */
export function jobDuration(job: Pick<Job, 'startedAt' | 'finishedAt'>, now = Date.now()): string {
  if (!job.startedAt) return '—';
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now;
  return formatDuration((end - Date.parse(job.startedAt)) / 1000);
}

/**
 * "attempt 2 of 3" for a scheduled backup that has or may get retries, with its next try when one
 * is due; null for any other job (and for a schedule without retries).
 */
export function attemptLabel(job: Pick<Job, 'attempts'>): string | null {
  const attempts = job.attempts;
  if (!attempts || (attempts.attempt === 1 && (attempts.maxAttempts ?? 1) <= 1)) return null;
  const of = attempts.maxAttempts
    ? `attempt ${attempts.attempt} of ${attempts.maxAttempts}`
    : `attempt ${attempts.attempt}`;
  return attempts.nextRetryAt ? `${of}, next try ${formatCompactDateTime(attempts.nextRetryAt)}` : of;
}
