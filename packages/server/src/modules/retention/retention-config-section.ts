import { isCodedError } from '../../errors/service-error.js';
import { type ConfigSection, invalidImport } from '../config/config-transfer.js';
import { policyFrom } from './policy-input.js';
import type { RetentionDeps } from './ports.js';
import { type PolicyValues, retentionRepository } from './retention-repository.js';
import { setRetentionPolicy } from './set-retention-policy.js';

/** A target's own retention policy as exported: by the target's name. */
export type ExportedPolicy = PolicyValues & { target: string };

const FIELDS = [
  'keepLast',
  'keepHourly',
  'keepDaily',
  'keepWeekly',
  'keepMonthly',
  'keepYearly',
  'snapshotKeepDays',
  'uploadKeepDays',
  'failedRunsGuard',
] as const satisfies readonly (keyof PolicyValues)[];

function parsePolicy(value: unknown, index: number): ExportedPolicy {
  const entry = value as Record<string, unknown> | null;
  const where = `retentionPolicies[${index}]`;
  if (typeof entry !== 'object' || entry === null) throw invalidImport(`${where} is not an object.`);
  if (typeof entry.target !== 'string' || entry.target === '') throw invalidImport(`${where}.target is not a name.`);
  const input: Partial<Record<(typeof FIELDS)[number], number | null>> = {};
  for (const field of FIELDS) {
    const raw = entry[field];
    if (raw === undefined) continue;
    if (raw !== null && typeof raw !== 'number') throw invalidImport(`${where}.${field} is not a number or null.`);
    input[field] = raw;
  }
  try {
    return { target: entry.target, ...policyFrom(input, null) };
  } catch (error) {
    throw invalidImport(`${where}: ${(error as Error).message}`);
  }
}

/**
 * The retention part of a configuration export: each target's own policy (a server's databases
 * follow their server's unless they have one). An import sets them by target name; a target that
 * does not exist is skipped and reported.
 */
export function retentionConfigSection(deps: RetentionDeps): ConfigSection<ExportedPolicy[]> {
  return {
    name: 'retentionPolicies',
    async export() {
      return (await retentionRepository.ownPolicies(deps.db)).map(({ policy, target }) => ({
        target,
        ...Object.fromEntries(FIELDS.map((field) => [field, policy[field]])),
      })) as ExportedPolicy[];
    },
    parse(data) {
      if (!Array.isArray(data)) throw invalidImport('retentionPolicies is not a list.');
      const parsed = data.map(parsePolicy);
      const names = parsed.map((policy) => policy.target);
      const twice = names.find((name, index) => names.indexOf(name) !== index);
      if (twice) throw invalidImport(`Target "${twice}" has two policies.`);
      return parsed;
    },
    async apply(data, actor) {
      const report = { set: [] as string[], skipped: [] as string[] };
      for (const { target, ...values } of data) {
        try {
          await setRetentionPolicy(deps, target, values, actor);
          report.set.push(target);
        } catch (error) {
          if (!isCodedError(error, 'target/not-found')) throw error;
          report.skipped.push(target);
        }
      }
      return report;
    },
  };
}
