import type { BackupCopyView } from '../modules/backups/copy-view.js';
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

interface ArchiveSummary {
  entryCount: number;
  schemas: string[];
  tables: string[];
  archiveVersion: string | null;
}

export function describeBackup(
  backup: BackupRow,
  contents: unknown,
  target?: { name: string; removed: boolean } | null,
): string {
  const lines = [
    `id:          ${backup.id}`,
    `target:      ${target ? `${target.name}${target.removed ? ' (removed)' : ''}` : '-'}`,
    `file:        ${backup.fileName}`,
    `description: ${backup.description || '-'}`,
    `format:      ${backup.format}`,
    `size:        ${formatBytes(backup.sizeBytes)}`,
    `sha256:      ${backup.sha256}`,
    `created:     ${backup.createdAt.toISOString()} by ${backup.createdBy ?? '-'} (${backup.origin})`,
    `source:      database ${backup.databaseName ?? '?'}`,
    `versions:    server ${backup.serverVersion ?? '?'}, pg_dump ${backup.clientVersion ?? '?'}`,
    `tables:      ${backup.tableCount ?? '?'}`,
    `verified:    ${backup.verifyStatus ? `${backup.verifyStatus} at ${backup.verifiedAt?.toISOString()}` : 'never'}`,
    `globals:     ${backup.globalsFileName ?? '-'}`,
  ];
  const c = contents && typeof contents === 'object' ? (contents as ArchiveSummary) : null;
  if (c) {
    lines.push(
      `archive:     ${c.entryCount} entries, format ${c.archiveVersion ?? '?'}, schemas ${c.schemas.join(', ') || '-'}`,
    );
  }
  // Sizes and row counts were read when the backup was made; a file from outside has only its TOC's names.
  const sized = backup.tableSizes;
  if (sized.length > 0) {
    const width = Math.max(...sized.map((t) => `${t.schema}.${t.name}`.length));
    lines.push('', 'table'.padEnd(width) + '  ' + 'size'.padStart(10) + '  ' + 'rows'.padStart(12));
    for (const t of sized) {
      const rows = typeof t.rows === 'number' && t.rows >= 0 ? `~${t.rows}` : '?';
      lines.push(
        `${`${t.schema}.${t.name}`.padEnd(width)}  ${formatBytes(t.bytes).padStart(10)}  ${rows.padStart(12)}`,
      );
    }
  } else if (c && c.tables.length > 0) {
    lines.push('', 'tables:', ...c.tables.map((name) => `  ${name}`));
  }
  return lines.join('\n');
}

/** A backup's copies, one line each: where, state, and why a failed one failed. */
export function describeCopies(copies: readonly BackupCopyView[]): string {
  if (copies.length === 0) return '\ncopies:      1 (local, from before destinations)';
  const lines = ['', 'copies:'];
  for (const copy of copies) {
    const when = copy.completedAt ? ` at ${copy.completedAt.toISOString()}` : '';
    const error = copy.errorCode ? ` [${copy.errorCode}] ${copy.errorMessage ?? ''}` : '';
    lines.push(
      `  ${copy.destination.name} (${copy.destination.kind}): ${copy.state}${when}, attempts ${copy.attempts}${error}`,
    );
  }
  return lines.join('\n');
}
