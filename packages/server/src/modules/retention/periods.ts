export type PeriodUnit = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** The wall-clock date and hour of an instant in a zone. */
function wallClock(at: Date, timeZone: string) {
  const parts = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  );
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour) };
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** ISO 8601 week (weeks start on Monday; week 1 holds the year's first Thursday) of a calendar date. */
function isoWeek(year: number, month: number, day: number): { year: number; week: number } {
  const date = Date.UTC(year, month - 1, day);
  const weekday = (new Date(date).getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(date + (3 - weekday) * 86_400_000);
  const weekYear = thursday.getUTCFullYear();
  return { year: weekYear, week: 1 + Math.floor((thursday.getTime() - Date.UTC(weekYear, 0, 1)) / (7 * 86_400_000)) };
}

/**
 * The calendar period of an instant, named as it reads in the zone ("2026-03-29T14", "2026-W13").
 * On a fall-back day the repeated wall-clock hour is one period, as restic counts it.
 */
export function periodOf(at: Date, unit: PeriodUnit, timeZone: string): string {
  const t = wallClock(at, timeZone);
  switch (unit) {
    case 'hourly':
      return `${t.year}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}`;
    case 'daily':
      return `${t.year}-${pad(t.month)}-${pad(t.day)}`;
    case 'weekly': {
      const week = isoWeek(t.year, t.month, t.day);
      return `${week.year}-W${pad(week.week)}`;
    }
    case 'monthly':
      return `${t.year}-${pad(t.month)}`;
    case 'yearly':
      return `${t.year}`;
  }
}
