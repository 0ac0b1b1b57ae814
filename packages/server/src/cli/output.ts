import { styleText } from 'node:util';
import type { BackupRow, JobRow } from '../db/schema.js';
import { type Logger, consoleLogger } from '../logger.js';
import { formatBytes, jobDuration } from './format.js';
import { createProgressDisplay } from './progress-display.js';

type Style = Parameters<typeof styleText>[0];

/** Colour only where the stream is a terminal that takes it (styleText honours NO_COLOR, FORCE_COLOR, TERM=dumb). */
export const paint = (style: Style, text: string, stream: NodeJS.WriteStream = process.stdout): string =>
  styleText(style, text, { stream });

const STATE_STYLES: Record<string, Style> = {
  succeeded: 'green',
  failed: 'red',
  cancelled: 'yellow',
  running: 'cyan',
  queued: 'cyan',
};

export const paintState = (state: string, stream: NodeJS.WriteStream = process.stdout) =>
  STATE_STYLES[state] ? paint(STATE_STYLES[state], state, stream) : state;

/** The progress bar or lines of the job being followed, on stderr. */
export const progress = createProgressDisplay(process.stderr);

/**
 * Warnings and errors on stderr, never on stdout (command output and --json stay clean); a
 * progress bar being drawn is cleared first, so a log line never lands in the middle of it.
 */
export function cliLogger(): Logger {
  const base = consoleLogger({ quiet: true });
  const clearing =
    (write: Logger['warn']): Logger['warn'] =>
    (message, fields) => {
      progress.clear();
      write(message, fields);
    };
  return { info: clearing(base.info), warn: clearing(base.warn), error: clearing(base.error) };
}

export function print(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(data, null, 2) + '\n' : human() + '\n');
}

export function describeJob(job: JobRow): string {
  return `${job.kind} ${paintState(job.state)} in ${jobDuration(job, Date.now())} (job ${job.id})`;
}

export function describeBackup(backup: BackupRow, contents: unknown): string {
  const lines = [
    `id:          ${backup.id}`,
    `file:        ${backup.fileName}`,
    `description: ${backup.description || '-'}`,
    `format:      ${backup.format}`,
    `size:        ${formatBytes(backup.sizeBytes)}`,
    `sha256:      ${backup.sha256}`,
    `created:     ${backup.createdAt.toISOString()} by ${backup.createdBy ?? '-'} (${backup.origin})`,
    `versions:    server ${backup.serverVersion ?? '?'}, pg_dump ${backup.clientVersion ?? '?'}`,
    `tables:      ${backup.tableCount ?? '?'}`,
    `verified:    ${backup.verifyStatus ? `${backup.verifyStatus} at ${backup.verifiedAt?.toISOString()}` : 'never'}`,
  ];
  if (contents && typeof contents === 'object') {
    const c = contents as { entryCount: number; schemas: string[]; archiveVersion: string | null };
    lines.push(
      `archive:     ${c.entryCount} entries, format ${c.archiveVersion ?? '?'}, schemas ${c.schemas.join(', ') || '-'}`,
    );
  }
  return lines.join('\n');
}
