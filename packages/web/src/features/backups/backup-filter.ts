import { dayStart } from '@/format/format';

export interface BackupFilter {
  search: string;
  origin: string;
  /** yyyy-mm-dd, local days, both included; '' for open. */
  from: string;
  to: string;
  /** A target's id; '' for every target. */
  target: string;
}

export const NO_FILTER: BackupFilter = { search: '', origin: '', from: '', to: '', target: '' };

/** The target part of a list's arguments: its id, or null for every target. */
export function targetVariables(target: string): { targetId: string | null } {
  return { targetId: target || null };
}

/** The filter as the backups query's arguments. */
export function filterVariables(filter: BackupFilter) {
  return {
    search: filter.search.trim() || null,
    origin: filter.origin || null,
    createdAfter: dayStart(filter.from),
    // `to` includes its whole day.
    createdBefore: dayStart(filter.to, 1),
    ...targetVariables(filter.target),
  };
}

export const isFiltered = (filter: BackupFilter) => JSON.stringify(filter) !== JSON.stringify(NO_FILTER);
