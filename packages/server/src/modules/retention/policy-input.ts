import { ServiceError } from '../../errors/service-error.js';
import { DEFAULT_FAILED_RUNS_GUARD } from './retention-guard.js';
import type { PolicyValues } from './retention-repository.js';
import { COUNT_FIELDS, type CountRules } from './plan-retention.js';

/** What a person sets: count rules not given are unset; the other fields keep their value when not given. */
export type PolicyInput = Partial<
  Record<(typeof COUNT_FIELDS)[number] | 'snapshotKeepDays' | 'uploadKeepDays' | 'failedRunsGuard', number | null>
>;

/** The schema's defaults, for a target without a policy. */
export const DEFAULTS: PolicyValues = {
  keepLast: null,
  keepHourly: null,
  keepDaily: null,
  keepWeekly: null,
  keepMonthly: null,
  keepYearly: null,
  keepWithinDays: null,
  snapshotKeepDays: 7,
  uploadKeepDays: 7,
  failedRunsGuard: DEFAULT_FAILED_RUNS_GUARD,
};

const LIMIT = 100_000;

function checkValues(input: PolicyInput): void {
  for (const [field, value] of Object.entries(input)) {
    if (value === null || value === undefined) continue;
    if (!Number.isInteger(value) || value < 0 || value > LIMIT) {
      throw new ServiceError(
        'retention/invalid-policy',
        `${field} must be a whole number from 0 to ${LIMIT} (got ${value}). Nothing was changed.`,
        { field },
      );
    }
  }
}

/** A destination's own rules: the count rules given, the others unset (retention/invalid-policy as below). */
export function countRulesFrom(input: Partial<CountRules>): CountRules {
  checkValues(input);
  return Object.fromEntries(COUNT_FIELDS.map((field) => [field, input[field] ?? null])) as CountRules;
}

/** The policy an input makes from the current one; retention/invalid-policy for anything but whole numbers ≥ 0. */
export function policyFrom(input: PolicyInput, current: PolicyValues | null): PolicyValues {
  checkValues(input);
  if (input.failedRunsGuard === null) {
    throw new ServiceError('retention/invalid-policy', 'failedRunsGuard cannot be unset (0 turns the guard off).', {
      field: 'failedRunsGuard',
    });
  }
  const base = current ?? DEFAULTS;
  const values = { ...DEFAULTS };
  for (const field of COUNT_FIELDS) values[field] = input[field] ?? null;
  values.snapshotKeepDays = input.snapshotKeepDays !== undefined ? input.snapshotKeepDays : base.snapshotKeepDays;
  values.uploadKeepDays = input.uploadKeepDays !== undefined ? input.uploadKeepDays : base.uploadKeepDays;
  values.failedRunsGuard = input.failedRunsGuard ?? base.failedRunsGuard;
  return values;
}
