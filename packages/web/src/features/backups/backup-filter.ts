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

/**
 * INTEGRATOR: the server's `backups` query has no `targetId` argument yet, so this sends nothing.
 * Once `backups(targetId: ID)` exists: declare `$targetId: ID` in BackupsQuery
 * (graphql/backups.ts), pass `targetId: $targetId` to `backups`, and return
 * `{ targetId: target || null }` here.
 */
export function targetVariables(_target: string): Record<string, never> {
  return {};
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
