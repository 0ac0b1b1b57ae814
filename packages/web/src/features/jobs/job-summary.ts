import { formatDuration } from '@/format/format';
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
