/** The browser's own zone, preselected for a new schedule. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * The zones a schedule can be read in: the runtime's IANA list (Chromium's lacks "UTC"), plus the
 * zone already saved, so a select always shows the current value.
 */
export function timeZoneChoices(current?: string): string[] {
  const zones = new Set(Intl.supportedValuesOf('timeZone'));
  zones.add('UTC');
  if (current) zones.add(current);
  return [...zones].sort((a, b) => a.localeCompare(b));
}

const wallClock = (timeZone: string) =>
  // dateStyle cannot be combined with timeZoneName, hence the parts.
  new Intl.DateTimeFormat(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    timeZone,
    timeZoneName: 'short',
  });

/** A slot as the wall clock of the schedule's zone shows it ("12 Jun 2026, 02:30 CEST"). */
export function formatInZone(iso: string, timeZone: string): string {
  try {
    return wallClock(timeZone).format(new Date(iso));
  } catch {
    return new Date(iso).toISOString();
  }
}

const OUTCOMES: Record<string, string> = {
  ran: 'Ran',
  'skipped-overlap': 'Skipped: the previous backup was still running',
  missed: 'Missed: no instance was running',
  failed: 'Failed: the backup could not be queued (see the service log)',
  pending: 'Being queued',
};

/** A slot record's outcome in words, with its backup job's state when it ran. */
export function runOutcomeLabel(run: {
  outcome: string;
  jobState?: string | null;
  attempt?: number;
  retryAt?: string | null;
}): string {
  const outcome = OUTCOMES[run.outcome] ?? run.outcome;
  const label = run.outcome === 'ran' && run.jobState ? `${outcome} · ${run.jobState}` : outcome;
  const attempt = run.attempt && run.attempt > 1 ? ` · attempt ${run.attempt}` : '';
  return `${label}${attempt}${run.retryAt ? ' · retry due' : ''}`;
}
