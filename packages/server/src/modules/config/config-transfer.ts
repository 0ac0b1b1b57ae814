import type { AuditLog } from '../../audit/audit-log.js';
import { ServiceError, isCodedError } from '../../errors/service-error.js';

/**
 * One domain's part of a configuration export (targets, schedules, retention policies...). Each
 * refers to targets by name, never by id, so an export rebuilds a fresh metadata database.
 */
export interface ConfigSection<T = unknown> {
  name: string;
  export(): Promise<T>;
  /** Checks a section's JSON completely; throws config/import-invalid, having changed nothing. */
  parse(data: unknown): T;
  /** Applies a parsed section; returns what it did, for the report. */
  apply(data: T, actor: { name: string | null; address?: string | null }): Promise<Record<string, unknown>>;
}

export const CONFIG_FORMAT = 'pgbs-config';
export const CONFIG_VERSION = 1;

export interface ConfigDocument {
  format: typeof CONFIG_FORMAT;
  version: number;
  exportedAt: string;
  sections: Record<string, unknown>;
}

export function invalidImport(message: string): ServiceError {
  return new ServiceError('config/import-invalid', `${message} Nothing was imported.`);
}

/**
 * Export and import across the registered sections. Sections apply in registration order
 * (targets first: the others name them), and only once every section has parsed.
 */
type Actor = { name: string | null; address?: string | null };

export class ConfigTransfer {
  private readonly sections: ConfigSection[] = [];

  constructor(private readonly audit: AuditLog) {}

  register(section: ConfigSection): void {
    if (this.sections.some((known) => known.name === section.name)) throw new Error(`section ${section.name} twice`);
    this.sections.push(section);
  }

  async export(now: Date, actor: Actor): Promise<ConfigDocument> {
    const sections: Record<string, unknown> = {};
    for (const section of this.sections) sections[section.name] = await section.export();
    await this.audit.record({
      actor: actor.name,
      address: actor.address,
      action: 'config.export',
      outcome: 'succeeded',
    });
    return { format: CONFIG_FORMAT, version: CONFIG_VERSION, exportedAt: now.toISOString(), sections };
  }

  /** Applies an export given as JSON text; audited whatever the outcome (a refused import may be a probe). */
  async import(text: string, actor: Actor): Promise<Record<string, Record<string, unknown>>> {
    const entry = { actor: actor.name, address: actor.address, action: 'config.import' };
    try {
      const report = await this.apply(text, actor);
      await this.audit.record({ ...entry, outcome: 'succeeded', details: report });
      return report;
    } catch (error) {
      const errorCode = isCodedError(error) ? error.code : 'internal';
      await this.audit.record({ ...entry, outcome: 'failed', details: { errorCode } });
      throw error;
    }
  }

  private async apply(text: string, actor: Actor): Promise<Record<string, Record<string, unknown>>> {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw invalidImport('The document is not JSON.');
    }
    const doc = document as Partial<ConfigDocument> | null;
    if (typeof doc !== 'object' || doc === null || doc.format !== CONFIG_FORMAT) {
      throw invalidImport(`Not a configuration export (format "${CONFIG_FORMAT}").`);
    }
    if (doc.version !== CONFIG_VERSION) throw invalidImport(`Unsupported version ${String(doc.version)}.`);
    const given = doc.sections;
    if (typeof given !== 'object' || given === null) throw invalidImport('No sections.');
    const unknown = Object.keys(given).filter((name) => !this.sections.some((section) => section.name === name));
    if (unknown.length > 0) throw invalidImport(`Unknown sections: ${unknown.join(', ')}.`);
    const parsed = this.sections
      .filter((section) => section.name in given)
      .map((section) => ({ section, data: section.parse((given as Record<string, unknown>)[section.name]) }));
    const report: Record<string, Record<string, unknown>> = {};
    for (const { section, data } of parsed) report[section.name] = await section.apply(data, actor);
    return report;
  }
}
