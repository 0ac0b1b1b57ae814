import { isCodedError } from '../../errors/service-error.js';
import { type ConfigSection, invalidImport } from '../config/config-transfer.js';
import { setSchedulePaused } from './control-schedule.js';
import { validCron, validTimeZone } from './cron.js';
import { MISSED_POLICIES, type MissedPolicy } from './due-slots.js';
import type { ScheduleDeps } from './ports.js';
import { scheduleRepository } from './schedule-repository.js';
import { MAX_RETRIES, setSchedule } from './set-schedule.js';

/** A schedule as exported: by its target's name. */
export interface ExportedSchedule {
  target: string;
  cron: string;
  timeZone: string;
  missedPolicy: MissedPolicy;
  paused: boolean;
  /** Retries of a failed scheduled backup; absent in an older export: 1 (the default). */
  retries: number;
}

function parseSchedule(value: unknown, index: number): ExportedSchedule {
  const entry = value as Record<string, unknown> | null;
  const where = `schedules[${index}]`;
  if (typeof entry !== 'object' || entry === null) throw invalidImport(`${where} is not an object.`);
  if (typeof entry.target !== 'string' || entry.target === '') throw invalidImport(`${where}.target is not a name.`);
  if (typeof entry.cron !== 'string') throw invalidImport(`${where}.cron is not a cron expression.`);
  const paused = entry.paused ?? false;
  if (typeof paused !== 'boolean') throw invalidImport(`${where}.paused is not true or false.`);
  const missedPolicy = entry.missedPolicy ?? 'run-once';
  if (!MISSED_POLICIES.includes(missedPolicy as MissedPolicy)) {
    throw invalidImport(`${where}.missedPolicy is ${MISSED_POLICIES.join(' or ')}.`);
  }
  const retries = entry.retries ?? 1;
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
    throw invalidImport(`${where}.retries is a whole number from 0 to ${MAX_RETRIES}.`);
  }
  try {
    const timeZone = validTimeZone(typeof entry.timeZone === 'string' ? entry.timeZone : 'UTC');
    return {
      target: entry.target,
      cron: validCron(entry.cron, timeZone),
      timeZone,
      missedPolicy: missedPolicy as MissedPolicy,
      paused,
      retries,
    };
  } catch (error) {
    throw invalidImport(`${where}: ${(error as Error).message}`);
  }
}

/**
 * The schedules part of a configuration export. An import sets each schedule by target name (slots
 * count from the import) and pauses or resumes it as exported; a target that does not exist is
 * skipped and reported, never created.
 */
export function schedulesConfigSection(deps: ScheduleDeps): ConfigSection<ExportedSchedule[]> {
  return {
    name: 'schedules',
    async export() {
      return (await scheduleRepository.list(deps.db)).map((row) => ({
        target: row.targetName,
        cron: row.cron,
        timeZone: row.timeZone,
        missedPolicy: row.missedPolicy as MissedPolicy,
        paused: row.paused,
        retries: row.retryLimit,
      }));
    },
    parse(data) {
      if (!Array.isArray(data)) throw invalidImport('schedules is not a list.');
      const parsed = data.map(parseSchedule);
      const names = parsed.map((schedule) => schedule.target);
      const twice = names.find((name, index) => names.indexOf(name) !== index);
      if (twice) throw invalidImport(`Target "${twice}" has two schedules.`);
      return parsed;
    },
    async apply(data, actor) {
      const report = { set: [] as string[], skipped: [] as string[] };
      for (const { paused, ...schedule } of data) {
        try {
          const saved = await setSchedule(deps, schedule, actor);
          if (saved.paused !== paused) await setSchedulePaused(deps, schedule.target, paused, actor);
          report.set.push(schedule.target);
        } catch (error) {
          if (!isCodedError(error, 'target/not-found')) throw error;
          report.skipped.push(schedule.target);
        }
      }
      return report;
    },
  };
}
