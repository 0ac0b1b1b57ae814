import { isCodedError } from '../../errors/service-error.js';
import { type ConfigSection, invalidImport } from '../config/config-transfer.js';
import { COUNT_FIELDS, type CountRules } from './plan-retention.js';
import { countRulesFrom, policyFrom } from './policy-input.js';
import { setDestinationPolicy } from './destination-policy.js';
import type { RetentionDeps } from './ports.js';
import { type PolicyValues, retentionRepository } from './retention-repository.js';
import { setRetentionPolicy } from './set-retention-policy.js';

/** A target's own retention policy as exported: by the target's name. */
export type ExportedPolicy = PolicyValues & { target: string };

const FIELDS = [
  ...COUNT_FIELDS,
  'snapshotKeepDays',
  'uploadKeepDays',
  'failedRunsGuard',
] as const satisfies readonly (keyof PolicyValues)[];

/** An entry's object, its names (`names`) and numbers (`fields`), checked; else config/import-invalid. */
function entryOf<F extends string, N extends string>(
  value: unknown,
  where: string,
  names: readonly N[],
  fields: readonly F[],
): { names: Record<N, string>; input: Partial<Record<F, number | null>> } {
  const entry = value as Record<string, unknown> | null;
  if (typeof entry !== 'object' || entry === null) throw invalidImport(`${where} is not an object.`);
  for (const name of names) {
    if (typeof entry[name] !== 'string' || entry[name] === '') throw invalidImport(`${where}.${name} is not a name.`);
  }
  const input: Partial<Record<F, number | null>> = {};
  for (const field of fields) {
    const raw = entry[field];
    if (raw === undefined) continue;
    if (raw !== null && typeof raw !== 'number') throw invalidImport(`${where}.${field} is not a number or null.`);
    input[field] = raw;
  }
  return { names: Object.fromEntries(names.map((name) => [name, entry[name]])) as Record<N, string>, input };
}

function checked<T>(where: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    throw invalidImport(`${where}: ${(error as Error).message}`);
  }
}

function parsePolicy(value: unknown, index: number): ExportedPolicy {
  const where = `retentionPolicies[${index}]`;
  const { names, input } = entryOf(value, where, ['target'], FIELDS);
  return checked(where, () => ({ target: names.target, ...policyFrom(input, null) }));
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

/** A destination's own rules for a target's copies, as exported: by names. */
export type ExportedDestinationPolicy = CountRules & { target: string; destination: string };

/**
 * The per-destination part of a configuration export. Destinations are not exported (they hold
 * credentials): an import sets the rules of those that exist by name for the target, and skips
 * and reports the others (no such target or destination, or a destination the target does not use).
 */
export function destinationRetentionConfigSection(deps: RetentionDeps): ConfigSection<ExportedDestinationPolicy[]> {
  return {
    name: 'destinationRetentionPolicies',
    async export() {
      return (await retentionRepository.ownDestinationPolicies(deps.db)).map(({ target, destination, rules }) => ({
        target,
        destination,
        ...rules,
      }));
    },
    parse(data) {
      if (!Array.isArray(data)) throw invalidImport('destinationRetentionPolicies is not a list.');
      const parsed = data.map((value, index) => {
        const where = `destinationRetentionPolicies[${index}]`;
        const { names, input } = entryOf(value, where, ['target', 'destination'], COUNT_FIELDS);
        return checked(where, () => ({ ...names, ...countRulesFrom(input) }));
      });
      const keys = parsed.map((entry) => `${entry.target} on ${entry.destination}`);
      const twice = keys.find((key, index) => keys.indexOf(key) !== index);
      if (twice) throw invalidImport(`Target and destination "${twice}" have two policies.`);
      return parsed;
    },
    async apply(data, actor) {
      const report = { set: [] as string[], skipped: [] as string[] };
      for (const { target, destination, ...rules } of data) {
        try {
          await setDestinationPolicy(deps, target, destination, rules, actor);
          report.set.push(`${target} on ${destination}`);
        } catch (error) {
          const skippable = ['target/not-found', 'destination/not-found', 'retention/destination-not-used'] as const;
          if (!skippable.some((code) => isCodedError(error, code))) throw error;
          report.skipped.push(`${target} on ${destination}`);
        }
      }
      return report;
    },
  };
}
