import { ServiceError } from '../../errors/service-error.js';
import { CronExpressionParser } from 'cron-parser';

/** cron-parser's own aliases; @reboot and friends have no slot, so they are not taken. */
const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/**
 * An IANA zone name, as the runtime's time zone database knows it. Intl throws a RangeError for
 * anything else; cron-parser would only fail later, at the first next(). Offsets ("+02:00") are
 * refused: they have no daylight-saving rules, which is what a zone is for here.
 */
export function validTimeZone(timeZone: string): string {
  const invalid = () =>
    new ServiceError(
      'schedule/invalid-time-zone',
      `"${timeZone}" is not a time zone: use an IANA name such as Europe/Berlin or UTC.`,
    );
  if (!/^[A-Za-z]/.test(timeZone)) throw invalid();
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw invalid();
  }
  return timeZone;
}

/**
 * Five fields (minute hour day-of-month month day-of-week) or an alias. cron-parser also takes
 * four fields and a leading seconds field; both are refused: a slot is at most once a minute, and
 * a missing field is a typo, not a wish.
 */
export function validCron(cron: string, timeZone: string): string {
  const spaced = cron.trim().replace(/\s+/g, ' ');
  const expression = spaced.startsWith('@') ? spaced.toLowerCase() : spaced;
  const fields = expression.split(' ');
  const invalid = (why: string) =>
    new ServiceError('schedule/invalid-cron', `"${cron}" is not a cron expression: ${why}.`, { cron });
  if (expression.startsWith('@')) {
    if (!ALIASES.has(expression)) throw invalid(`unknown alias (${[...ALIASES].join(', ')})`);
  } else if (fields.length !== 5) {
    throw invalid(`five fields are needed (minute hour day-of-month month day-of-week), not ${fields.length}`);
  }
  try {
    // A day that never comes ("0 0 31 2 *") fails here, not at the first tick.
    CronExpressionParser.parse(expression, { tz: validTimeZone(timeZone) }).next();
  } catch (error) {
    throw invalid(error instanceof Error ? error.message : String(error));
  }
  return expression;
}

/**
 * The slots after `after` (exclusive) up to `until` (inclusive), oldest first, at most `limit`.
 * Times are read in the schedule's zone, so "30 2 * * *" means 02:30 on the wall clock there; at
 * daylight-saving changes cron-parser (checked in cron.test.ts) runs a wall-clock time that does
 * not exist once, an hour later (03:30 on the spring-forward day in Europe/Berlin), and one that
 * exists twice once, at its first occurrence. Interval fields ("*\/30 * * * *") keep their real
 * spacing across the change.
 */
export function slotsBetween(
  cron: string,
  timeZone: string,
  after: Date,
  until: Date,
  limit = Number.MAX_SAFE_INTEGER,
): Date[] {
  const slots: Date[] = [];
  if (until <= after) return slots;
  const iterator = CronExpressionParser.parse(cron, { tz: timeZone, currentDate: after });
  while (slots.length < limit) {
    const next = iterator.next().toDate();
    if (next > until) break;
    slots.push(next);
  }
  return slots;
}

/** The next `count` slots after `after`. */
export function nextRuns(cron: string, timeZone: string, after: Date, count: number): Date[] {
  const iterator = CronExpressionParser.parse(cron, { tz: timeZone, currentDate: after });
  return Array.from({ length: count }, () => iterator.next().toDate());
}
