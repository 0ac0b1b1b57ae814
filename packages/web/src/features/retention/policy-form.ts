import type { ResultOf, VariablesOf } from '@/graphql/graphql';
import type { RetentionPolicyFields, SetRetentionPolicyMutation } from '@/graphql/retention';

export type Policy = ResultOf<typeof RetentionPolicyFields>;
export type PolicyInput = VariablesOf<typeof SetRetentionPolicyMutation>['policy'];
type Field = keyof Omit<Policy, '__typename'>;

export interface PolicyFieldInfo {
  key: Field;
  label: string;
  hint: string;
}

/** restic's keep rules: each keeps the newest backup of that many periods (or that many backups). */
export const COUNT_FIELDS: PolicyFieldInfo[] = [
  { key: 'keepLast', label: 'Keep last', hint: 'the newest backups' },
  { key: 'keepHourly', label: 'Hourly', hint: 'hours with a backup' },
  { key: 'keepDaily', label: 'Daily', hint: 'days' },
  { key: 'keepWeekly', label: 'Weekly', hint: 'weeks' },
  { key: 'keepMonthly', label: 'Monthly', hint: 'months' },
  { key: 'keepYearly', label: 'Yearly', hint: 'years' },
  { key: 'keepWithinDays', label: 'Within days', hint: 'every backup younger than that' },
];

export const OTHER_FIELDS: PolicyFieldInfo[] = [
  { key: 'snapshotKeepDays', label: 'Safety snapshots', hint: 'days (empty: kept)' },
  { key: 'uploadKeepDays', label: 'Uploads', hint: 'days (empty: kept)' },
  { key: 'failedRunsGuard', label: 'Failed-runs guard', hint: 'failed runs in a row pause pruning (0: off)' },
];

/** The form holds what the inputs show: text, '' for unset. */
export type PolicyForm = Record<Field, string>;

/** The server's defaults for a target without a policy. */
const NEW_POLICY: Policy = {
  keepLast: null,
  keepHourly: null,
  keepDaily: null,
  keepWeekly: null,
  keepMonthly: null,
  keepYearly: null,
  keepWithinDays: null,
  snapshotKeepDays: 7,
  uploadKeepDays: 7,
  failedRunsGuard: 3,
};

const FIELDS = [...COUNT_FIELDS, ...OTHER_FIELDS].map((field) => field.key);
const LIMIT = 100_000;

export function formFromPolicy(policy: Policy | null | undefined): PolicyForm {
  const source = policy ?? NEW_POLICY;
  return Object.fromEntries(FIELDS.map((key) => [key, source[key] === null ? '' : String(source[key])])) as PolicyForm;
}

export type PolicyProblems = Partial<Record<Field, string>>;

/**
 * The form as the mutation's input: every field sent, so the saved policy is exactly what the
 * form shows ('' is null: the rule is unset, or the days are "kept"). The guard cannot be unset.
 */
export function policyInput(form: PolicyForm): { input: PolicyInput; problems: PolicyProblems } {
  return parsed(form, FIELDS) as { input: PolicyInput; problems: PolicyProblems };
}

/** A destination's own rules in the form: the count fields only. */
export type CountForm = Partial<PolicyForm>;

/** A destination's own rules: the count rules only, '' unset. */
export function countRulesInput(form: CountForm): { input: Record<string, number | null>; problems: PolicyProblems } {
  return parsed(
    form,
    COUNT_FIELDS.map((field) => field.key),
  );
}

export function countFormFrom(rules: Partial<Record<Field, number | null>> | null | undefined): CountForm {
  return Object.fromEntries(COUNT_FIELDS.map(({ key }) => [key, rules?.[key] == null ? '' : String(rules[key])]));
}

function parsed(form: Partial<PolicyForm>, keys: readonly Field[]) {
  const problems: PolicyProblems = {};
  const input: Record<string, number | null> = {};
  for (const key of keys) {
    const text = (form[key] ?? '').trim();
    if (text === '') {
      if (key === 'failedRunsGuard') problems[key] = 'Enter a number (0 turns the guard off).';
      input[key] = null;
      continue;
    }
    const value = Number(text);
    if (!/^\d+$/.test(text) || value > LIMIT) problems[key] = `A whole number from 0 to ${LIMIT}.`;
    input[key] = /^\d+$/.test(text) ? value : null;
  }
  return { input, problems };
}

/** No count rule: nothing scheduled or manual is ever deleted. */
export const keepsEverything = (form: PolicyForm) => COUNT_FIELDS.every((field) => form[field.key].trim() === '');
