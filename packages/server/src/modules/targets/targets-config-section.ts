import type { ConfigSection } from '../config/config-transfer.js';
import { invalidImport } from '../config/config-transfer.js';
import { addTarget, validExclusions } from './add-target.js';
import type { TargetDeps } from './target-deps.js';
import { validTargetName, validTargetUrl } from './target-url.js';
import { updateTarget } from './update-target.js';

/** A target as exported: no password, no sealed value (only whether one was stored). */
export interface ExportedTarget {
  name: string;
  kind: 'database' | 'server';
  url: string;
  enabled: boolean;
  excludeDatabases: string[];
  keepGlobals: boolean;
  globalsWithPasswords: boolean;
  hasPassword: boolean;
}

function parseTarget(value: unknown, index: number): ExportedTarget {
  const entry = value as Record<string, unknown> | null;
  const where = `targets[${index}]`;
  if (typeof entry !== 'object' || entry === null) throw invalidImport(`${where} is not an object.`);
  const bool = (key: string, fallback: boolean) => {
    const raw = entry[key] ?? fallback;
    if (typeof raw !== 'boolean') throw invalidImport(`${where}.${key} is not true or false.`);
    return raw;
  };
  const exclusions = entry.excludeDatabases ?? [];
  if (!Array.isArray(exclusions) || exclusions.some((name) => typeof name !== 'string')) {
    throw invalidImport(`${where}.excludeDatabases is not a list of names.`);
  }
  if (entry.kind !== 'database' && entry.kind !== 'server') throw invalidImport(`${where}.kind is database or server.`);
  try {
    return {
      name: validTargetName(String(entry.name)),
      kind: entry.kind,
      url: validTargetUrl(String(entry.url)),
      enabled: bool('enabled', true),
      excludeDatabases: validExclusions(exclusions as string[]),
      keepGlobals: bool('keepGlobals', false),
      globalsWithPasswords: bool('globalsWithPasswords', false),
      hasPassword: bool('hasPassword', false),
    };
  } catch (error) {
    throw invalidImport(`${where}: ${(error as Error).message}`);
  }
}

/**
 * The targets part of a configuration export. The env-managed target comes from the environment
 * and a server's children from its sync, so neither is exported. An import adds or updates by
 * name, never touches passwords, and lists the targets that need one set again.
 */
export function targetsConfigSection(deps: TargetDeps): ConfigSection<ExportedTarget[]> {
  return {
    name: 'targets',
    async export() {
      return (await deps.repo.list())
        .filter((row) => row.managedBy !== 'env' && row.parentId === null)
        .map((row) => ({
          name: row.name,
          kind: row.kind as ExportedTarget['kind'],
          url: row.url,
          enabled: row.enabled,
          excludeDatabases: row.excludeDatabases,
          keepGlobals: row.keepGlobals,
          globalsWithPasswords: row.globalsWithPasswords,
          hasPassword: row.passwordSealed !== null,
        }));
    },
    parse(data) {
      if (!Array.isArray(data)) throw invalidImport('targets is not a list.');
      const parsed = data.map(parseTarget);
      const names = parsed.map((target) => target.name);
      const twice = names.find((name, index) => names.indexOf(name) !== index);
      if (twice) throw invalidImport(`Target "${twice}" is listed twice.`);
      return parsed;
    },
    async apply(data, actor) {
      const existing = new Map((await deps.repo.list()).map((row) => [row.name, row]));
      const report = {
        added: [] as string[],
        updated: [] as string[],
        skipped: [] as string[],
        needPassword: [] as string[],
      };
      for (const target of data) {
        const { name, kind, hasPassword, ...settings } = target;
        const row = existing.get(name);
        if (row && (row.managedBy === 'env' || row.parentId !== null || row.kind !== kind)) {
          report.skipped.push(name);
          continue;
        }
        const stored = row
          ? await updateTarget(deps, row.id, settings, actor)
          : await addTarget(deps, { name, kind, ...settings }, actor);
        (row ? report.updated : report.added).push(name);
        if (hasPassword && stored.passwordSealed === null) report.needPassword.push(name);
      }
      return report;
    },
  };
}
