import { dayStart } from '@/format/format';

export interface BackupFilter {
  search: string;
  origin: string;
  /** yyyy-mm-dd, local days, both included; '' for open. */
  from: string;
  to: string;
}

export const NO_FILTER: BackupFilter = { search: '', origin: '', from: '', to: '' };

/** The filter as the backups query's arguments. */
export function filterVariables(filter: BackupFilter) {
  return {
    search: filter.search.trim() || null,
    origin: filter.origin || null,
    createdAfter: dayStart(filter.from),
    // `to` includes its whole day.
    createdBefore: dayStart(filter.to, 1),
  };
}

export const isFiltered = (filter: BackupFilter) => JSON.stringify(filter) !== JSON.stringify(NO_FILTER);
